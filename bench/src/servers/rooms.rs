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
