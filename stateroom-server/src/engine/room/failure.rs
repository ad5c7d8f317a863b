//! A room that stops: what its clients and the events still queued for
//! it are told when a hook panicked, a save failed or its lease was lost,
//! and when it could not open.

use super::RoomTask;
use crate::engine::event::RoomEvent;
use crate::engine::outbox::{close_frame, failed_frame};
use crate::engine::persistence::SaveFailed;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::SimpleStateroomService;
use tokio::sync::mpsc;
use tracing::{error, warn};

/// Closes the clients whose joins are still queued for a room that failed.
/// Answers what waits in a room's queue when it stops: with `retry` (its
/// store is unreachable, or it moved to another node) a queued join gets
/// 503 and comes back; else dropping its reply tells its HTTP request the
/// room failed (500). A queued connection's outbox is closed with 1011.
pub(super) fn close_pending(events: &mut mpsc::Receiver<RoomEvent>, retry: bool) {
    events.close();
    while let Ok(event) = events.try_recv() {
        match event {
            RoomEvent::Connect(arrival) => arrival.outbox.close(Some(failed_frame())),
            RoomEvent::Join { reply, .. } if retry => {
                let _ = reply.send(Err(stateroom_core::Reject::unavailable(
                    "the room's store is unavailable; retry",
                )));
            }
            _ => {}
        }
    }
}

impl<S: SimpleStateroomService> RoomTask<S> {
    /// A hook panicked, or a save failed: close every client with 1011 and
    /// drop the room (held frames never leave), so that the next join builds
    /// a fresh instance, or loads the last durable snapshot.
    pub(super) fn fail(self, failure: &SaveFailed, events: &mut mpsc::Receiver<RoomEvent>) {
        match failure {
            SaveFailed::Panicked(panicked) => error!(
                room = %self.shared.id,
                panic = panicked.message(),
                "a hook panicked; closing the room's clients with 1011 and removing the room"
            ),
            SaveFailed::Fenced | SaveFailed::StaleFence => warn!(
                room = %self.shared.id,
                error = %failure,
                "fenced: dropping the frames it held, closing the room's clients with 1012 so that they reconnect to the room's new node"
            ),
            other => error!(
                room = %self.shared.id,
                error = %other,
                "a save failed; dropping the frames it held, closing the room's clients with 1011 and removing the room"
            ),
        }
        let state = self.shared.lock();
        state.core.discard_held();
        if let Some(metrics) = &self.shared.engine.metrics {
            match failure {
                SaveFailed::Panicked(_) => metrics.panicked(),
                _ => metrics.save_failed(),
            }
            metrics.absorb(state.core.stats(), &self.shared.counters);
        }
        self.shared
            .engine
            .rooms
            .remove(&self.shared.id, self.generation);
        let frame = match failure {
            // Another node has (or will have) the room: come back there.
            SaveFailed::Fenced | SaveFailed::StaleFence if self.shared.engine.leases.is_some() => {
                close_frame(CloseCode::Restart, "service restart")
            }
            _ => failed_frame(),
        };
        state.core.close_all(&frame);
        // Clients already on their way in hold this room's queue: close them too.
        let moved = matches!(failure, SaveFailed::Fenced | SaveFailed::StaleFence)
            && self.shared.engine.leases.is_some();
        close_pending(events, moved);
    }
}
