//! Faults injected on purpose: stalled, silent, oversized, abusive and panicking
//! clients and services. The room and every other client must carry on.

use stateroom_test_support as support;

use futures_util::SinkExt;
use stateroom::Server;
use std::time::Duration;
use support::probe::{Probe, enter};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Reads `ws` until the numbered message `last`, checking order, and returns the
/// other (non-numbered) texts seen on the way.
async fn read_numbered(ws: &mut Ws, from: u32, to: u32) -> Vec<String> {
    let mut others = Vec::new();
    let mut expected = from;
    while expected < to {
        let text = next_text(ws).await;
        match text.get(..8).and_then(|seq| seq.parse::<u32>().ok()) {
            Some(seq) => {
                assert_eq!(seq, expected, "out of order or lost");
                expected += 1;
            }
            None => others.push(text),
        }
    }
    others
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_is_closed_and_the_others_get_everything_in_order() {
    let server = start::<Probe>(
        Server::new()
            .max_queued_messages(64)
            .max_queued_bytes(1 << 20),
    )
    .await;
    let addr = server.local_addr();
    let (mut stalled, stalled_id) = enter(addr, "flood").await;
    let (mut a, _) = enter(addr, "flood").await;
    let (mut b, b_id) = enter(addr, "flood").await;
    assert_eq!(next_text(&mut a).await, format!("joined:{b_id}"));
    // `stalled` never reads again. 10,000 × 4 KiB = 40 MB: far past what the
    // kernel's socket buffers and its 64-message queue can hold.
    let mut left = Vec::new();
    for batch in 0..200 {
        send_text(&mut a, "flood:50:4096").await;
        for ws in [&mut a, &mut b] {
            left.extend(read_numbered(ws, 0, 50).await);
        }
        if batch == 0 {
            assert!(left.is_empty());
        }
    }
    // Both watchers saw the stalled client leave (its `disconnect` ran)...
    let gone = format!("left:{stalled_id}");
    while left.iter().filter(|t| **t == gone).count() < 2 {
        let more = [next_text(&mut a).await, next_text(&mut b).await];
        left.extend(more);
    }
    assert!(left.iter().all(|t| *t == gone), "{left:?}");
    // ...and it is closed: 1008 once it reads again, or dropped if it waited
    // longer than the close grace.
    let code = close_code(&mut stalled).await;
    assert!(matches!(code, Some(CloseCode::Policy) | None), "{code:?}");
    let health = wait_health(addr, |h| h["connections"] == 2).await;
    assert_eq!(health["rooms"], 1);
}

/// A reader that stops for longer than the default grace (a phone app sent
/// to the background, a tab in a throttled window) on a server that gives it
/// longer: its socket refuses bytes for over a second while 40 MB queue up,
/// and it is kept and gets every message, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_pauses_within_its_grace_is_kept() {
    let server = start::<Probe>(
        Server::new()
            .max_queued_messages(64)
            .max_queued_bytes(1 << 20)
            .slow_reader_grace(Duration::from_secs(30))
            .hard_queue_multiple(1000),
    )
    .await;
    let addr = server.local_addr();
    let (mut paused, _) = enter(addr, "pause").await;
    let (mut a, a_id) = enter(addr, "pause").await;
    assert_eq!(next_text(&mut paused).await, format!("joined:{a_id}"));
    for _ in 0..200 {
        send_text(&mut a, "flood:50:4096").await;
        assert!(read_numbered(&mut a, 0, 50).await.is_empty());
    }
    // Past the default 500 ms with nothing read.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..200 {
        assert!(read_numbered(&mut paused, 0, 50).await.is_empty());
    }
    assert_eq!(health(addr).await["connections"], 2);
}

