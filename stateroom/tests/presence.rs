//! Presence with the test kit's virtual clock: one patch per tick however
//! many clients joined, changed or left within it; a resumed client keeps
//! its presence; a client whose window ends leaves once; the count-only
//! mode; and presence frames never wait behind a persisted room's gate.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stateroom::testing::TestRoom;
use stateroom::{ClientId, StateroomContext};
use std::time::Duration;

const TICK: Duration = Duration::from_millis(50);

#[derive(Serialize, Deserialize)]
struct Status {
    status: String,
}

#[derive(Default)]
struct Chat {
    disconnects: u32,
}

#[stateroom::service(no_main, presence, reconnect = "10s")]
impl Chat {
    fn message(&mut self, client: ClientId, msg: Status, ctx: &impl StateroomContext) {
        ctx.set_presence(client, &msg);
    }

    fn disconnect(&mut self, _client: ClientId) {
        self.disconnects += 1;
    }
}

#[derive(Default)]
struct Stadium;

#[stateroom::service(no_main, presence = "count")]
impl Stadium {}

#[derive(Default, Serialize, Deserialize)]
struct Ledger {
    lines: u32,
}

#[stateroom::service(no_main, persist, presence)]
impl Ledger {
    fn message(&mut self, client: ClientId, msg: Status, ctx: &impl StateroomContext) {
        self.lines += 1;
        ctx.set_presence(client, &msg);
        ctx.send(client, &json!({ "line": self.lines }));
    }
}

fn names(presence: &Value) -> Vec<String> {
    let mut names: Vec<String> = presence
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

#[test]
fn a_thousand_joins_within_a_tick_cost_each_client_one_patch() {
    let mut room = TestRoom::<Chat>::new("big");
    let first = room.connect();
    let clients: Vec<ClientId> = (0..1000).map(|_| room.connect()).collect();
    room.advance(TICK);
    // The first client: its snapshot, then one patch for all 1,000 joins.
    assert_eq!(room.synced(first).frames, 2);
    assert_eq!(
        room.presence(first).as_object().map(|m| m.len()),
        Some(1001)
    );
    // Each newcomer: one snapshot (of the tick before), then that patch.
    let last = *clients.last().expect("clients");
    assert_eq!(room.synced(last).frames, 2);
    assert_eq!(room.presence(last), room.presence(first));
}

#[test]
fn changes_within_a_tick_go_out_together() {
    let mut room = TestRoom::<Chat>::new("r");
    let ada = room.connect();
    let bob = room.connect();
    room.advance(TICK);
    let before = room.synced(ada).frames;
    for status in ["typing", "idle", "typing"] {
        room.send(
            bob,
            &Status {
                status: status.into(),
            },
        );
    }
    room.send(
        ada,
        &Status {
            status: "here".into(),
        },
    );
    room.advance(TICK);
    assert_eq!(
        room.synced(ada).frames,
        before + 1,
        "one patch for four changes"
    );
    let presence = room.presence(ada);
    assert_eq!(presence[bob.to_string()]["status"], "typing");
    assert_eq!(presence[ada.to_string()]["status"], "here");
    assert_eq!(room.presence(bob), presence);
}

#[test]
fn a_resumed_client_keeps_its_presence_and_an_expired_one_leaves_once() {
    let mut room = TestRoom::<Chat>::new("r");
    let ada = room.connect();
    let bob = room.connect();
    room.send(
        bob,
        &Status {
            status: "away soon".into(),
        },
    );
    room.advance(TICK);
    room.drop_connection(bob);
    room.advance(TICK);
    // Away but held: still present.
    assert_eq!(
        names(&room.presence(ada)),
        [ada.to_string(), bob.to_string()]
    );
    let session = room.resume(bob);
    assert!(session.resumed);
    room.advance(TICK);
    assert_eq!(room.presence(bob)[bob.to_string()]["status"], "away soon");
    // Dropped again, and never back: it leaves when the window ends.
    room.drop_connection(bob);
    room.advance(Duration::from_secs(11));
    assert_eq!(names(&room.presence(ada)), [ada.to_string()]);
    assert_eq!(room.service().disconnects, 1, "exactly one disconnect");
}

#[test]
fn count_only_presence_sends_the_number() {
    let mut room = TestRoom::<Stadium>::new("final");
    let fans: Vec<ClientId> = (0..50).map(|_| room.connect()).collect();
    room.advance(TICK);
    assert_eq!(room.presence(fans[0]), json!({"count": 50}));
    room.disconnect(fans[1]);
    room.advance(TICK);
    assert_eq!(room.presence(fans[0]), json!({"count": 49}));
}

/// On a real server whose store takes seconds to commit, a gated room's
/// own reply waits for the save; the presence patch the same message made
/// reaches the other client first, while the save is still in flight.
#[tokio::test]
async fn presence_does_not_wait_for_the_save() {
    use futures_util::SinkExt;
    use stateroom::testing::Synced;
    use stateroom_test_support::memstore::MemStore;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use tokio_tungstenite::tungstenite::Message;

    let store = Arc::new(MemStore::default());
    let server = stateroom_test_support::start::<Ledger>(
        stateroom::Server::new()
            .store(store.clone())
            .shutdown_delay(Duration::ZERO),
    )
    .await;
    let addr = server.local_addr();
    let mut ada = stateroom_test_support::join(addr, "books").await;
    let mut bob = stateroom_test_support::join(addr, "books").await;
    let mut holds = Synced::default();
    let two = |s: &Synced| {
        s.presence
            .as_ref()
            .is_some_and(|p| p.value.as_object().is_some_and(|m| m.len() == 2))
    };
    read_until(&mut ada, &mut holds, two).await;
    store.delay_ms.store(3_000, Ordering::SeqCst);
    bob.send(Message::text(r#"{"status":"writing"}"#))
        .await
        .expect("sent");
    let writing = |s: &Synced| {
        s.presence.as_ref().is_some_and(|p| {
            p.value
                .as_object()
                .is_some_and(|m| m.values().any(|v| v["status"] == "writing"))
        })
    };
    read_until(&mut ada, &mut holds, writing).await;
    let stored = store
        .state("Ledger", "books")
        .map_or(0, |state| state["lines"].as_u64().unwrap_or(0));
    assert_eq!(
        stored, 0,
        "the presence patch left before the save that covers the message"
    );
    // Bob's own reply comes once the save is durable.
    let reply = loop {
        let frame = stateroom_test_support::next_json(&mut bob).await;
        if frame.get("line").is_some() {
            break frame;
        }
    };
    assert_eq!(reply["line"], 1, "{reply}");
    assert_eq!(store.state("Ledger", "books").expect("saved")["lines"], 1);
    store.delay_ms.store(0, Ordering::SeqCst);
    drop((ada, bob));
    server.shutdown().await;
}

/// Reads `ws`'s sync frames into `holds` until `done`.
async fn read_until(
    ws: &mut stateroom_test_support::Ws,
    holds: &mut stateroom::testing::Synced,
    done: impl Fn(&stateroom::testing::Synced) -> bool,
) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    while !done(holds) {
        let frame = tokio::time::timeout(stateroom_test_support::WAIT, ws.next())
            .await
            .expect("in time");
        if let Some(Ok(Message::Text(text))) = frame
            && let Some(frame) = stateroom::sync::SyncFrame::from_json(&text)
        {
            holds.apply(frame).expect("applies");
        }
    }
}
