//! The runtime, driven through a hand-written `SimpleStateroomService` over real
//! sockets: rooms, recipients, binary frames, disconnects, the timer, the room
//! lifecycle and the HTTP answers.

use stateroom_test_support as support;

use futures_util::SinkExt;
use stateroom::Server;
use std::time::Duration;
use support::probe::{Probe, enter};
use support::*;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const QUIET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn broadcasts_stay_in_their_room() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut a, _) = enter(addr, "one").await;
    let (mut b, b_id) = enter(addr, "one").await;
    assert_eq!(next_text(&mut a).await, format!("joined:{b_id}"));
    let (mut c, _) = enter(addr, "two").await;

    send_text(&mut a, "all:hello").await;
    assert_eq!(next_text(&mut a).await, "hello");
    assert_eq!(next_text(&mut b).await, "hello");
    send_text(&mut b, "all:world").await;
    assert_eq!(next_text(&mut a).await, "world");
    assert_eq!(next_text(&mut b).await, "world");
    assert_silent(&mut c, QUIET).await;
}

#[tokio::test]
async fn direct_sends_and_everyone_except() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut a, a_id) = enter(addr, "r").await;
    let (mut b, b_id) = enter(addr, "r").await;
    let (mut c, c_id) = enter(addr, "r").await;
    assert_eq!(next_text(&mut a).await, format!("joined:{b_id}"));
    assert_eq!(next_text(&mut a).await, format!("joined:{c_id}"));
    assert_eq!(next_text(&mut b).await, format!("joined:{c_id}"));
    assert!(a_id > 0 && a_id != b_id && b_id != c_id && a_id != c_id);

    send_text(&mut a, &format!("to:{b_id}:psst")).await;
    assert_eq!(next_text(&mut b).await, "psst");
    send_text(&mut a, "except:not-you").await;
    assert_eq!(next_text(&mut b).await, "not-you");
    assert_eq!(next_text(&mut c).await, "not-you");
    assert_silent(&mut a, QUIET).await;
    assert_silent(&mut c, QUIET).await;

    // A client that has gone, or never existed, is a no-op.
    send_text(&mut a, "to:4000000000:nobody").await;
    send_text(&mut a, "state").await;
    assert!(next_text(&mut a).await.starts_with("instance:"));
}

#[tokio::test]
async fn binary_frames_both_ways() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut a, _) = enter(addr, "bin").await;
    let (mut b, _) = enter(addr, "bin").await;
    let _joined = next_text(&mut a).await;
    a.send(Message::binary(vec![1u8, 2, 3, 0, 255]))
        .await
        .unwrap();
    for ws in [&mut a, &mut b] {
        assert_eq!(next(ws).await, Message::binary(vec![255u8, 0, 3, 2, 1]));
    }
}

#[tokio::test]
async fn disconnect_runs_on_close_and_on_a_dropped_connection() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut watcher, _) = enter(addr, "bye").await;

    let (mut polite, polite_id) = enter(addr, "bye").await;
    assert_eq!(next_text(&mut watcher).await, format!("joined:{polite_id}"));
    polite.close(None).await.unwrap();
    assert_eq!(next_text(&mut watcher).await, format!("left:{polite_id}"));

    let (rude, rude_id) = enter(addr, "bye").await;
    assert_eq!(next_text(&mut watcher).await, format!("joined:{rude_id}"));
    // Drop the TCP connection without a close frame.
    drop(rude.into_inner());
    assert_eq!(next_text(&mut watcher).await, format!("left:{rude_id}"));
}

#[tokio::test]
async fn the_timer_fires_once_and_a_new_one_replaces_it() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut a, _) = enter(addr, "tick").await;

    send_text(&mut a, "timer:50").await;
    assert_eq!(next_text(&mut a).await, "timer");
    assert_silent(&mut a, Duration::from_millis(400)).await;

    // Set a short timer, then replace it with a longer one: only the second fires.
    send_text(&mut a, "timer:300").await;
    send_text(&mut a, "timer:1200").await;
    assert_silent(&mut a, Duration::from_millis(800)).await;
    assert_eq!(next_text(&mut a).await, "timer");
    assert_silent(&mut a, Duration::from_millis(600)).await;
}

