//! Reconnection over real sockets: resume tokens, replay of missed frames
//! (mid-burst included), expiry, refused tokens, and the rule that every
//! client gets exactly one `disconnect`, on every path.

use stateroom_test_support as support;
use stateroom_test_support::gate;

use gate::{Gate, Session, count, events, say, wait_count};
use serde_json::json;
use stateroom::{ResumeRefused, Server, ServerHandle};
use std::time::Duration;
use support::*;
use tokio::io::AsyncWriteExt;

fn reconnecting(window: Duration) -> Server {
    Server::new().reconnect_window(window)
}

/// Asks `session` (ada) who is in the room: (client, connected) pairs.
async fn who(session: &mut Session) -> Vec<(u64, bool)> {
    session.send(json!({"type": "who"})).await;
    let who = session.until(|v| v["type"] == "who").await;
    who["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_u64().unwrap(), c[2].as_bool().unwrap()))
        .collect()
}

/// Waits until ada's view says `client` is held (in the room, not connected).
async fn wait_held(ada: &mut Session, client: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !who(ada).await.contains(&(client, false)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{client} never held"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn id(session: &Session) -> u64 {
    u64::from(u32::from(session.frame.client))
}

#[tokio::test]
async fn a_resume_mid_burst_keeps_the_client_and_replays_every_missed_frame_once() {
    let server = start::<Gate>(reconnecting(Duration::from_secs(30))).await;
    let addr = server.local_addr();
    let room = "midburst";
    let mut ada = Session::open(addr, room, "ada-token").await;
    assert!(!ada.frame.resumed);
    let ada_id = id(&ada);
    assert_eq!(ada.next().await["type"], "hello");
    let mut bob = Session::open(addr, room, "bob-token").await;
    assert_eq!(bob.next().await["type"], "hello");

    bob.send(json!({"type": "burst", "n": 100})).await;
    // Ada reads 40 of the 100, then her network goes away.
    for n in 1..=40 {
        assert_eq!(ada.next().await, json!({"type": "n", "n": n}));
    }
    let (frame, ack) = ada.vanish();
    assert_eq!(ack, 41, "hello and 40 numbers");
    for n in 1..=100 {
        assert_eq!(bob.next().await["n"], n);
    }
    wait_held(&mut bob, ada_id).await;
    bob.send(say("while you were away")).await;
    assert_eq!(bob.next().await["text"], "while you were away");

    let mut ada = Session::resume(addr, room, "ada-token", &frame.token, ack).await;
    assert!(ada.frame.resumed, "{:?}", ada.frame);
    assert_eq!(id(&ada), ada_id, "the same ClientId");
    assert_eq!(ada.frame.replayed, 61);
    assert_ne!(
        ada.frame.token, frame.token,
        "a fresh token for the next resume"
    );
    for n in 41..=100 {
        assert_eq!(ada.next().await, json!({"type": "n", "n": n}));
    }
    assert_eq!(ada.next().await["text"], "while you were away");
    assert_eq!(bob.next().await, json!({"type": "back", "client": ada_id}));
    // Live again: nothing twice, nothing missing.
    bob.send(say("welcome back")).await;
    assert_eq!(ada.next().await["text"], "welcome back");
    assert_eq!(ada.ack, 41 + 61 + 1);
    let log = events(room);
    assert_eq!(count(room, &format!("connect:{ada_id}")), 1, "{log:?}");
    assert_eq!(count(room, &format!("reconnect:{ada_id}")), 1, "{log:?}");
    assert_eq!(count(room, &format!("disconnect:{ada_id}")), 0, "{log:?}");
    assert_eq!(who(&mut bob).await, [(ada_id, true), (id(&bob), true)]);
}

#[tokio::test]
async fn a_resume_while_the_old_connection_is_open_takes_it_over() {
    let server = start::<Gate>(reconnecting(Duration::from_secs(30))).await;
    let addr = server.local_addr();
    let room = "takeover";
    let mut old = Session::open(addr, room, "ada-token").await;
    let _hello = old.next().await;
    // A phone switching networks: the new connection arrives before the
    // server has noticed the old one is gone.
    let mut new = Session::resume(addr, room, "ada-token", &old.frame.token, old.ack).await;
    assert!(new.frame.resumed);
    assert_eq!(new.frame.client, old.frame.client);
    assert_eq!(new.frame.replayed, 0);
    let close = close_code(&mut old.ws).await;
    assert_eq!(
        close,
        Some(tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal)
    );
    new.send(say("from the new one")).await;
    assert_eq!(new.next().await["text"], "from the new one");
    let ada = old.frame.client;
    wait_count(room, &format!("reconnect:{ada}"), 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        count(room, &format!("disconnect:{ada}")),
        0,
        "{:?}",
        events(room)
    );
}

#[tokio::test]
async fn a_resume_after_the_window_is_a_new_client_and_the_old_one_left_once() {
    let server = start::<Gate>(reconnecting(Duration::from_millis(300))).await;
    let addr = server.local_addr();
    let room = "expired";
    let mut ada = Session::open(addr, room, "ada-token").await;
    let _hello = ada.next().await;
    let ada_id = ada.frame.client;
    let (frame, ack) = ada.vanish();
    wait_count(room, &format!("disconnect:{ada_id}"), 1).await;
    let again = Session::resume(addr, room, "ada-token", &frame.token, ack).await;
    assert!(!again.frame.resumed);
    assert_eq!(again.frame.refused, Some(ResumeRefused::UnknownToken));
    assert_ne!(again.frame.client, ada_id);
    wait_count(room, &format!("connect:{}", again.frame.client), 1).await;
    assert_eq!(count(room, &format!("disconnect:{ada_id}")), 1);
}

#[tokio::test]
async fn forged_reused_malformed_and_other_room_tokens_are_refused_with_a_reason() {
    let server = start::<Gate>(reconnecting(Duration::from_secs(30))).await;
    let addr = server.local_addr();
    let room = "tokens";
    let mut ada = Session::open(addr, room, "ada-token").await;
    let _hello = ada.next().await;
    let (first, ack) = ada.vanish();
    let mut forged = first.token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let cases: [(&str, &str, ResumeRefused); 3] = [
        (room, &forged, ResumeRefused::InvalidToken),
        (room, "not-a-token", ResumeRefused::MalformedToken),
        ("elsewhere", &first.token, ResumeRefused::UnknownToken),
    ];
    for (in_room, token, why) in cases {
        let session = Session::resume(addr, in_room, "bob-token", token, ack).await;
        assert!(!session.frame.resumed, "{token}");
        assert_eq!(session.frame.refused, Some(why), "{token}");
        assert_ne!(session.frame.client, first.client);
    }
    // The genuine token still works (a forged one did not spend it)...
    let resumed = Session::resume(addr, room, "ada-token", &first.token, ack).await;
    assert!(resumed.frame.resumed);
    // ...and again, as a client whose answer (the session frame with the
    // next token) was lost to a cut would try it...
    let (_, ack) = resumed.vanish();
    let retried = Session::resume(addr, room, "ada-token", &first.token, ack).await;
    assert!(retried.frame.resumed, "{:?}", retried.frame);
    assert_eq!(retried.frame.client, first.client);
    // ...until the session is resumed with its successor: then it is spent.
    let (next, ack) = retried.vanish();
    let newer = Session::resume(addr, room, "ada-token", &next.token, ack).await;
    assert!(newer.frame.resumed);
    let (latest, ack) = newer.vanish();
    let reused = Session::resume(addr, room, "ada-token", &first.token, ack).await;
    assert_eq!(reused.frame.refused, Some(ResumeRefused::InvalidToken));
    // An ack past what was ever sent is refused and ends the session.
    let lying = Session::resume(addr, room, "ada-token", &latest.token, 1000).await;
    assert_eq!(lying.frame.refused, Some(ResumeRefused::BadAck));
    wait_count(room, &format!("disconnect:{}", first.client), 1).await;
}

#[tokio::test]
async fn frames_beyond_the_resume_buffer_end_the_session() {
    let server = start::<Gate>(
        reconnecting(Duration::from_secs(30))
            .max_resume_messages(5)
            .max_resume_bytes(1 << 20),
    )
    .await;
    let addr = server.local_addr();
    let room = "lost";
    // Away while more than the buffer is sent: the session ends at once.
    let mut ada = Session::open(addr, room, "ada-token").await;
    let _hello = ada.next().await;
    let ada_id = id(&ada);
    let mut bob = Session::open(addr, room, "bob-token").await;
    let _hello = bob.next().await;
    let (frame, ack) = ada.vanish();
    wait_held(&mut bob, ada_id).await;
    bob.send(json!({"type": "burst", "n": 6})).await;
    wait_count(room, &format!("disconnect:{ada_id}"), 1).await;
    let again = Session::resume(addr, room, "ada-token", &frame.token, ack).await;
    assert_eq!(again.frame.refused, Some(ResumeRefused::UnknownToken));

    // Connected but behind: the ack falls before what is kept.
    let mut carol = Session::open(addr, room, "bob-token").await;
    let carol_id = id(&carol);
    let _hello = carol.next().await;
    bob.send(json!({"type": "burst", "n": 10})).await;
    let (frame, ack) = carol.vanish();
    let again = Session::resume(addr, room, "bob-token", &frame.token, ack).await;
    assert_eq!(again.frame.refused, Some(ResumeRefused::FramesLost));
    wait_count(room, &format!("disconnect:{carol_id}"), 1).await;
}

/// Every way a client can leave, and whether its seat is held first.
#[derive(Debug, Clone, Copy)]
enum Path {
    CleanClose,
    DroppedTcp,
    HeartbeatTimeout,
    Kick,
    Backpressure,
    ProtocolError,
    ResumeThenClose,
    Shutdown,
}

/// Runs `path` for one subject client in a room of its own and returns the
/// subject's id. The server holds seats for `window` (zero: off).
async fn leave_by(path: Path, window: Duration, room: &str) -> (ServerHandle, u64) {
    let mut server = Server::new()
        .reconnect_window(window)
        .max_queued_messages(16)
        .max_queued_bytes(1 << 20);
    if matches!(path, Path::HeartbeatTimeout) {
        server = server
            .heartbeat_interval(Duration::from_millis(50))
            .heartbeat_timeout(Duration::from_millis(200));
    }
    let server = start::<Gate>(server).await;
    let addr = server.local_addr();
    let held = !window.is_zero();
    let subject = match path {
        Path::HeartbeatTimeout | Path::ProtocolError => {
            // A raw client: never answers pings, and can send a bad frame.
            let mut tcp = raw_upgrade(addr, &format!("{room}?token=bob-token")).await;
            if matches!(path, Path::ProtocolError) {
                // An unmasked client frame: 1002.
                let frame = raw_frame(0x81, b"{}", false);
                tcp.write_all(&frame).await.unwrap();
                assert_eq!(raw_close_code(&mut tcp).await, Some(1002));
            } else {
                // Hold the socket open, silent, until the heartbeat gives up.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    drop(tcp);
                });
            }
            return (server, subject_of(room, "connect:").await);
        }
        _ => Session::open(addr, room, "bob-token").await,
    };
    let subject_id = id(&subject);
    match path {
        Path::CleanClose => subject.close().await,
        Path::DroppedTcp => {
            subject.vanish();
            if held {
                expect_held(room, subject_id).await;
            }
        }
        Path::Kick => {
            let mut ada = Session::open(addr, room, "ada-token").await;
            ada.send(json!({"type": "kick", "target": subject_id}))
                .await;
            drain(subject).await;
        }
        Path::Backpressure => {
            // 400 × 64 KiB to a client that never reads.
            let mut ada = Session::open(addr, room, "ada-token").await;
            let flood = json!({"type": "flood", "target": subject_id, "n": 400, "size": 65536});
            ada.send(flood).await;
            wait_count(room, &format!("disconnect:{subject_id}"), 1).await;
            drop(subject);
        }
        Path::ResumeThenClose => {
            let (frame, ack) = subject.vanish();
            if held {
                expect_held(room, subject_id).await;
            }
            let again = Session::resume(addr, room, "bob-token", &frame.token, ack).await;
            assert_eq!(again.frame.resumed, held);
            if held {
                assert_eq!(count(room, &format!("disconnect:{subject_id}")), 0);
            }
            again.close().await;
        }
        Path::Shutdown => {
            // One held seat too (when on): both get their one disconnect.
            let other = Session::open(addr, room, "ada-token").await;
            let other_id = id(&other);
            other.vanish();
            if held {
                expect_held(room, other_id).await;
            }
            let shutdown = tokio::spawn(server.shutdown());
            drain(subject).await;
            shutdown.await.unwrap();
            wait_count(room, &format!("disconnect:{other_id}"), 1).await;
            let fresh = start::<Gate>(Server::new()).await;
            return (fresh, subject_id);
        }
        Path::HeartbeatTimeout | Path::ProtocolError => unreachable!(),
    }
    (server, subject_id)
}