/// A room offered far more than its clients' queues hold, every reader fast
/// (the server is behind, not they): the room stops taking events until the
/// queues drain (its sender's reads wait, and TCP slows it), nobody is
/// closed, and every reader gets every message, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_offered_more_than_it_can_flush_pauses_and_closes_nobody() {
    const READERS: usize = 20;
    const MESSAGES: u32 = 3_000;
    let server = start::<Probe>(
        Server::new()
            .max_queued_messages(32)
            .max_queued_bytes(1 << 20),
    )
    .await;
    let addr = server.local_addr();
    let (mut sender, _) = enter(addr, "burst").await;
    let mut readers = Vec::new();
    for _ in 0..READERS {
        readers.push(enter(addr, "burst").await.0);
    }
    let readers: Vec<_> = readers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let others = read_numbered(&mut ws, 0, MESSAGES).await;
                (ws, others)
            })
        })
        .collect();
    // Each message is one event that puts a frame in 21 queues of 32: the
    // room produces far faster than 21 connections flush.
    for seq in 0..MESSAGES {
        sender
            .feed(Message::text(format!("all:{seq:08}")))
            .await
            .unwrap();
    }
    sender.flush().await.unwrap();
    let mut others = read_numbered(&mut sender, 0, MESSAGES).await;
    let mut open = Vec::new();
    for reader in readers {
        let (ws, seen) = reader.await.unwrap();
        others.extend(seen);
        open.push(ws);
    }
    assert!(
        others.iter().all(|text| text.starts_with("joined:")),
        "nobody left: {others:?}"
    );
    let health = wait_health(addr, |h| h["connections"] == READERS + 1).await;
    assert_eq!(health["rooms"], 1);
    // The pause is what kept them: it happened, and nothing was dropped.
    let (_, metrics) = get(addr, "/metrics").await;
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} not in {metrics}"))
    };
    assert!(
        value("stateroom_backpressure_pauses_total ") > 0,
        "{metrics}"
    );
    assert_eq!(value("stateroom_backpressure_dropped_frames_total "), 0);
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let server = start::<Probe>(Server::new().max_message_size(1024)).await;
    let addr = server.local_addr();
    let (mut big, big_id) = enter(addr, "size").await;
    let (mut other, _) = enter(addr, "size").await;
    let _joined = next_text(&mut big).await;
    big.send(Message::text("x".repeat(1025))).await.unwrap();
    assert_eq!(close_code(&mut big).await, Some(CloseCode::Size));
    assert_eq!(next_text(&mut other).await, format!("left:{big_id}"));
    // Exactly at the limit is fine.
    send_text(&mut other, &format!("all:{}", "y".repeat(1020))).await;
    assert_eq!(next_text(&mut other).await.len(), 1020);
}

/// The HTTP status of a refused WebSocket handshake.
async fn refused_status(addr: std::net::SocketAddr, room: &str) -> u16 {
    match tokio_tungstenite::connect_async(format!("ws://{addr}/ws/{room}")).await {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the join to {room} was accepted"),
    }
}

#[tokio::test]
async fn joins_over_the_limits_are_refused_with_503() {
    let server = start::<Probe>(
        Server::new()
            .max_clients_per_room(2)
            .max_rooms(2)
            .max_connections(3),
    )
    .await;
    let addr = server.local_addr();
    let _a = enter(addr, "one").await;
    let _b = enter(addr, "one").await;
    assert_eq!(refused_status(addr, "one").await, 503, "room full");
    let _c = enter(addr, "two").await;
    assert_eq!(
        refused_status(addr, "three").await,
        503,
        "too many connections"
    );
    drop(_c);
    wait_health(addr, |h| h["connections"] == 2).await;
    let _c = enter(addr, "two").await;
    let _ = wait_health(addr, |h| h["rooms"] == 2).await;
    // Three connections again: both the room and connection limits refuse.
    assert_eq!(refused_status(addr, "three").await, 503);
}

#[tokio::test]
async fn too_many_rooms_are_refused_with_503() {
    let server = start::<Probe>(Server::new().max_rooms(1)).await;
    let addr = server.local_addr();
    let _a = enter(addr, "only").await;
    assert_eq!(refused_status(addr, "another").await, 503);
    let _b = enter(addr, "only").await;
}

#[tokio::test]
async fn a_silent_client_is_dropped_after_the_heartbeat_timeout() {
    let server = start::<Probe>(
        Server::new()
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(500)),
    )
    .await;
    let addr = server.local_addr();
    let (mut watcher, _) = enter(addr, "hb").await;
    // A client that completes the handshake and then never answers a ping.
    let _silent = raw_upgrade(addr, "hb").await;
    let joined = next_text(&mut watcher).await;
    let silent_id = joined.strip_prefix("joined:").expect("joined").to_owned();
    // The watcher reads (and so answers pings) the whole time: it stays.
    assert_eq!(next_text(&mut watcher).await, format!("left:{silent_id}"));
    assert_silent(&mut watcher, Duration::from_millis(1200)).await;
    send_text(&mut watcher, "state").await;
    assert!(next_text(&mut watcher).await.starts_with("instance:"));
}

