//! State sync, as a property: whatever the room's events (units spawned,
//! moved and killed in a keyed map, a log array that grows and shrinks,
//! secrets per client, joins, clean leaves, dropped connections, resumes,
//! resync requests, a patch rate), every connected client's documents,
//! rebuilt from its frames with the `json-patch` crate, equal the room's
//! `view` and its own `private_view`; and no client's frames ever carry
//! another client's secret.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use stateroom::testing::TestRoom;
use stateroom::{ClientId, StateroomContext};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Unit {
    x: i32,
    y: i32,
    hp: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Act {
    Spawn { id: u16, x: i32 },
    Move { id: u16, dx: i32 },
    Hit { id: u16 },
    Kill { id: u16 },
    Log { line: String },
    Trim,
    Keep { item: u32 },
    Spend,
}

#[derive(Serialize)]
struct Board<'a> {
    units: &'a BTreeMap<u16, Unit>,
    log: &'a [String],
    players: Vec<ClientId>,
}

#[derive(Serialize)]
struct Secret<'a> {
    /// A marker that must never reach anyone but `client`.
    secret: String,
    items: &'a [u32],
}

#[derive(Default)]
struct World {
    units: BTreeMap<u16, Unit>,
    log: Vec<String>,
    players: Vec<ClientId>,
    items: BTreeMap<ClientId, Vec<u32>>,
}

fn secret_of(client: ClientId) -> String {
    format!("secret-of-{client}-")
}

#[stateroom::service(no_main, reconnect = "10s")]
impl World {
    fn connect(&mut self, client: ClientId) {
        self.players.push(client);
    }

    fn disconnect(&mut self, client: ClientId) {
        self.players.retain(|c| *c != client);
        self.items.remove(&client);
    }

    fn message(&mut self, client: ClientId, act: Act, _ctx: &impl StateroomContext) {
        match act {
            Act::Spawn { id, x } => {
                self.units.insert(id, Unit { x, y: 0, hp: 3 });
            }
            Act::Move { id, dx } => {
                if let Some(unit) = self.units.get_mut(&id) {
                    unit.x += dx;
                    unit.y -= dx;
                }
            }
            Act::Hit { id } => {
                if let Some(unit) = self.units.get_mut(&id) {
                    unit.hp = unit.hp.saturating_sub(1);
                }
            }
            Act::Kill { id } => {
                self.units.remove(&id);
            }
            Act::Log { line } => self.log.insert(self.log.len() / 2, line),
            Act::Trim => {
                if !self.log.is_empty() {
                    self.log.remove(0);
                }
            }
            Act::Keep { item } => self.items.entry(client).or_default().push(item),
            Act::Spend => {
                if let Some(items) = self.items.get_mut(&client) {
                    items.pop();
                }
            }
        }
    }

    fn view(&self) -> Board<'_> {
        Board {
            units: &self.units,
            log: &self.log,
            players: self.players.clone(),
        }
    }

    fn private_view(&self, client: ClientId) -> Secret<'_> {
        Secret {
            secret: secret_of(client),
            items: self.items.get(&client).map_or(&[], Vec::as_slice),
        }
    }
}

/// The same world, patched at most every 50 ms.
#[derive(Default)]
struct Paced(World);

#[stateroom::service(no_main, reconnect = "10s", patch_rate = "50ms")]
impl Paced {
    fn connect(&mut self, client: ClientId) {
        self.0.connect(client);
    }

    fn disconnect(&mut self, client: ClientId) {
        self.0.disconnect(client);
    }

    fn message(&mut self, client: ClientId, act: Act, ctx: &impl StateroomContext) {
        self.0.message(client, act, ctx);
    }

    fn view(&self) -> Board<'_> {
        self.0.view()
    }

    fn private_view(&self, client: ClientId) -> Secret<'_> {
        self.0.private_view(client)
    }
}