/// The client id of the first `prefix…` event in `room`.
async fn subject_of(room: &str, prefix: &str) -> u64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(event) = events(room).iter().find(|e| e.starts_with(prefix)) {
            return event[prefix.len()..].parse().unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {prefix} in {room}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads until the server closes the connection (answering its close).
async fn drain(mut session: Session) {
    while let Ok(Some(Ok(_))) =
        tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut session.ws)).await
    {}
}

/// With reconnection on, a dropped client is held: no `disconnect` yet.
async fn expect_held(room: &str, client: u64) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        count(room, &format!("disconnect:{client}")),
        0,
        "held, not gone: {:?}",
        events(room)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_out_runs_disconnect_exactly_once() {
    let paths = [
        Path::CleanClose,
        Path::DroppedTcp,
        Path::HeartbeatTimeout,
        Path::Kick,
        Path::Backpressure,
        Path::ProtocolError,
        Path::ResumeThenClose,
        Path::Shutdown,
    ];
    for (window, label) in [(Duration::ZERO, "off"), (Duration::from_millis(400), "on")] {
        for path in paths {
            let room = format!("once-{path:?}-{label}");
            let (_server, subject) = leave_by(path, window, &room).await;
            let event = format!("disconnect:{subject}");
            wait_count(&room, &event, 1).await;
            // Past the reconnection window and the close grace: still once.
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert_eq!(
                count(&room, &event),
                1,
                "{path:?} with reconnection {label}: {:?}",
                events(&room)
            );
        }
    }
}
