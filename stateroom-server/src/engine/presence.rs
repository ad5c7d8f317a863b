//! Presence: who is in the room, and what each client set with
//! `ctx.set_presence`, sent to the clients as the synced document
//! `presence` (`docs/protocol.md`, "Presence").
//!
//! - At most one patch per tick (50 ms, or the service's patch rate) per
//!   room, however many clients joined, left or changed within it: 1,000
//!   clients joining within a tick cost each client one patch, not 1,000
//!   frames. The patch is written once and shared by every client's queue.
//! - A client that connects or resumes gets a snapshot at the next pass; a
//!   client that is away gets nothing (its seat, and its presence, stay
//!   until its window ends: then it leaves the document once).
//! - Ephemeral: nothing here is saved, and the frames do not wait behind a
//!   persisted room's output gate (they reveal nothing a crash could lose).

use crate::engine::members::{Members, Outlet};
use crate::engine::stats::bump;
use crate::engine::sync::Document;
use crate::engine::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use serde_json::{Map, Value};
use stateroom_core::sync::Doc;
use stateroom_core::{ClientId, Presence};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// How often presence is sent when the service has no patch rate.
pub(crate) const PRESENCE_TICK: Duration = Duration::from_millis(50);

/// A room's presence: what each client set, and what was last sent.
pub(crate) struct PresenceState {
    mode: Presence,
    tick: Duration,
    /// What each client set (clients that set nothing are `null`).
    values: BTreeMap<ClientId, Value>,
    /// The document as last sent, and its snapshot frame once written.
    document: Option<(Document, Option<Message>)>,
    /// The clients that hold the document as last sent.
    holders: HashSet<ClientId>,
    /// Something changed since the document was last built.
    dirty: bool,
    /// A client needs a snapshot.
    newcomers: bool,
    next_tick: Duration,
    armed: bool,
}

impl PresenceState {
    pub(crate) fn new(mode: Presence, tick: Duration) -> Self {
        PresenceState {
            mode,
            tick,
            values: BTreeMap::new(),
            document: None,
            holders: HashSet::new(),
            dirty: false,
            newcomers: false,
            next_tick: Duration::ZERO,
            armed: false,
        }
    }

    fn on(&self) -> bool {
        self.mode != Presence::Off
    }

    /// `client` set its presence data.
    pub(crate) fn set(&mut self, client: ClientId, value: Value) {
        if self.on() && self.values.get(&client) != Some(&value) {
            self.values.insert(client, value);
            self.dirty = true;
        }
    }

    /// `client` joined or resumed (or asked for snapshots): it gets a
    /// snapshot at the next pass.
    pub(crate) fn renew(&mut self, client: ClientId) {
        if self.on() {
            self.holders.remove(&client);
            self.newcomers = true;
            self.dirty = true;
        }
    }

    /// `client` left the room.
    pub(crate) fn left(&mut self, client: ClientId) {
        if self.on() {
            self.values.remove(&client);
            self.holders.remove(&client);
            self.dirty = true;
        }
    }

    /// The presence timer fired.
    pub(crate) fn ticked(&mut self) {
        self.armed = false;
    }

    /// The document as the room is now.
    fn build<O>(&self, members: &Members<O>) -> Value {
        match self.mode {
            Presence::Count => {
                let mut map = Map::new();
                map.insert("count".into(), Value::from(members.clients.len()));
                Value::Object(map)
            }
            _ => {
                let mut clients: Vec<ClientId> = members.clients.keys().copied().collect();
                clients.sort_unstable();
                let map = clients
                    .into_iter()
                    .map(|client| {
                        let value = self.values.get(&client).cloned().unwrap_or(Value::Null);
                        (client.to_string(), value)
                    })
                    .collect();
                Value::Object(map)
            }
        }
    }

    /// Sends the patch (at most once per tick) and the snapshots due.
    pub(crate) fn run<O: Outlet>(&mut self, members: &Members<O>, now: Duration) {
        if !self.on() || !(self.dirty || self.newcomers) {
            return;
        }
        let due = self.dirty && now >= self.next_tick;
        if self.dirty && !due && !self.armed {
            self.armed = true;
            members
                .timers
                .borrow_mut()
                .set(TimerId::Presence, self.next_tick, None);
        }
        if !due && !self.newcomers {
            return;
        }
        let mut patch = None;
        if due || self.document.is_none() {
            let value = self.build(members);
            self.next_tick = now + self.tick;
            self.dirty = false;
            match &mut self.document {
                None => self.document = Some((Document::new(value), None)),
                Some((document, snapshot)) => {
                    patch = document.update(Doc::Presence, value);
                    if patch.is_some() {
                        *snapshot = None;
                    }
                }
            }
        }
        self.newcomers = false;
        let Some((document, snapshot)) = &mut self.document else {
            return;
        };
        for (&client, slot) in &members.clients {
            if slot.link.is_none() {
                self.holders.remove(&client);
                continue;
            }
            if self.holders.contains(&client) {
                if let Some(frame) = &patch {
                    bump(&members.stats.presence_frames, 1);
                    members.push(client, slot, frame.clone());
                }
            } else {
                let frame = snapshot.get_or_insert_with(|| document.snapshot(Doc::Presence));
                bump(&members.stats.presence_frames, 1);
                members.push(client, slot, frame.clone());
                self.holders.insert(client);
            }
        }
    }
}
