//! The fair scenario as Stateroom services, written the way a user would.

use crate::payload::{Relayed, Sent};
use stateroom::{ClientId, MessageRecipient, StateroomContext};

/// Broadcasts every message, with its sender added, to the sender's room.
#[derive(Default)]
pub struct FanoutRoom;

#[stateroom::service(no_main)]
impl FanoutRoom {
    fn message(&mut self, client: ClientId, msg: Sent, ctx: &impl StateroomContext) {
        let from = u64::from(u32::from(client));
        ctx.send(MessageRecipient::Broadcast, &Relayed::new(from, &msg));
    }
}

/// A chat room that keeps its history's length: the persisted fan-out.
/// `--persist` serves this one (gated: every broadcast waits for the
/// snapshot that counts it), `--kind stateroom` with `--chat` its in-memory
/// twin, so the two do the same work but the saving.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct PersistedChat {
    messages: u64,
}

#[stateroom::service(no_main, persist)]
impl PersistedChat {
    fn message(&mut self, client: ClientId, msg: Sent, ctx: &impl StateroomContext) {
        self.messages += 1;
        let from = u64::from(u32::from(client));
        ctx.send(MessageRecipient::Broadcast, &Relayed::new(from, &msg));
    }
}

/// [`PersistedChat`] with reconnection on: sessions, so that clients may
/// number their messages (`?next=1`) and get each applied exactly once.
/// `--kind persisted-sessions` serves it; the bench compares numbered and
/// unnumbered clients on it.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct PersistedSessions {
    messages: u64,
}

#[stateroom::service(no_main, persist, reconnect = "30s")]
impl PersistedSessions {
    fn message(&mut self, client: ClientId, msg: Sent, ctx: &impl StateroomContext) {
        self.messages += 1;
        let from = u64::from(u32::from(client));
        ctx.send(MessageRecipient::Broadcast, &Relayed::new(from, &msg));
    }
}

/// [`PersistedChat`] without persistence.
#[derive(Default)]
pub struct MemoryChat {
    messages: u64,
}

#[stateroom::service(no_main)]
impl MemoryChat {
    fn message(&mut self, client: ClientId, msg: Sent, ctx: &impl StateroomContext) {
        self.messages += 1;
        let from = u64::from(u32::from(client));
        ctx.send(MessageRecipient::Broadcast, &Relayed::new(from, &msg));
    }
}

/// Returns every message, with its sender added, to the sender.
#[derive(Default)]
pub struct EchoRoom;

#[stateroom::service(no_main)]
impl EchoRoom {
    fn message(&mut self, client: ClientId, msg: Sent, ctx: &impl StateroomContext) {
        let from = u64::from(u32::from(client));
        ctx.send(client, &Relayed::new(from, &msg));
    }
}

/// Entities in the state-sync room.
pub const SYNC_ENTITIES: usize = 1000;
/// Fields of an entity that change (x, y, hp, angle).
const SYNC_FIELDS: usize = 4;
/// The share of the fields that change each tick: 5 % of 4,000.
pub const SYNC_CHANGES_PER_TICK: usize = SYNC_ENTITIES * SYNC_FIELDS / 20;
/// The simulation tick, and the patch rate.
pub const SYNC_TICK_MS: u64 = 50;

/// One entity of the state-sync room.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entity {
    /// Its id.
    pub id: u32,
    /// Position.
    pub x: i32,
    /// Position.
    pub y: i32,
    /// Health.
    pub hp: i32,
    /// Heading, in degrees.
    pub angle: i32,
}

/// State sync at the scale the issue names: 1,000 entities, 5 % of their
/// fields changed every 50 ms tick, the whole world as the shared `view`
/// (patched after each tick), and an echo of every message for the
/// latency probe. Colyseus's twin is `bench/node/colyseus-server.js` with
/// `MODE=sync`.
pub struct SyncRoom {
    entities: Vec<Entity>,
    seed: u64,
}

impl Default for SyncRoom {
    fn default() -> Self {
        let entities = (0..SYNC_ENTITIES as u32)
            .map(|id| Entity {
                id,
                x: (id * 7 % 1000) as i32,
                y: (id * 13 % 1000) as i32,
                hp: 100,
                angle: 0,
            })
            .collect();
        SyncRoom {
            entities,
            seed: 0x2545_f491_4f6c_dd1d,
        }
    }
}

impl SyncRoom {
    fn next(&mut self) -> u64 {
        // xorshift64: the same sequence as the Colyseus twin's.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// One tick: 5 % of the fields change.
    pub fn tick(&mut self) {
        for _ in 0..SYNC_CHANGES_PER_TICK {
            let r = self.next();
            let entity = &mut self.entities[(r % SYNC_ENTITIES as u64) as usize];
            let delta = ((r >> 32) % 21) as i32 - 10;
            match (r >> 16) % SYNC_FIELDS as u64 {
                0 => entity.x += delta,
                1 => entity.y += delta,
                2 => entity.hp = (entity.hp + delta).clamp(0, 100),
                _ => entity.angle = (entity.angle + delta).rem_euclid(360),
            }
        }
    }
}

// Patched at most every 50 ms, as Colyseus's `patchRate`: a message between
// ticks (the probe's) only marks the views as changed.
#[stateroom::service(no_main, patch_rate = "50ms")]
impl SyncRoom {
    fn connect(&mut self, _client: ClientId, ctx: &impl StateroomContext) {
        ctx.set_interval("tick", std::time::Duration::from_millis(SYNC_TICK_MS));
    }

    fn alarm(&mut self, _key: &str) {
        self.tick();
    }

    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        ctx.send_message(MessageRecipient::Client(client), text);
    }

    fn view(&self) -> &[Entity] {
        &self.entities
    }
}

/// Presence, the runtime's: every client in the `presence` document (with
/// no data, as the hand-written room sends none), one patch per 50 ms tick
/// however many joined (`stateroom-presence-storm`).
#[derive(Default)]
pub struct PresenceRoom;

#[stateroom::service(no_main, presence)]
impl PresenceRoom {}

/// Presence written by hand, the way a room without it does: each join is
/// broadcast to everyone at once (`{"join":id}`) and the newcomer gets the
/// whole list; the baseline the storm compares with.
#[derive(Default)]
pub struct HandPresenceRoom;

#[stateroom::service(no_main)]
impl HandPresenceRoom {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(
            MessageRecipient::EveryoneExcept(client),
            &serde_json::json!({ "join": client }),
        );
        ctx.send(client, &serde_json::json!({ "here": ctx.clients() }));
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(
            MessageRecipient::EveryoneExcept(client),
            &serde_json::json!({ "leave": client }),
        );
    }
}

/// A Yjs document per room, in memory (`stateroom-yjs-load`): the
/// y-websocket protocol, nothing validated, as y-websocket's own server and
/// Hocuspocus run without extensions.
#[derive(Default)]
pub struct YjsRoom;

#[stateroom::service(no_main, doc)]
impl YjsRoom {}

/// The same document room, persisted (gated) in the embedded SQLite store
/// (`--data-dir`): a change reaches the others once it is durable.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct PersistedYjsRoom;

#[stateroom::service(no_main, doc, persist)]
impl PersistedYjsRoom {}
