//! State sync: after a batch of events (or at the service's patch rate), the
//! room computes its views and sends each connected client what changed
//! since what it last received (`docs/protocol.md`, "State sync").
//!
//! - The shared view is computed, diffed and written **once per room** per
//!   tick; its patch frame is one buffer that every client's queue shares.
//! - A private view is computed and diffed per client.
//! - A client gets snapshots (both documents) when it connects, resumes or
//!   asks (`{"stateroom":{"resync":true}}`). A client that is away gets
//!   nothing: patches would fill its resume buffer (a player who drops for
//!   20 s at 20 patches/s would lose its seat), so it gets snapshots on its
//!   return instead.
//! - Frames go out like any frame the service sends: counted for `ack`,
//!   kept for a resume, and held by a persisted room's output gate until
//!   the state they reveal is durable.

use crate::engine::members::{Members, Outlet, RoomContext};
use crate::engine::stats::{Stats, bump};
use crate::engine::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use serde_json::Value;
use stateroom_core::sync::{Doc, diff, snapshot_frame};
use stateroom_core::{ClientId, SimpleStateroomService, StateroomContext};
use std::collections::HashMap;
use std::time::Duration;

/// A room's sync state: what each document was when last sent.
#[derive(Default)]
pub(crate) struct SyncState {
    /// A hook ran since the views were last computed.
    dirty: bool,
    /// Clients connected or resumed (or asking) since the last pass.
    newcomers: bool,
    /// The shared view as last sent, its version, and its snapshot frame.
    shared: Option<Shared>,
    /// The clients that hold the current shared document, with their
    /// private one.
    clients: HashMap<ClientId, Private>,
    /// With a patch rate: when views may next be computed.
    next_tick: Duration,
    /// With a patch rate: the room's `TimerId::Sync` is set.
    armed: bool,
}

/// One document as it was last sent: its version and value.
pub(crate) struct Document {
    version: u64,
    value: Value,
}

impl Document {
    /// A first document, at version 1.
    pub(crate) fn new(value: Value) -> Self {
        Document { version: 1, value }
    }

    pub(crate) fn snapshot(&self, doc: Doc) -> Message {
        Message::Text(snapshot_frame(doc, self.version, &self.value).into())
    }

    /// Moves to `value`; the patch frame from the version before, if it
    /// changed.
    pub(crate) fn update(&mut self, doc: Doc, value: Value) -> Option<Message> {
        let patch = diff(&self.value, &value);
        if patch.is_empty() {
            return None;
        }
        let frame = Message::Text(patch.frame(doc, self.version).into());
        self.version += 1;
        self.value = value;
        Some(frame)
    }
}

/// The shared document, and its snapshot frame, written on the first need.
struct Shared {
    document: Document,
    snapshot: Option<Message>,
}

/// A client's private document as last sent (`None`: it has none yet).
#[derive(Default)]
struct Private(Option<Document>);

impl Private {
    /// Takes the client's private view as it is now: the patch from what it
    /// holds, or, the first time, the snapshot. Counts what it returns.
    fn update(&mut self, value: Value, stats: &Stats) -> Option<Message> {
        match &mut self.0 {
            Some(document) => {
                let frame = document.update(Doc::Private, value)?;
                bump(&stats.sync_patches, 1);
                Some(frame)
            }
            None => {
                let document = Document::new(value);
                bump(&stats.sync_snapshots, 1);
                Some(self.0.insert(document).snapshot(Doc::Private))
            }
        }
    }
}

impl SyncState {
    /// A hook ran: the views may have changed.
    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }

    /// `client` connected, resumed, or asked for snapshots: it gets them
    /// on the next pass.
    pub(crate) fn renew(&mut self, client: ClientId) {
        self.clients.remove(&client);
        self.newcomers = true;
    }

    /// The room's sync timer fired.
    pub(crate) fn ticked(&mut self) {
        self.armed = false;
    }

    /// Sends what changed (and snapshots to newcomers) for a synced service
    /// (`RoomCore::sync` calls it only for one). Does nothing when nothing
    /// ran, or (with a patch rate) before the next tick, which it arms.
    pub(crate) fn run<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        service: &S,
        members: &Members<O>,
        now: Duration,
    ) {
        if !(self.dirty || self.newcomers) || members.clients.is_empty() {
            return;
        }
        let due = self.dirty && S::PATCH_RATE.is_none_or(|_| now >= self.next_tick);
        if self.dirty && !due && !self.armed {
            self.armed = true;
            members
                .timers
                .borrow_mut()
                .set(TimerId::Sync, self.next_tick, None);
        }
        if !due && !self.newcomers {
            return;
        }
        let ctx = RoomContext { members };
        let mut patch = None;
        if due || self.shared.is_none() {
            if let Some(rate) = S::PATCH_RATE {
                self.next_tick = now + rate;
            }
            patch = self.update_shared(service.view(), &ctx);
        }
        if due {
            self.dirty = false;
        }
        self.newcomers = false;
        let mut connected = 0;
        for (&client, slot) in &members.clients {
            if slot.link.is_none() {
                // Away: snapshots on its return.
                self.clients.remove(&client);
                continue;
            }
            connected += 1;
            let send = |frame: Message| members.push_or_hold(client, slot, frame);
            match self.clients.get_mut(&client) {
                Some(private) => {
                    if let Some(frame) = &patch {
                        bump(&members.stats.sync_patches, 1);
                        send(frame.clone());
                    }
                    if due
                        && let Some(value) = view_value(service.private_view(client), &ctx)
                        && let Some(frame) = private.update(value, &members.stats)
                    {
                        send(frame);
                    }
                }
                None => {
                    if let Some(shared) = &mut self.shared {
                        let document = &shared.document;
                        let frame = shared
                            .snapshot
                            .get_or_insert_with(|| document.snapshot(Doc::Shared));
                        bump(&members.stats.sync_snapshots, 1);
                        send(frame.clone());
                    }
                    let mut private = Private::default();
                    if let Some(value) = view_value(service.private_view(client), &ctx)
                        && let Some(frame) = private.update(value, &members.stats)
                    {
                        send(frame);
                    }
                    self.clients.insert(client, private);
                }
            }
        }
        if self.clients.len() > connected {
            self.clients
                .retain(|client, _| members.clients.contains_key(client));
        }
    }

    /// Takes the shared view as it is now; returns the patch frame to send
    /// to the clients that hold the previous one, if it changed.
    fn update_shared<O: Outlet>(
        &mut self,
        view: Option<Result<Value, serde_json::Error>>,
        ctx: &RoomContext<'_, O>,
    ) -> Option<Message> {
        let value = view_value(view, ctx)?;
        match &mut self.shared {
            None => {
                self.shared = Some(Shared {
                    document: Document::new(value),
                    snapshot: None,
                });
                None
            }
            Some(shared) => {
                let frame = shared.document.update(Doc::Shared, value)?;
                shared.snapshot = None;
                Some(frame)
            }
        }
    }
}

/// A view's value; a view that cannot be written as JSON is a bug in the
/// service (logged and counted, or a failed test), and sends nothing.
fn view_value<O: Outlet>(
    view: Option<Result<Value, serde_json::Error>>,
    ctx: &RoomContext<'_, O>,
) -> Option<Value> {
    match view? {
        Ok(value) => Some(value),
        Err(error) => {
            ctx.report_bug(&format!("the view cannot be written as JSON: {error}"));
            None
        }
    }
}
