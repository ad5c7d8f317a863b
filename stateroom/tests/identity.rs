//! Who is in the room, over real sockets: the `join` hook (query token,
//! `Authorization` header, 401/403 before any socket), per-client data in
//! later hooks, kicks, the Origin allow-list, the `invalid` hook and the
//! application's own error frames.

use stateroom_test_support as support;
use stateroom_test_support::gate;

use gate::{Gate, count, enter, events, open, say, wait_count};
use serde_json::json;
use stateroom::{ErrorCode, ErrorFrame, Server};
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn a_rejected_join_gets_its_status_and_body_and_no_hook_runs() {
    let server = start::<Gate>(Server::new()).await;
    let addr = server.local_addr();
    let room = "reject";
    assert_eq!(
        open(addr, room, &[]).await.err(),
        Some((401, "a token is required\n".into()))
    );
    assert_eq!(
        open(addr, &format!("{room}?token=banned"), &[]).await.err(),
        Some((403, "you are banned from this room\n".into()))
    );
    // Also over plain HTTP: the refusal is an ordinary response.
    let (status, body) = http(
        addr,
        &format!(
            "GET /ws/{room}?token=wrong HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (401, "a token is required\n"));
    // The hook decided three times; nothing else ran.
    assert_eq!(events(room), ["join", "join", "join"]);
    assert_eq!(health(addr).await["connections"], 0);
}

#[tokio::test]
async fn a_query_token_and_a_bearer_header_both_identify_the_client() {
    let server = start::<Gate>(Server::new()).await;
    let addr = server.local_addr();
    let mut ada = open(addr, "ids?token=ada-token", &[]).await.unwrap();
    let hello = next_json(&mut ada).await;
    assert_eq!(hello["name"], "ada");
    assert_eq!(
        hello["room"], "ids",
        "the room id is readable in every hook"
    );
    let mut bob = open(addr, "ids", &[("authorization", "Bearer bob-token")])
        .await
        .unwrap();
    let bob_id = next_json(&mut bob).await["you"].clone();
    // The data is there in `message`...
    send_text(&mut bob, &say("hi").to_string()).await;
    for ws in [&mut ada, &mut bob] {
        assert_eq!(
            next_json(ws).await,
            json!({"type": "said", "name": "bob", "text": "hi"})
        );
    }
    // ...and in `disconnect`.
    drop(bob);
    assert_eq!(
        next_json(&mut ada).await,
        json!({"type": "left", "client": bob_id, "name": "bob"})
    );
}

#[tokio::test]
async fn a_kicked_client_gets_earlier_frames_then_the_close_and_one_disconnect() {
    let server = start::<Gate>(Server::new()).await;
    let addr = server.local_addr();
    let room = "kick";
    let (mut ada, _) = enter(addr, room, "ada-token").await;
    let (mut bob, bob_id) = enter(addr, room, "bob-token").await;
    let bob_id = bob_id.as_u64().unwrap();
    let (mut carol, _) = enter(addr, room, "bob-token").await;

    // Bob is no admin: he gets an error frame in the framework's shape.
    send_text(&mut bob, &json!({"type": "kick", "target": 1}).to_string()).await;
    let error = ErrorFrame::from_json(&next_text(&mut bob).await).expect("an error frame");
    assert_eq!(error.code, ErrorCode::App("not_admin".into()));

    // A burst first, then the kick: bob gets all of it, then "bye", then the close.
    send_text(&mut ada, &json!({"type": "burst", "n": 20}).to_string()).await;
    send_text(
        &mut ada,
        &json!({"type": "kick", "target": bob_id}).to_string(),
    )
    .await;
    for n in 1..=20 {
        assert_eq!(next_json(&mut bob).await, json!({"type": "n", "n": n}));
    }
    assert_eq!(
        next_json(&mut bob).await,
        json!({"type": "bye", "by": "ada"})
    );
    match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut bob))
        .await
        .unwrap()
    {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 4001);
            assert_eq!(frame.reason.as_str(), "kicked by ada");
        }
        other => panic!("expected the kick's close frame, got {other:?}"),
    }
    // Reading on answers the close, so the server need not wait for it.
    while let Ok(Some(Ok(_))) =
        tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut bob)).await
    {}
    // The others saw the burst and bob leave, once.
    for ws in [&mut ada, &mut carol] {
        for n in 1..=20 {
            assert_eq!(next_json(ws).await["n"], n);
        }
        let left = next_json(ws).await;
        assert_eq!(
            left,
            json!({"type": "left", "client": bob_id, "name": "bob"})
        );
    }
    let bob_gone = format!("disconnect:{bob_id}");
    wait_health(addr, |h| h["connections"] == 2).await;
    assert_eq!(count(room, &bob_gone), 1);
    // Carol carries on.
    send_text(&mut carol, &say("still here").to_string()).await;
    assert_eq!(next_json(&mut ada).await["text"], "still here");
}