#[derive(Debug, Clone)]
enum Step {
    Join,
    Act(usize, Act),
    Leave(usize),
    Drop(usize),
    Resume(usize),
    Resync(usize),
    Wait(u64),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        (0u16..40, -50i32..50).prop_map(|(id, x)| Act::Spawn { id, x }),
        (0u16..40, -5i32..5).prop_map(|(id, dx)| Act::Move { id, dx }),
        (0u16..40).prop_map(|id| Act::Hit { id }),
        (0u16..40).prop_map(|id| Act::Kill { id }),
        "[a-z/~\"]{0,6}".prop_map(|line| Act::Log { line }),
        Just(Act::Trim),
        (0u32..1000).prop_map(|item| Act::Keep { item }),
        Just(Act::Spend),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Join),
        10 => (any::<usize>(), act()).prop_map(|(who, act)| Step::Act(who, act)),
        1 => any::<usize>().prop_map(Step::Leave),
        1 => any::<usize>().prop_map(Step::Drop),
        2 => any::<usize>().prop_map(Step::Resume),
        1 => any::<usize>().prop_map(Step::Resync),
        2 => (1u64..120).prop_map(Step::Wait),
    ]
}

/// Runs `steps` and checks, after each (with a patch rate: after each wait
/// past a tick), that every connected client holds the views.
fn run<S: stateroom::SimpleStateroomService>(steps: &[Step], paced: bool) {
    let mut room = TestRoom::<S>::new("world");
    let mut clients: Vec<ClientId> = Vec::new();
    let mut away: Vec<ClientId> = Vec::new();
    for step in steps {
        let pick = |list: &[ClientId], i: usize| (!list.is_empty()).then(|| list[i % list.len()]);
        match step {
            Step::Join => clients.push(room.connect()),
            Step::Act(who, act) => {
                if let Some(client) = pick(&clients, *who) {
                    room.send(client, act);
                }
            }
            Step::Leave(who) => {
                if let Some(client) = pick(&clients, *who) {
                    room.disconnect(client);
                    clients.retain(|c| *c != client);
                }
            }
            Step::Drop(who) => {
                if let Some(client) = pick(&clients, *who) {
                    room.drop_connection(client);
                    clients.retain(|c| *c != client);
                    away.push(client);
                }
            }
            Step::Resume(who) => {
                if let Some(client) = pick(&away, *who) {
                    away.retain(|c| *c != client);
                    let session = room.resume(client);
                    clients.push(session.client);
                }
            }
            Step::Resync(who) => {
                if let Some(client) = pick(&clients, *who) {
                    room.send_text(client, stateroom::sync::RESYNC_REQUEST);
                }
            }
            Step::Wait(ms) => {
                room.advance(Duration::from_millis(*ms));
            }
        }
        if !paced {
            room.assert_synced();
        }
        for &client in &clients {
            for frame in room.sync_frames(client) {
                for &other in clients.iter().chain(&away) {
                    if other != client {
                        assert!(
                            !frame.contains(&secret_of(other)),
                            "client {client} received {other}'s secret: {frame}"
                        );
                    }
                }
            }
        }
    }
    // Whatever happened, one tick later everyone holds the views.
    room.advance(Duration::from_millis(60));
    room.assert_synced();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_client_holds_the_views_after_every_batch(steps in proptest::collection::vec(step(), 1..80)) {
        run::<World>(&steps, false);
    }

    #[test]
    fn with_a_patch_rate_every_client_holds_the_views_after_each_tick(steps in proptest::collection::vec(step(), 1..80)) {
        run::<Paced>(&steps, true);
    }
}

