//! A persisted room inside the room's logic: rebuilt from its snapshot,
//! written as one, and its output gate (frames held until the snapshot
//! covering them is durable).

use super::{Panicked, RoomCore};
use crate::engine::members::{DocField, Members, Outlet, RoomSettings};
use crate::engine::snapshot::Meta;
use crate::engine::stats::Reason;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use stateroom_core::SimpleStateroomService;
use std::sync::Arc;
use std::time::Duration;

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// Rebuilds a room from its snapshot: the service `S::load_state` made,
    /// and the runtime's `meta`. Timers are re-armed (overdue ones fire at
    /// once), clients whose session can resume are held for the window from
    /// now, the `restore` hook runs, and the other clients get their one
    /// `disconnect`.
    pub(crate) fn restore(
        room_id: Arc<str>,
        settings: RoomSettings,
        service: S,
        meta: &Meta,
        doc: DocField,
        now: Duration,
        unix_now: u64,
    ) -> Result<Self, Panicked> {
        let mut members = Members::new(room_id, settings, now);
        members.doc = doc;
        let leaving = meta.restore_into(&mut members, now, unix_now);
        let mut core = RoomCore {
            service,
            members,
            ending: false,
            sync: crate::engine::sync::SyncState::default(),
        };
        core.call(now, |service, ctx| service.restore(ctx))?;
        for client in leaving {
            core.remove(client, Reason::Dropped, now)?;
        }
        Ok(core)
    }

    /// The room as a snapshot: the service's state (JSON) and the runtime's
    /// metadata (JSON), at room time `now` (`unix_now` on the wall clock).
    pub(crate) fn snapshot(&self, now: Duration, unix_now: u64) -> Result<(String, Meta), String> {
        let state = self
            .service
            .save_state()
            .map_err(|error| error.to_string())?;
        Ok((state, Meta::of(&self.members, now, unix_now)))
    }

    /// What the next save writes of the document: nothing, without Yjs.
    #[cfg(not(feature = "yjs"))]
    pub(crate) fn doc_for_save(&self) -> crate::engine::store::StoredDoc {
        crate::engine::store::StoredDoc::default()
    }

    /// The test kit's restart: no document, without Yjs.
    #[cfg(all(feature = "testing", not(feature = "yjs")))]
    pub(crate) fn doc_reloaded(&self) -> DocField {}

    /// The settings the room was built with.
    #[cfg(feature = "testing")]
    pub(crate) fn settings(&self) -> &RoomSettings {
        &self.members.settings
    }

    /// Whether any client has a session that could resume (reconnection on).
    pub(crate) fn has_sessions(&self) -> bool {
        self.members
            .clients
            .values()
            .any(|slot| slot.replay.is_some())
    }

    /// How many items the output gate holds.
    pub(crate) fn held(&self) -> usize {
        self.members.gate.len()
    }

    /// Releases the first `count` held items (their snapshot is durable).
    pub(crate) fn release(&mut self, count: usize, now: Duration) -> Result<(), Panicked> {
        self.members.release(count);
        self.remove_leaving(now)
    }

    /// Manual durability: the barrier is passed; frames go out directly again.
    pub(crate) fn open_gate(&self) {
        self.members.gate.on.set(false);
    }

    /// Sends `answer` once the state it reveals is as durable as the
    /// room's mode promises: behind what the gate holds when it is on.
    pub(crate) fn answer(&self, answer: crate::engine::gate::Answer) {
        self.members.gate.answer_in_order(answer);
    }

    /// Drops every held item (their save failed).
    pub(crate) fn discard_held(&self) {
        self.members.gate.discard();
    }

    /// Whether a hook called `ctx.save()` since the last call.
    pub(crate) fn take_save_request(&self) -> bool {
        self.members.save_requested.take()
    }

    /// Whether a hook called `ctx.destroy()`.
    pub(crate) fn destroy_requested(&self) -> bool {
        self.members.destroy_requested.get()
    }

    /// The server is restarting: closes every connection with `frame` but
    /// keeps every session (no `disconnect`), for the snapshot to carry into
    /// the next process.
    pub(crate) fn suspend(&mut self, frame: &CloseFrame) {
        self.ending = true;
        for (&client, slot) in self.members.clients.iter_mut() {
            if let Some((_, outlet)) = slot.link.take() {
                self.members.gate.close_in_order(client, &outlet, frame);
            }
            if let Some(replay) = &slot.replay {
                replay.borrow_mut().hold();
            }
        }
    }
}
