//! Running it in production: the metrics after a scripted session (parsed
//! and asserted to exact values), `/readyz` during shutdown and at the
//! connection limit, and the admin listener (separate, token-protected).

use stateroom_test_support as support;
use stateroom_test_support::gate;

use futures_util::StreamExt;
use gate::{Gate, enter, open, say, wait_count};
use serde_json::json;
use stateroom::Server;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

/// `GET path` with extra headers; the status and body.
async fn get_with(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    http(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}\r\n"),
    )
    .await
}

/// The exposition text as `name{labels}` → value (comments skipped).
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "not OpenMetrics text: {text}");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').expect("`name value`");
            (name.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    parse_metrics(&body)
}

/// Polls `/metrics` until every `expected` value holds (rooms hand over their
/// counts right after each event), then returns the last scrape.
async fn wait_metrics(addr: SocketAddr, expected: &[(&str, f64)]) -> BTreeMap<String, f64> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = scrape(addr).await;
        let wrong: Vec<_> = expected
            .iter()
            .filter(|(name, value)| metrics.get(*name) != Some(value))
            .map(|(name, value)| format!("{name}: {:?}, expected {value}", metrics.get(*name)))
            .collect();
        if wrong.is_empty() {
            return metrics;
        }
        assert!(tokio::time::Instant::now() < deadline, "{wrong:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_scripted_session_exactly() {
    let server = start::<Gate>(
        Server::new()
            .max_queued_messages(16)
            .max_queued_bytes(1 << 20),
    )
    .await;
    let addr = server.local_addr();
    let room = "metered";
    // One refused join, two members, one message to both, one bad frame.
    assert_eq!(open(addr, room, &[]).await.err().map(|e| e.0), Some(401));
    let (mut ada, _) = enter(addr, room, "ada-token").await;
    let (mut bob, bob_id) = enter(addr, room, "bob-token").await;
    let said = say("hi").to_string();
    send_text(&mut bob, &said).await;
    for ws in [&mut ada, &mut bob] {
        assert_eq!(next_json(ws).await["text"], "hi");
    }
    send_text(&mut bob, "{oops").await;
    assert!(next_text(&mut bob).await.contains("invalid_json"));
    // Ada kicks bob: "bye" to bob, then "left" to ada.
    send_text(
        &mut ada,
        &json!({"type": "kick", "target": bob_id}).to_string(),
    )
    .await;
    while let Some(Ok(_)) = tokio::time::timeout(WAIT, bob.next()).await.unwrap() {}
    assert_eq!(next_json(&mut ada).await["type"], "left");
    let kick_len = json!({"type": "kick", "target": bob_id}).to_string().len() as f64;

    let metrics = wait_metrics(
        addr,
        &[
            ("stateroom_connects_total", 2.0),
            ("stateroom_disconnects_total{reason=\"kick\"}", 1.0),
            ("stateroom_disconnects_total{reason=\"client_close\"}", 0.0),
            ("stateroom_messages_in_total", 3.0),
            (
                "stateroom_bytes_in_total",
                said.len() as f64 + 5.0 + kick_len,
            ),
            // hello ×2, said ×2, the error frame, bye, left.
            ("stateroom_messages_out_total", 7.0),
            ("stateroom_decode_errors_total{code=\"invalid_json\"}", 1.0),
            (
                "stateroom_decode_errors_total{code=\"invalid_message\"}",
                0.0,
            ),
            ("stateroom_http_responses_total{status=\"101\"}", 2.0),
            ("stateroom_http_responses_total{status=\"401\"}", 1.0),
            ("stateroom_panics_total", 0.0),
            ("stateroom_connections", 1.0),
            ("stateroom_rooms", 1.0),
        ],
    )
    .await;
    // Every hook call was timed: 3 joins, 2 connects, 3 messages, 1 close.
    assert!(
        metrics["stateroom_room_event_seconds_count"] >= 8.0,
        "{metrics:?}"
    );
    assert!(metrics["stateroom_bytes_out_total"] > 0.0);
    // Each of those 7 frames went out on its own (the test waited for each
    // before the next could be sent), and bob's close frame after his bye.
    let writes = metrics["stateroom_socket_writes_total"];
    assert!((7.0..=12.0).contains(&writes), "{writes} writes");
    // Each woke its writer, which was waiting for it; a hello may be
    // queued before its writer first waits.
    let wakeups = metrics["stateroom_writer_wakeups_total"];
    assert!((5.0..=7.0).contains(&wakeups), "{wakeups} wake-ups");

    // A client that never reads, flooded: one backpressure close.
    let (stalled, stalled_id) = enter(addr, room, "bob-token").await;
    let flood = json!({"type": "flood", "target": stalled_id, "n": 400, "size": 65536});
    send_text(&mut ada, &flood.to_string()).await;
    wait_count(room, &format!("disconnect:{stalled_id}"), 1).await;
    let metrics = wait_metrics(
        addr,
        &[
            ("stateroom_connects_total", 3.0),
            ("stateroom_disconnects_total{reason=\"backpressure\"}", 1.0),
        ],
    )
    .await;
    assert!(metrics["stateroom_backpressure_dropped_frames_total"] >= 1.0);
    drop(stalled);
    // Labels never carry room or client ids.
    let (_, text) = get(addr, "/metrics").await;
    assert!(!text.contains(room) && !text.contains(&format!("\"{stalled_id}\"")));
}

