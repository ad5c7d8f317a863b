//! Every output of a gated room waits for its state: a handle's command
//! reply, an HTTP reply (reads included) and a join's verdict leave only once
//! the snapshot covering the event that produced them is durable, like
//! frames; a failed save answers the held callers with an error, never with
//! the lost value. And a restored room's overdue timers fire before its
//! first event. In-process, against a store the test slows down and breaks.

use stateroom_test_support as support;
use stateroom_test_support::memstore;

use memstore::MemStore;
use serde::{Deserialize, Serialize};
use stateroom::RoomError;
use stateroom::store::StoredRoom;
use stateroom::{ClientId, RoomRequest, RoomResponse, Server, StateroomContext, http};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

/// A counter that clients, handles and HTTP callers all reach.
#[derive(Default, Serialize, Deserialize)]
struct Tally {
    count: u64,
    /// Alarms fired (restored rooms' overdue timers).
    alarms: u64,
}

/// What a handle asks: add this much, answer the new count.
#[derive(Debug)]
struct Add(u64);

#[stateroom::service(no_main, persist)]
impl Tally {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(
            client,
            &serde_json::json!({ "count": self.count, "alarms": self.alarms }),
        );
    }

    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        if text == "add" {
            self.count += 1;
        }
        ctx.send(client, &self.count);
    }

    fn command(&mut self, add: Add) -> u64 {
        self.count += add.0;
        self.count
    }

    /// `POST` adds one and answers the new count; `GET` only reads it.
    fn request(&mut self, request: &RoomRequest) -> RoomResponse {
        if request.method() == http::Method::POST {
            self.count += 1;
        }
        RoomResponse::text(self.count.to_string())
    }

    fn alarm(&mut self, _key: &str) {
        self.alarms += 1;
    }
}

async fn serve(store: &Arc<MemStore>) -> stateroom::ServerHandle {
    // Rooms reached only through handles and HTTP have no clients: a long
    // grace keeps them loaded between calls (freeing is not under test).
    // A failed save fails the room at once: these tests check what its
    // held callers are answered (retries are `persistence.rs`'s).
    start::<Tally>(
        Server::new()
            .store(store.clone())
            .room_grace(Duration::from_secs(60))
            .store_retry(Duration::ZERO),
    )
    .await
}

fn stored(store: &MemStore, room: &str) -> u64 {
    store
        .state("Tally", room)
        .and_then(|s| s["count"].as_u64())
        .unwrap_or(0)
}

