//! The test kit's crash and exactly-once tools: messages lost in flight,
//! what the room has not acknowledged, and a restart from a snapshot.

use super::{TestRoom, inbox::Outgoing, unwrap_hook};
use crate::engine::room_core::RoomCore;
use stateroom_core::{ClientId, SimpleStateroomService};
use std::time::Duration;

/// The kit's wall clock at virtual time zero (snapshots keep timers as
/// wall-clock deadlines; any fixed origin will do).
const EPOCH_MS: u64 = 1_700_000_000_000;

impl<S: SimpleStateroomService> TestRoom<S> {
    /// The wall clock at the current virtual time.
    pub(super) fn unix_now(&self) -> u64 {
        EPOCH_MS + u64::try_from(self.now.as_millis()).unwrap_or(u64::MAX)
    }

    /// A numbered `client` (one that joined with `next=1` in its query, as
    /// `@stateroom/client` does) sends a text frame that is lost in flight
    /// with its connection: numbered and kept for a resend, never delivered
    /// on this connection, and neither is anything it sends after it there
    /// (TCP delivers in order). Then drop the connection and resume: the
    /// resume resends what the room has not acknowledged, and the room
    /// applies each message once.
    ///
    /// # Panics
    /// If the client does not number its messages.
    pub fn send_text_lost(&mut self, client: ClientId, text: &str) {
        assert!(
            self.clients
                .get(&client)
                .is_some_and(|c| c.numbering.is_some()),
            "client {client} does not number its messages: join with `next=1` in the query"
        );
        self.send_outgoing(client, Outgoing::Text(text.to_owned()), false);
    }

    /// How many of a numbered `client`'s messages the room has not yet said
    /// it applied (its `{"stateroom":{"applied":N}}` frames; they come after
    /// 32 messages or 20 ms of virtual time). A resume resends them.
    #[must_use]
    pub fn unacknowledged(&mut self, client: ClientId) -> usize {
        self.clients
            .get_mut(&client)
            .map_or(0, |c| c.unacknowledged().len())
    }

    /// The server restarts (a deploy, or a crash right after the room's last
    /// save): the room is snapshotted as a persisted room's save would be,
    /// every connection drops without a close frame, and a new instance is
    /// restored from the snapshot (`migrate`/`load_state`, then `restore`),
    /// with timers re-armed and sessions held for the reconnection window;
    /// clients without a session get their one `disconnect`. Resume them
    /// with [`resume`](Self::resume).
    ///
    /// # Panics
    /// If the state does not serialise or does not load back.
    pub fn restart(&mut self) {
        self.restart_after(Duration::ZERO);
    }

    /// [`restart`](Self::restart) with the server down for `downtime` of
    /// virtual time: timers that fell due meanwhile fire as the room opens,
    /// before anything else.
    ///
    /// # Panics
    /// As [`restart`](Self::restart).
    // Without the `yjs` feature the document field is `()`.
    #[allow(clippy::unit_arg)]
    pub fn restart_after(&mut self, downtime: Duration) {
        let (state, meta) = self
            .core
            .snapshot(self.now, self.unix_now())
            .unwrap_or_else(|error| panic!("the state does not serialise: {error}"));
        for client in self.clients.values() {
            if let Some((_, inbox)) = client.current() {
                inbox.0.borrow_mut().closed = true;
            }
        }
        self.now = self.now.saturating_add(downtime);
        let service = S::load_state(S::STATE_VERSION, &state)
            .unwrap_or_else(|error| panic!("the snapshot does not load: {error}"));
        let settings = self.core.settings().clone();
        let room_id = std::sync::Arc::from(self.room_id.as_str());
        self.core = unwrap_hook(RoomCore::restore(
            room_id,
            settings,
            service,
            &meta,
            self.core.doc_reloaded(),
            self.now,
            self.unix_now(),
        ));
        self.advance(Duration::ZERO);
    }
}