#[tokio::test]
async fn a_room_survives_its_grace_period_then_is_freed() {
    let server = start::<Probe>(Server::new().room_grace(Duration::from_millis(1500))).await;
    let addr = server.local_addr();

    let (mut a, _) = enter(addr, "life").await;
    send_text(&mut a, "state").await;
    let first = next_text(&mut a).await;
    a.close(None).await.unwrap();
    drop(a);

    // A rejoin within the grace period finds the same instance.
    let (mut b, _) = enter(addr, "life").await;
    send_text(&mut b, "state").await;
    let again = next_text(&mut b).await;
    let instance = |state: &str| state.split(':').nth(1).unwrap().to_owned();
    assert_eq!(instance(&again), instance(&first));
    assert!(again.ends_with("messages:2"), "{again}");
    b.close(None).await.unwrap();
    drop(b);

    // Once freed, the next join builds a fresh instance.
    wait_health(addr, |h| h["rooms"] == 0 && h["connections"] == 0).await;
    let (mut c, _) = enter(addr, "life").await;
    send_text(&mut c, "state").await;
    let fresh = next_text(&mut c).await;
    assert_ne!(instance(&fresh), instance(&first));
    assert!(fresh.ends_with("messages:1"), "{fresh}");
}

#[tokio::test]
async fn http_answers() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();

    let (status, body) = get(addr, "/ws/bad%20id").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("room id"), "{body}");
    let (status, _) = get(addr, &format!("/ws/{}", "x".repeat(65))).await;
    assert_eq!(status, 400);
    let (status, _) = get(addr, "/ws/").await;
    assert_eq!(status, 400);
    let (status, _) = get(addr, "/nope").await;
    assert_eq!(status, 404);
    let (status, body) = get(addr, "/ws/lobby").await;
    assert_eq!(
        status, 426,
        "a plain GET on a room is told to upgrade: {body}"
    );
    // Upgrade headers without a key.
    let (status, _) = http(
        addr,
        "GET /ws/lobby HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = http(
        addr,
        "POST /ws/lobby HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 405);
    // Bytes that are not HTTP get a 400, not a hang.
    let (status, _) = http(addr, "\x16\x03\x01 not http at all\r\n\r\n").await;
    assert_eq!(status, 400);

    let health = health(addr).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["rooms"], 0);
    let (_a, _) = enter(addr, "counted").await;
    let health = wait_health(addr, |h| h["connections"] == 1).await;
    assert_eq!(health["rooms"], 1);
}

#[tokio::test]
async fn shutdown_delivers_queued_messages_then_closes_with_1001() {
    let server = start::<Probe>(Server::new()).await;
    let addr = server.local_addr();
    let (mut a, _) = enter(addr, "end").await;
    let (mut b, _) = enter(addr, "end").await;
    let _joined = next_text(&mut a).await;
    for i in 0..100 {
        send_text(&mut a, &format!("all:{i}")).await;
    }
    // Once `a` has its copy of the last one, every broadcast has been made;
    // `b` has read none of them yet.
    for i in 0..100 {
        assert_eq!(next_text(&mut a).await, i.to_string());
    }
    let stopping = tokio::spawn(server.shutdown());
    let mut received = Vec::new();
    let code = loop {
        match next(&mut b).await {
            Message::Text(text) => received.push(text.to_string()),
            Message::Close(frame) => break frame.map(|f| f.code),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(
        received,
        (0..100).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(code, Some(CloseCode::Away));
    assert_eq!(close_code(&mut a).await, Some(CloseCode::Away));
    drop((a, b));
    tokio::time::timeout(WAIT, stopping)
        .await
        .expect("shutdown ends in time")
        .unwrap();
}
