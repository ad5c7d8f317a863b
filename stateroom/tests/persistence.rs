//! Persisted rooms in-process, against a store the test can look into, slow
//! down and break: gated frames wait for their snapshot, debounced ones do
//! not, manual saves are barriers, a failing store drops held frames and
//! reloads the room, idle rooms unload and come back, `ctx.destroy()`
//! deletes, and snapshots that do not load are refused and left untouched.

use stateroom_test_support as support;
use stateroom_test_support::memstore;

use memstore::MemStore;
use serde::{Deserialize, Serialize};
use stateroom::store::StoredRoom;
use stateroom::{ClientId, Server, StateroomContext};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

macro_rules! tally {
    ($name:ident, $($arg:tt)*) => {
        #[derive(Default, Serialize, Deserialize)]
        struct $name {
            count: u64,
        }

        #[stateroom::service(no_main, $($arg)*)]
        impl $name {
            fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
                match text {
                    "add" => {
                        self.count += 1;
                        ctx.send(client, &self.count);
                    }
                    "save" => {
                        ctx.save();
                        ctx.send(client, &self.count);
                    }
                    "destroy" => {
                        ctx.send(client, "goodbye");
                        ctx.destroy();
                    }
                    _ => ctx.send(client, &self.count),
                }
            }
        }
    };
}

tally!(Gated, persist);
tally!(Debounced, persist(durability = "debounced(300ms)"));
tally!(Manual, persist(durability = "manual"));

async fn serve<S: stateroom::SimpleStateroomService>(
    store: &Arc<MemStore>,
) -> stateroom::ServerHandle {
    start::<S>(
        Server::new()
            .store(store.clone())
            .room_grace(Duration::from_millis(100)),
    )
    .await
}

fn stored_count(store: &MemStore, service: &str, room: &str) -> Option<u64> {
    store.state(service, room).and_then(|s| s["count"].as_u64())
}

async fn number(ws: &mut Ws) -> u64 {
    next_text(ws).await.parse().expect("a number")
}

#[tokio::test]
async fn gated_frames_reach_clients_only_once_their_snapshot_is_durable() {
    let store = Arc::new(MemStore::default());
    store.delay_ms.store(20, Ordering::SeqCst);
    let server = serve::<Gated>(&store).await;
    let mut ws = join(server.local_addr(), "g").await;
    for _ in 0..30 {
        send_text(&mut ws, "add").await;
    }
    for n in 1..=30 {
        assert_eq!(number(&mut ws).await, n);
        let stored = stored_count(&store, "Gated", "g").unwrap_or(0);
        assert!(
            stored >= n,
            "ack {n} arrived before its state was durable (stored {stored})"
        );
    }
    // Many events per snapshot, and fewer commits than messages.
    assert!(store.saves() < 30, "{:?}", store.commits.lock().unwrap());
}