#[test]
fn nothing_is_sent_when_nothing_changed_and_a_patch_rate_coalesces() {
    let mut room = TestRoom::<Paced>::new("r");
    let a = room.connect();
    // Snapshots at once, whatever the rate.
    assert_eq!(room.sync_frames(a).len(), 2);
    for dx in 1..=5 {
        room.send(a, &Act::Spawn { id: dx, x: 0 });
    }
    // Within the 50 ms tick: nothing yet.
    assert_eq!(room.sync_frames(a).len(), 2);
    room.advance(Duration::from_millis(50));
    // One shared patch for the five changes (the private view did not change).
    let frames = room.sync_frames(a);
    assert_eq!(frames.len(), 3, "{frames:#?}");
    assert_eq!(
        frames[2].matches(r#""op":"add""#).count(),
        5,
        "{}",
        frames[2]
    );
    room.assert_synced();
    // A message that changes nothing sends nothing, now or later.
    room.send(a, &Act::Kill { id: 999 });
    room.advance(Duration::from_secs(1));
    assert_eq!(room.sync_frames(a).len(), 3);
}

#[test]
fn one_move_among_a_thousand_units_is_one_small_patch() {
    let mut room = TestRoom::<World>::new("big");
    let a = room.connect();
    for id in 0..1000u16 {
        room.send(
            a,
            &Act::Spawn {
                id: id % 40,
                x: i32::from(id),
            },
        );
    }
    let before = room.sync_frames(a).len();
    room.send(a, &Act::Move { id: 7, dx: 1 });
    let frames = room.sync_frames(a);
    assert_eq!(frames.len(), before + 1);
    let patch = frames.last().unwrap();
    assert_eq!(
        patch.matches(r#""op""#).count(),
        2,
        "x and y change, nothing else: {patch}"
    );
    assert!(patch.len() < 200, "{patch}");
}

/// A persisted, synced counter, for the real server below.
#[derive(Default, Serialize, Deserialize)]
struct Counter {
    count: u64,
}

#[stateroom::service(no_main, persist, reconnect = "30s")]
impl Counter {
    fn message(&mut self, _client: ClientId, _text: &str) {
        self.count += 1;
    }

    fn view(&self) -> u64 {
        self.count
    }
}

mod server {
    use super::Counter;
    use stateroom::Server;
    use stateroom::sync::SyncFrame;
    use stateroom_test_support::memstore::MemStore;
    use stateroom_test_support::*;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    fn stored(store: &MemStore) -> u64 {
        store
            .state("Counter", "c")
            .and_then(|s| s["count"].as_u64())
            .unwrap_or(0)
    }

    /// The next sync frame (session frames skipped).
    async fn next_sync(ws: &mut Ws) -> SyncFrame {
        loop {
            let text = next_text(ws).await;
            if let Some(frame) = SyncFrame::from_json(&text) {
                return frame;
            }
        }
    }

    #[tokio::test]
    async fn a_gated_rooms_patches_wait_for_their_save_and_a_restart_resyncs() {
        let store = Arc::new(MemStore::default());
        store.delay_ms.store(40, Ordering::SeqCst);
        let server = start::<Counter>(Server::new().store(store.clone())).await;
        let mut ws = join(server.local_addr(), "c").await;
        let session: serde_json::Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        let token = session["stateroom"]["token"].as_str().unwrap().to_owned();
        let SyncFrame::Snapshot { v, state, .. } = next_sync(&mut ws).await else {
            panic!("a snapshot first");
        };
        assert_eq!((v, state), (1, serde_json::json!(0)));
        let mut frames = 1;
        // Each patch reveals a count: it arrives only once that count is durable.
        for _ in 0..5 {
            send_text(&mut ws, "+").await;
            let SyncFrame::Patch { base, ops, .. } = next_sync(&mut ws).await else {
                panic!("a patch");
            };
            frames += 1;
            let told = ops[0]["value"].as_u64().unwrap();
            assert_eq!(base + 1, told + 1, "one version per change");
            assert!(
                stored(&store) >= told,
                "told {told}, durable {}",
                stored(&store)
            );
        }
        // The server goes away (its sessions are saved) and another takes
        // over from the same store: the resumed client gets a snapshot of
        // what the new owner restored, whatever versions it held.
        server.shutdown().await;
        let server = start::<Counter>(Server::new().store(store.clone())).await;
        let url = format!(
            "ws://{}/ws/c?resume={token}&ack={frames}",
            server.local_addr()
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let session: serde_json::Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
        assert_eq!(session["stateroom"]["resumed"], true, "{session}");
        let SyncFrame::Snapshot { state, .. } = next_sync(&mut ws).await else {
            panic!("a snapshot after the move");
        };
        assert_eq!(state, serde_json::json!(5));
        drop((ws, server));
    }
}
