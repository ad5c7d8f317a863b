//! Client messages applied exactly once (`docs/protocol.md`, "Exactly once"):
//! a numbered client whose connection is cut with messages in flight, or
//! whose server's store fails, resends what was not acknowledged, and each
//! message reaches the room once; unnumbered clients are as before.

use stateroom_test_support as support;
use stateroom_test_support::memstore::MemStore;
use stateroom_test_support::numbered::Numbered;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stateroom::{ClientId, Server, StateroomContext};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

/// Every number it was sent, in the order applied; `state` answers them.
#[derive(Default, Serialize, Deserialize)]
struct Seen {
    seen: Vec<u64>,
}

#[stateroom::service(no_main, reconnect = "30s")]
impl Seen {
    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        match text.parse() {
            Ok(n) => self.seen.push(n),
            Err(_) => ctx.send(client, &serde_json::json!({ "seen": self.seen })),
        }
    }
}

/// The same, persisted (gated).
#[derive(Default, Serialize, Deserialize)]
struct Kept {
    seen: Vec<u64>,
}

#[stateroom::service(no_main, persist, reconnect = "30s")]
impl Kept {
    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        match text.parse() {
            Ok(n) => self.seen.push(n),
            Err(_) => ctx.send(client, &serde_json::json!({ "seen": self.seen })),
        }
    }
}

async fn seen(client: &mut Numbered) -> Vec<u64> {
    client.send("state".to_owned()).await;
    let state = client.until(|v| v.get("seen").is_some()).await;
    serde_json::from_value(state["seen"].clone()).expect("numbers")
}

fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn messages_in_flight_through_a_cut_connection_apply_exactly_once() {
    let server = start::<Seen>(Server::new()).await;
    let addr = server.local_addr();
    let mut client = Numbered::join(addr, "cut").await;
    for n in 1..=150 {
        client.send(n.to_string()).await;
    }
    // The room applies all 150 and acknowledges them, but the acks are never
    // read: the connection is cut with every message unacknowledged.
    let deadline = tokio::time::Instant::now() + WAIT;
    while metric(
        &get(addr, "/metrics").await.1,
        "stateroom_messages_in_total ",
    ) < 150
    {
        assert!(tokio::time::Instant::now() < deadline, "never applied");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client.cut();
    assert_eq!(client.unacked.len(), 150);
    client.resume(addr).await;
    assert!(client.resumed(), "{:?}", client.sessions);
    for n in 151..=300 {
        client.send(n.to_string()).await;
    }
    client.settle().await;
    let applied = seen(&mut client).await;
    assert_eq!(applied, (1..=300).collect::<Vec<u64>>());
    let metrics = get(addr, "/metrics").await.1;
    assert_eq!(
        metric(&metrics, "stateroom_messages_duplicate_total "),
        150,
        "every resent message was dropped as a duplicate"
    );
}

#[tokio::test]
async fn unnumbered_clients_keep_at_most_once_and_get_no_acks() {
    let server = start::<Seen>(Server::new()).await;
    let mut ws = join(server.local_addr(), "plain").await;
    let session = next_json(&mut ws).await;
    assert!(session["stateroom"]["token"].is_string(), "{session}");
    for n in 1..=40 {
        send_text(&mut ws, &n.to_string()).await;
    }
    send_text(&mut ws, "state").await;
    // The first frame after the session frame is the answer: no ack before it.
    let state = next_json(&mut ws).await;
    assert_eq!(state["seen"].as_array().map(Vec::len), Some(40), "{state}");
    assert_silent(&mut ws, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_failed_save_acknowledges_nothing_and_the_resends_apply_once() {
    let store = Arc::new(MemStore::default());
    let server = start::<Kept>(
        Server::new()
            .store(store.clone())
            .room_grace(Duration::from_millis(100))
            .store_retry(Duration::ZERO),
    )
    .await;
    let addr = server.local_addr();
    let mut client = Numbered::join(addr, "f").await;
    for n in 1..=10 {
        client.send(n.to_string()).await;
    }
    client.settle().await;
    store.failing.store(true, Ordering::SeqCst);
    for n in 11..=20 {
        client.send(n.to_string()).await;
    }
    // The save fails: the room closes its clients (1011) and no ack for
    // 11..=20 ever leaves.
    client.drain_for(2_000).await;
    assert_eq!(
        client.unacked.len(),
        10,
        "an ack leaked for an unsaved message"
    );
    store.failing.store(false, Ordering::SeqCst);
    client.resume(addr).await;
    client.settle().await;
    assert_eq!(seen(&mut client).await, (1..=20).collect::<Vec<u64>>());
}

#[tokio::test]
async fn the_applied_number_is_in_the_snapshot() {
    let store = Arc::new(MemStore::default());
    let server = start::<Kept>(Server::new().store(store.clone())).await;
    let mut client = Numbered::join(server.local_addr(), "snap").await;
    for n in 1..=5 {
        client.send(n.to_string()).await;
    }
    client.settle().await;
    let stored = store.get("Kept", "snap").expect("saved");
    let meta: Value = serde_json::from_str(&stored.meta).expect("JSON");
    assert_eq!(meta["clients"][0]["applied"], 5, "{meta}");
}
