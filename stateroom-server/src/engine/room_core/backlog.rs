//! A room whose server is behind: some clients' queues are past their bound
//! on sockets that take bytes (see [`crate::engine::outbox`]). The room then takes no
//! events until they drain, so its clients' reads pause and TCP slows the
//! senders; every reader is kept.

use super::RoomCore;
use crate::engine::members::{Outlet, Slot};
use crate::engine::outbox::Backlog;
use crate::engine::stats::bump;

impl<S, O: Outlet> RoomCore<S, O> {
    /// Some client's queue is behind: take no events for now.
    pub(crate) fn is_behind(&self) -> bool {
        !self.members.behind.borrow().is_empty()
    }

    /// Looks at the behind queues again and forgets those that drained (or
    /// closed, or whose socket refuses bytes: a slow reader, which its queue
    /// cuts if that lasts). Returns whether the room is still behind.
    pub(crate) fn recheck_behind(&self) -> bool {
        let clients = &self.members.clients;
        let mut behind = self.members.behind.borrow_mut();
        behind.sort_unstable();
        behind.dedup();
        behind.retain(|client| {
            clients
                .get(client)
                .and_then(Slot::outlet)
                .is_some_and(|outlet| outlet.backlog() == Backlog::Behind)
        });
        !behind.is_empty()
    }

    /// The room starts a pause (counted for the metrics).
    pub(crate) fn pausing(&self) {
        bump(&self.members.stats.backpressure_pauses, 1);
    }
}