#[tokio::test]
async fn a_panicking_hook_resets_only_its_room() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut doomed, _) = enter(addr, "doomed").await;
    let (mut bystander, _) = enter(addr, "doomed").await;
    let (mut elsewhere, _) = enter(addr, "fine").await;
    assert!(next_text(&mut doomed).await.starts_with("joined:"));
    send_text(&mut doomed, "state").await;
    let before = next_text(&mut doomed).await;
    assert!(before.starts_with("instance:"), "{before}");

    send_text(&mut doomed, "panic").await;
    assert_eq!(close_code(&mut doomed).await, Some(CloseCode::Error));
    assert_eq!(close_code(&mut bystander).await, Some(CloseCode::Error));

    // Other rooms keep serving.
    send_text(&mut elsewhere, "all:still here").await;
    assert_eq!(next_text(&mut elsewhere).await, "still here");
    // The next join to the failed id builds a fresh instance.
    let (mut again, _) = enter(addr, "doomed").await;
    send_text(&mut again, "state").await;
    let after = next_text(&mut again).await;
    assert_ne!(before.split(':').nth(1), after.split(':').nth(1));
    assert!(after.ends_with("messages:1"), "{after}");
}

/// Sends one raw frame and returns the close code the server answers with.
async fn close_code_for(frame: Vec<u8>) -> Option<u16> {
    let server = start::<Probe>(Server::new()).await;
    let mut tcp = raw_upgrade(server.local_addr(), "abuse").await;
    tcp.write_all(&frame).await.unwrap();
    raw_close_code(&mut tcp).await
}

#[tokio::test]
async fn protocol_violations_get_the_rfc_6455_close_code() {
    // Text, FIN, invalid UTF-8.
    assert_eq!(
        close_code_for(raw_frame(0x81, b"\xff\xfe", true)).await,
        Some(1007)
    );
    // An unmasked client frame.
    assert_eq!(
        close_code_for(raw_frame(0x81, b"hello", false)).await,
        Some(1002)
    );
    // Reserved opcodes (data 0x3, control 0xB).
    assert_eq!(close_code_for(raw_frame(0x83, b"", true)).await, Some(1002));
    assert_eq!(close_code_for(raw_frame(0x8B, b"", true)).await, Some(1002));
    // A reserved bit without an extension that defines it.
    assert_eq!(
        close_code_for(raw_frame(0xC1, b"hi", true)).await,
        Some(1002)
    );
    // A fragmented control frame (ping without FIN).
    assert_eq!(close_code_for(raw_frame(0x09, b"", true)).await, Some(1002));
    // A close frame with a code no one may send.
    assert_eq!(
        close_code_for(raw_frame(0x88, &999u16.to_be_bytes(), true)).await,
        Some(1002)
    );
    // A continuation frame with nothing to continue.
    assert_eq!(
        close_code_for(raw_frame(0x80, b"x", true)).await,
        Some(1002)
    );
}

#[tokio::test]
async fn invalid_utf8_does_not_harm_the_room() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut good, _) = enter(addr, "utf8").await;
    let mut bad = raw_upgrade(addr, "utf8").await;
    let joined = next_text(&mut good).await;
    bad.write_all(&raw_frame(0x81, b"ok \xc3\x28", true))
        .await
        .unwrap();
    assert_eq!(raw_close_code(&mut bad).await, Some(1007));
    let id = joined.strip_prefix("joined:").unwrap();
    assert_eq!(next_text(&mut good).await, format!("left:{id}"));
    send_text(&mut good, "state").await;
    assert!(next_text(&mut good).await.ends_with("messages:1"));
}

#[tokio::test]
async fn replies_to_messages_before_a_violation_are_delivered_before_the_close() {
    let server = start::<Probe>(Server::new()).await;
    let mut tcp = raw_upgrade(server.local_addr(), "order").await;
    let mut bytes = raw_frame(0x81, b"all:first", true);
    bytes.extend(raw_frame(0x81, b"all:second", true));
    bytes.extend(raw_frame(0x85, b"", true)); // reserved opcode 5
    tcp.write_all(&bytes).await.unwrap();
    let (data, code) = raw_read_until_close(&mut tcp).await;
    let texts: Vec<String> = data
        .into_iter()
        .map(|d| String::from_utf8(d).unwrap())
        .collect();
    assert_eq!(
        texts[1..],
        ["first".to_owned(), "second".to_owned()],
        "{texts:?}"
    );
    assert!(texts[0].starts_with("you:"));
    assert_eq!(code, Some(1002));
}