#[tokio::test]
async fn readyz_turns_503_when_shutdown_begins_while_healthz_stays_200() {
    let server = start::<Gate>(Server::new().shutdown_delay(Duration::from_millis(2000))).await;
    let addr = server.local_addr();
    assert_eq!(
        get(addr, "/readyz").await,
        (200, r#"{"status":"ready"}"#.into())
    );
    let (mut ada, _) = enter(addr, "drain", "ada-token").await;
    let shutdown = tokio::spawn(server.shutdown());
    let deadline = tokio::time::Instant::now() + WAIT;
    while get(addr, "/readyz").await.0 != 503 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz never turned 503"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        get(addr, "/readyz").await,
        (503, r#"{"status":"shutting_down"}"#.into())
    );
    assert_eq!(health(addr).await["connections"], 1, "still serving");
    // New joins go elsewhere...
    assert_eq!(
        open(addr, "drain?token=bob-token", &[])
            .await
            .err()
            .map(|e| e.0),
        Some(503)
    );
    // ...while the existing client is still served until the delay is over.
    send_text(&mut ada, &say("still here").to_string()).await;
    assert_eq!(next_json(&mut ada).await["text"], "still here");
    assert_eq!(close_code(&mut ada).await, Some(1001.into()));
    shutdown.await.unwrap();
}

#[tokio::test]
async fn readyz_is_503_at_the_connection_limit() {
    let server = start::<Gate>(Server::new().max_connections(1)).await;
    let addr = server.local_addr();
    let (ada, _) = enter(addr, "full", "ada-token").await;
    assert_eq!(
        get(addr, "/readyz").await,
        (503, r#"{"status":"at_connection_limit"}"#.into())
    );
    drop(ada);
    wait_health(addr, |h| h["connections"] == 0).await;
    assert_eq!(get(addr, "/readyz").await.0, 200);
}

#[tokio::test]
async fn the_admin_listener_is_separate_and_wants_its_token() {
    let server = start::<Gate>(Server::new().admin_port(0).admin_token("s3cret")).await;
    let (public, admin) = (
        server.local_addr(),
        server.admin_addr().expect("an admin listener"),
    );
    // Nothing of the operator's on the public port.
    for path in ["/metrics", "/readyz", "/admin/rooms"] {
        assert_eq!(get(public, path).await.0, 404, "{path} on the public port");
    }
    assert_eq!(get(public, "/healthz").await.0, 200);
    assert_eq!(get(admin, "/metrics").await.0, 200);
    assert_eq!(get(admin, "/readyz").await.0, 200);
    assert_eq!(get(admin, "/admin/rooms").await.0, 401);
    let wrong = "Authorization: Bearer s3crex\r\n";
    assert_eq!(get_with(admin, "GET", "/admin/rooms", wrong).await.0, 401);

    let (mut ada, _) = enter(public, "lounge", "ada-token").await;
    let (_bob, _) = enter(public, "lounge", "bob-token").await;
    let token = "Authorization: Bearer s3cret\r\n";
    let (status, body) = get_with(admin, "GET", "/admin/rooms", token).await;
    assert_eq!(status, 200, "{body}");
    let rooms: serde_json::Value = serde_json::from_str(&body).unwrap();
    let lounge = &rooms["rooms"][0];
    assert_eq!(lounge["id"], "lounge");
    assert_eq!(lounge["clients"], 2);
    assert_eq!(lounge["connections"], 2);
    assert!(lounge["age_ms"].as_u64().is_some() && lounge["idle_ms"].as_u64().is_some());

    // Closing the room: its clients get 1001 with the reason.
    let (status, _) = get_with(admin, "DELETE", "/admin/rooms/lounge", token).await;
    assert_eq!(status, 200);
    match tokio::time::timeout(WAIT, ada.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1001);
            assert_eq!(frame.reason.as_str(), "room closed by an operator");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert_eq!(
        get_with(admin, "DELETE", "/admin/rooms/lounge", token)
            .await
            .0,
        404
    );
    let (_, body) = get_with(admin, "GET", "/admin/rooms", token).await;
    assert_eq!(body, r#"{"rooms":[]}"#);
}

#[tokio::test]
async fn without_an_admin_port_the_admin_view_needs_a_token_to_exist() {
    let open_server = start::<Gate>(Server::new()).await;
    assert_eq!(get(open_server.local_addr(), "/admin/rooms").await.0, 404);
    assert_eq!(get(open_server.local_addr(), "/metrics").await.0, 200);
    let guarded = start::<Gate>(Server::new().admin_token("t")).await;
    let addr = guarded.local_addr();
    assert_eq!(get(addr, "/admin/rooms").await.0, 401);
    let token = "Authorization: Bearer t\r\n";
    assert_eq!(get_with(addr, "GET", "/admin/rooms", token).await.0, 200);
    // Metrics off: no endpoint.
    let quiet = start::<Gate>(Server::new().metrics(false)).await;
    assert_eq!(get(quiet.local_addr(), "/metrics").await.0, 404);
}