#[tokio::test]
async fn the_origin_allow_list_refuses_other_sites_before_the_upgrade() {
    let allowed = Server::new().allowed_origins(["https://good.example"]);
    let server = start::<Gate>(allowed).await;
    let addr = server.local_addr();
    let room = "origin?token=ada-token";
    assert_eq!(
        open(addr, room, &[("origin", "https://evil.example")])
            .await
            .err(),
        Some((403, "this origin may not open a socket here\n".into()))
    );
    assert!(
        open(addr, room, &[("origin", "https://good.example")])
            .await
            .is_ok()
    );
    assert!(
        open(addr, room, &[("origin", "HTTPS://GOOD.EXAMPLE/")])
            .await
            .is_ok(),
        "origins compare case-insensitively"
    );
    // Not from a browser page: no Origin, nothing to hijack.
    assert!(open(addr, room, &[]).await.is_ok());
    // Refused before the room was asked: only the three joins above ran.
    assert_eq!(count("origin", "join"), 3);

    // With the list off (the default), any origin joins.
    let open_server = start::<Gate>(Server::new()).await;
    let origin = [("origin", "https://evil.example")];
    assert!(open(open_server.local_addr(), room, &origin).await.is_ok());
}

#[tokio::test]
async fn the_invalid_hook_sees_rejected_frames_and_can_throttle_the_sender() {
    let server = start::<Gate>(Server::new()).await;
    let addr = server.local_addr();
    let room = "abuse";
    let (mut ada, _) = enter(addr, room, "ada-token").await;
    let (mut bob, bob_id) = enter(addr, room, "bob-token").await;
    let bad = [
        "{not json",
        r#"{"type":"shout"}"#,
        r#"{"type":"say","text":5}"#,
    ];
    let codes = [
        ErrorCode::InvalidJson,
        ErrorCode::InvalidMessage,
        ErrorCode::InvalidMessage,
    ];
    for (frame, code) in bad.iter().zip(codes) {
        send_text(&mut bob, frame).await;
        let error = ErrorFrame::from_json(&next_text(&mut bob).await).expect("an error frame");
        assert_eq!(error.code, code);
    }
    // The third strike closes bob with the service's code.
    assert_eq!(close_code(&mut bob).await, Some(CloseCode::from(4002)));
    assert_eq!(next_json(&mut ada).await["client"], bob_id);
    let log = events(room);
    let strikes: Vec<_> = log.iter().filter(|e| e.starts_with("invalid:")).collect();
    assert_eq!(
        strikes,
        [
            &format!("invalid:{bob_id}:invalid_json"),
            &format!("invalid:{bob_id}:invalid_message"),
            &format!("invalid:{bob_id}:invalid_message"),
        ]
    );
    wait_count(room, &format!("disconnect:{bob_id}"), 1).await;
    // The application's own error codes travel in the same shape.
    send_text(&mut ada, r#"{"type":"oops"}"#).await;
    let error = ErrorFrame::from_json(&next_text(&mut ada).await).expect("an error frame");
    assert_eq!(error.code.as_str(), "not_your_turn");
    assert_eq!(error.message, "wait for your turn");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(count(room, &format!("disconnect:{bob_id}")), 1);
}

/// The slow `join` below blocks its worker until the test releases it, on
/// purpose: the server gets a runtime of its own with workers to spare, so that the test's
/// own requests are never stuck behind it.
#[test]
fn a_client_that_hangs_up_while_its_room_decides_gives_its_place_back() {
    use tokio::io::AsyncWriteExt;
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let server = server_runtime.block_on(start::<Gate>(Server::new().max_connections(1)));
    let addr = server.local_addr();
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_runtime.block_on(async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = "GET /ws/hangup?token=slow HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n\
                       Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        tcp.write_all(request.as_bytes()).await.unwrap();
        wait_count("hangup", "join", 1).await;
        assert_eq!(health(addr).await["connections"], 1, "the place is claimed");
        // Hang up while the room is still deciding.
        drop(tcp);
        // Given back: the one-connection server takes the next client.
        // (The room is still deciding: the place comes back with the hang-up.)
        wait_health(addr, |h| h["connections"] == 0).await;
        gate::SLOW_JOIN_RELEASED.store(true, std::sync::atomic::Ordering::SeqCst);
        let (_ada, _) = enter(addr, "hangup", "ada-token").await;
    });
}