#[tokio::test]
async fn a_failing_store_drops_held_frames_closes_with_1011_and_reloads() {
    let store = Arc::new(MemStore::default());
    // Retried for 300 ms, then the room fails.
    let server = start::<Gated>(
        Server::new()
            .store(store.clone())
            .room_grace(Duration::from_millis(100))
            .store_retry(Duration::from_millis(300)),
    )
    .await;
    let addr = server.local_addr();
    let mut ws = join(addr, "f").await;
    send_text(&mut ws, "add").await;
    assert_eq!(number(&mut ws).await, 1);
    store.failing.store(true, Ordering::SeqCst);
    send_text(&mut ws, "add").await;
    // The ack for count 2 never arrives: the client is closed instead.
    assert_eq!(close_code(&mut ws).await, Some(1011.into()));
    assert_eq!(stored_count(&store, "Gated", "f"), Some(1));
    store.failing.store(false, Ordering::SeqCst);
    // The room was dropped; the next join loads the last durable snapshot.
    let mut ws = join(addr, "f").await;
    send_text(&mut ws, "count").await;
    assert_eq!(number(&mut ws).await, 1);
    let (_, metrics) = get(addr, "/metrics").await;
    assert!(
        metrics.contains("stateroom_persist_failures_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn debounced_frames_leave_at_once_and_the_state_follows_within_the_interval() {
    let store = Arc::new(MemStore::default());
    store.delay_ms.store(50, Ordering::SeqCst);
    let server = serve::<Debounced>(&store).await;
    let mut ws = join(server.local_addr(), "d").await;
    let started = std::time::Instant::now();
    for n in 1..=20 {
        send_text(&mut ws, "add").await;
        assert_eq!(number(&mut ws).await, n);
    }
    // Not held: all 20 acks came before the state was saved as 20.
    assert_ne!(stored_count(&store, "Debounced", "d"), Some(20));
    let deadline = tokio::time::Instant::now() + WAIT;
    while stored_count(&store, "Debounced", "d") != Some(20) {
        assert!(tokio::time::Instant::now() < deadline, "never saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // At most one save per interval (plus the first).
    let intervals = started.elapsed().as_millis() / 300 + 2;
    assert!(
        store.saves() as u128 <= intervals,
        "{} saves in {:?}",
        store.saves(),
        started.elapsed()
    );
}

#[tokio::test]
async fn manual_saves_only_when_asked_and_is_a_barrier() {
    let store = Arc::new(MemStore::default());
    store.delay_ms.store(50, Ordering::SeqCst);
    let server = serve::<Manual>(&store).await;
    let mut ws = join(server.local_addr(), "m").await;
    for n in 1..=3 {
        send_text(&mut ws, "add").await;
        assert_eq!(number(&mut ws).await, n);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        stored_count(&store, "Manual", "m"),
        None,
        "not saved unless asked"
    );
    send_text(&mut ws, "save").await;
    // The reply was sent after ctx.save(): it waits for the save.
    assert_eq!(number(&mut ws).await, 3);
    assert_eq!(stored_count(&store, "Manual", "m"), Some(3));
    // And afterwards frames go straight out again.
    send_text(&mut ws, "add").await;
    assert_eq!(number(&mut ws).await, 4);
    assert_eq!(stored_count(&store, "Manual", "m"), Some(3));
}

#[tokio::test]
async fn an_idle_room_unloads_saved_and_comes_back() {
    let store = Arc::new(MemStore::default());
    let server = serve::<Gated>(&store).await;
    let addr = server.local_addr();
    let mut ws = join(addr, "idle").await;
    for _ in 0..3 {
        send_text(&mut ws, "add").await;
        let _ = number(&mut ws).await;
    }
    drop(ws);
    wait_health(addr, |h| h["rooms"] == 0).await;
    assert_eq!(stored_count(&store, "Gated", "idle"), Some(3));
    let mut ws = join(addr, "idle").await;
    send_text(&mut ws, "count").await;
    assert_eq!(number(&mut ws).await, 3);
}

#[tokio::test]
async fn destroy_deletes_the_stored_room() {
    let store = Arc::new(MemStore::default());
    let server = serve::<Gated>(&store).await;
    let addr = server.local_addr();
    let mut ws = join(addr, "doomed").await;
    send_text(&mut ws, "add").await;
    assert_eq!(number(&mut ws).await, 1);
    assert!(store.get("Gated", "doomed").is_some());
    send_text(&mut ws, "destroy").await;
    assert_eq!(
        next_text(&mut ws).await,
        r#""goodbye""#,
        "sent before the close"
    );
    assert_eq!(close_code(&mut ws).await, Some(1000.into()));
    assert!(store.get("Gated", "doomed").is_none());
    let mut ws = join(addr, "doomed").await;
    send_text(&mut ws, "count").await;
    assert_eq!(number(&mut ws).await, 0, "a fresh room");
}

fn snapshot(room: &str, version: u32, state: &str) -> StoredRoom {
    StoredRoom {
        room_id: room.into(),
        fence: 0,
        seq: 7,
        state_version: version,
        state: state.into(),
        meta: "{}".into(),
        updated_at_ms: 1,
        doc: Default::default(),
    }
}

#[tokio::test]
async fn a_snapshot_that_does_not_load_is_refused_and_left_untouched() {
    let store = Arc::new(MemStore::default());
    let server = serve::<Gated>(&store).await;
    let addr = server.local_addr();
    for (room, stored) in [
        ("garbled", snapshot("garbled", 1, "{not json")),
        (
            "wrong-shape",
            snapshot("wrong-shape", 1, r#"{"count":"many"}"#),
        ),
        (
            "from-the-future",
            snapshot("from-the-future", 2, r#"{"count":1}"#),
        ),
    ] {
        store.put("Gated", stored.clone());
        let (status, body) = http(
            addr,
            &format!(
                "GET /ws/{room} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (500, "the room failed\n"),
            "{room}"
        );
        assert_eq!(
            store.get("Gated", room),
            Some(stored),
            "{room}: never replaced"
        );
    }
    let (_, metrics) = get(addr, "/metrics").await;
    assert!(
        metrics.contains("stateroom_rooms_refused_total 3"),
        "{metrics}"
    );
}

/// Version 2 of a state that was `{"total": N}` in version 1.
#[derive(Default, Serialize, Deserialize)]
struct Renamed {
    count: u64,
}

#[stateroom::service(no_main, persist(version = 2))]
impl Renamed {
    fn migrate(from: u32, mut state: serde_json::Value) -> Result<serde_json::Value, String> {
        assert_eq!(from, 1);
        let total = state["total"].take();
        Ok(serde_json::json!({ "count": total }))
    }

    fn message(&mut self, client: ClientId, _text: &str, ctx: &impl StateroomContext) {
        ctx.send(client, &self.count);
    }
}

#[tokio::test]
async fn a_version_1_snapshot_loads_through_the_migrate_hook() {
    let store = Arc::new(MemStore::default());
    store.put("Renamed", snapshot("old", 1, r#"{"total":41}"#));
    let server = serve::<Renamed>(&store).await;
    let mut ws = join(server.local_addr(), "old").await;
    send_text(&mut ws, "?").await;
    assert_eq!(number(&mut ws).await, 41);
}

#[tokio::test]
async fn at_shutdown_what_the_room_said_goes_out_before_the_close() {
    let store = Arc::new(MemStore::default());
    store.delay_ms.store(200, Ordering::SeqCst);
    let server = serve::<Gated>(&store).await;
    let mut ws = join(server.local_addr(), "last-words").await;
    send_text(&mut ws, "add").await;
    // The ack is held for its (slow) save when the shutdown begins.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let shutdown = tokio::spawn(server.shutdown());
    assert_eq!(
        number(&mut ws).await,
        1,
        "the ack, once durable, before the close"
    );
    assert_eq!(close_code(&mut ws).await, Some(1001.into()));
    shutdown.await.unwrap();
    assert_eq!(stored_count(&store, "Gated", "last-words"), Some(1));
}

#[tokio::test]
async fn a_store_that_fails_briefly_closes_nobody_and_the_held_ack_follows() {
    let store = Arc::new(MemStore::default());
    let server = serve::<Gated>(&store).await;
    let mut ws = join(server.local_addr(), "blip").await;
    send_text(&mut ws, "add").await;
    assert_eq!(number(&mut ws).await, 1);
    store.failing.store(true, Ordering::SeqCst);
    send_text(&mut ws, "add").await;
    // Held, not lost and not closed: nothing arrives while the store fails.
    assert_silent(&mut ws, Duration::from_millis(600)).await;
    assert_eq!(stored_count(&store, "Gated", "blip"), Some(1));
    store.failing.store(false, Ordering::SeqCst);
    assert_eq!(number(&mut ws).await, 2, "the held ack, once saved");
    assert_eq!(stored_count(&store, "Gated", "blip"), Some(2));
    let (_, metrics) = get(server.local_addr(), "/metrics").await;
    assert!(
        metrics.contains("stateroom_persist_failures_total 0"),
        "a retried save is not a failed room: {metrics}"
    );
}

#[tokio::test]
async fn a_join_while_the_store_cannot_load_gets_503_with_retry_after_then_works() {
    let store = Arc::new(MemStore::default());
    let server = serve::<Gated>(&store).await;
    let addr = server.local_addr();
    store.failing.store(true, Ordering::SeqCst);
    let upgrade = "GET /ws/later HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                   Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    for _ in 0..3 {
        let (status, head, body) = http_full(addr, upgrade).await;
        assert_eq!(status, 503, "{head}{body}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
        assert!(body.contains("store is unavailable"), "{body}");
    }
    assert_eq!(health(addr).await["status"], "ok", "nothing crashed");
    store.failing.store(false, Ordering::SeqCst);
    let mut ws = join(addr, "later").await;
    send_text(&mut ws, "add").await;
    assert_eq!(number(&mut ws).await, 1);
}