fn post(room: &str) -> String {
    format!(
        "POST /rooms/{room} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

fn get_request(room: &str) -> String {
    format!("GET /rooms/{room} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

#[tokio::test]
async fn a_command_reply_leaves_only_once_its_state_is_durable() {
    let store = Arc::new(MemStore::default());
    store.delay_ms.store(30, Ordering::SeqCst);
    let server = serve(&store).await;
    let room = server.rooms().get_or_create("c").expect("the room");
    for _ in 0..10 {
        let told: u64 = room.command::<Add, u64>(Add(1)).await.expect("a reply");
        let durable = stored(&store, "c");
        assert!(
            durable >= told,
            "told {told} while only {durable} was durable"
        );
    }
    // Concurrent callers too: each reply is covered when it arrives.
    let calls = (0..20).map(|_| {
        let (room, store) = (room.clone(), store.clone());
        tokio::spawn(async move {
            let told: u64 = room.command::<Add, u64>(Add(1)).await.expect("a reply");
            (told, stored(&store, "c"))
        })
    });
    for call in calls {
        let (told, durable) = call.await.expect("the caller");
        assert!(durable >= told, "told {told}, durable {durable}");
    }
}

#[tokio::test]
async fn http_replies_reads_included_leave_only_once_their_state_is_durable() {
    let store = Arc::new(MemStore::default());
    store.delay_ms.store(30, Ordering::SeqCst);
    let server = serve(&store).await;
    let addr = server.local_addr();
    for _ in 0..5 {
        let (status, body) = http(addr, &post("h")).await;
        assert_eq!(status, 200, "{body}");
        let told: u64 = body.trim().parse().expect("a count");
        assert!(stored(&store, "h") >= told, "told {told}");
    }
    // A read while a change is still being saved: it reveals that change,
    // so it waits for it too.
    store.delay_ms.store(300, Ordering::SeqCst);
    let room = server.rooms().get("h").expect("the room is live");
    let writer = tokio::spawn(async move { room.command::<Add, u64>(Add(10)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, body) = http(addr, &get_request("h")).await;
    assert_eq!(status, 200, "{body}");
    let read: u64 = body.trim().parse().expect("a count");
    assert_eq!(read, 15, "the read sees the command's change");
    assert!(
        stored(&store, "h") >= read,
        "a read revealed {read} before it was durable"
    );
    assert_eq!(writer.await.expect("the writer").expect("a reply"), 15);
}

#[tokio::test]
async fn a_failing_store_answers_held_callers_with_errors_never_the_lost_value() {
    let store = Arc::new(MemStore::default());
    let server = serve(&store).await;
    let addr = server.local_addr();
    let (status, body) = http(addr, &post("f")).await;
    assert_eq!((status, body.trim()), (200, "1"));
    store.failing.store(true, Ordering::SeqCst);
    let (status, body) = http(addr, &post("f")).await;
    assert_eq!(status, 500, "a held HTTP reply whose save failed: {body}");
    assert!(!body.contains('2'), "the lost value leaked: {body}");
    let room = server.rooms().get_or_create("f").expect("the room");
    let reply = room.command::<Add, u64>(Add(5)).await;
    assert!(
        matches!(reply, Err(RoomError::Stopped(_))),
        "a held command whose save failed: {reply:?}"
    );
    store.failing.store(false, Ordering::SeqCst);
    // Nothing anyone was told is lost: the room reloads what was durable.
    let (status, body) = http(addr, &get_request("f")).await;
    assert_eq!((status, body.trim()), (200, "1"));
}

#[tokio::test]
async fn a_join_verdict_waits_for_the_save_in_flight() {
    let store = Arc::new(MemStore::default());
    let server = serve(&store).await;
    let addr = server.local_addr();
    let room = server.rooms().get_or_create("j").expect("the room");
    room.command::<Add, u64>(Add(1)).await.expect("a reply");
    store.delay_ms.store(300, Ordering::SeqCst);
    let writer = tokio::spawn(async move { room.command::<Add, u64>(Add(1)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The join sees count 2 (its `connect` frame says so): by the time it
    // is let in, 2 is durable.
    let mut ws = join(addr, "j").await;
    assert!(
        stored(&store, "j") >= 2,
        "let in before the state it saw was durable"
    );
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["count"], 2, "{hello}");
    assert_eq!(writer.await.expect("the writer").expect("a reply"), 2);
}

#[tokio::test]
async fn a_restored_rooms_overdue_timer_fires_before_its_first_join() {
    let store = Arc::new(MemStore::default());
    // Rooms saved with a timer that fell due while the server was down.
    let meta =
        r#"{"timers":[{"key":"\"tick\"","at_ms":1,"every_ms":null}],"clients":[],"max_client":0}"#;
    for n in 0..20 {
        store.put(
            "Tally",
            StoredRoom {
                room_id: format!("t{n}"),
                fence: 0,
                seq: 1,
                state_version: 1,
                state: r#"{"count":7,"alarms":0}"#.into(),
                meta: meta.into(),
                updated_at_ms: 1,
                doc: Default::default(),
            },
        );
    }
    let server = serve(&store).await;
    for n in 0..20 {
        let mut ws = join(server.local_addr(), &format!("t{n}")).await;
        let hello = next_json(&mut ws).await;
        assert_eq!(
            (hello["count"].as_u64(), hello["alarms"].as_u64()),
            (Some(7), Some(1)),
            "room t{n}: the first join ran before the overdue alarm: {hello}"
        );
    }
}
