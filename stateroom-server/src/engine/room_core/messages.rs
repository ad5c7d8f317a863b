//! What a client sends: text and binary frames, each applied once (numbered
//! clients' resends dropped, their acks batched), and a synced room's
//! resync requests.

use super::{Panicked, RoomCore};
use crate::engine::inbound::Arrived;
use crate::engine::members::Outlet;
use crate::engine::stats::bump;
use crate::engine::timers::TimerId;
use stateroom_core::{ClientId, SimpleStateroomService};
use std::time::Duration;

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    pub(crate) fn text(
        &mut self,
        client: ClientId,
        conn: ClientId,
        text: &str,
        now: Duration,
    ) -> Result<(), Panicked> {
        self.receive(client, conn, text.len(), now, |core| {
            let synced = S::SYNC || S::PRESENCE != stateroom_core::Presence::Off;
            if synced && stateroom_core::sync::is_resync_request(text) {
                core.sync.renew(client);
                core.members.presence.borrow_mut().renew(client);
                Ok(())
            } else {
                core.call(now, |service, ctx| service.message(client, text, ctx))
            }
        })
    }

    pub(crate) fn binary(
        &mut self,
        client: ClientId,
        conn: ClientId,
        data: &[u8],
        now: Duration,
    ) -> Result<(), Panicked> {
        self.receive(client, conn, data.len(), now, |core| {
            #[cfg(feature = "yjs")]
            if S::DOC {
                return core.doc_binary(client, data, now);
            }
            core.call(now, |service, ctx| service.binary(client, data, ctx))
        })
    }

    /// A message of `len` bytes from `client`'s connection `conn`: ignored
    /// from a connection that is no longer the client's, dropped as a
    /// resend of one already applied, else counted, applied with `apply`,
    /// and acknowledged (numbered clients).
    fn receive(
        &mut self,
        client: ClientId,
        conn: ClientId,
        len: usize,
        now: Duration,
        apply: impl FnOnce(&mut Self) -> Result<(), Panicked>,
    ) -> Result<(), Panicked> {
        if !self.is_current(client, conn) {
            return Ok(());
        }
        let arrived = self.members.arrive(client);
        if arrived == Arrived::Duplicate {
            return Ok(());
        }
        bump(&self.members.stats.messages_in, 1);
        bump(&self.members.stats.bytes_in, len as u64);
        apply(self)?;
        if arrived == Arrived::Apply {
            self.applied(client, now)?;
        }
        Ok(())
    }

    /// A numbered message from `client` was applied: tell it now if a batch is owed,
    /// else within [`ACK_DELAY`](crate::engine::inbound::ACK_DELAY).
    fn applied(&mut self, client: ClientId, now: Duration) -> Result<(), Panicked> {
        match self.members.ack_owed(client) {
            None => Ok(()),
            Some(true) => {
                self.members.send_ack(client);
                self.remove_leaving(now)
            }
            Some(false) => {
                if !self.members.acks_armed.replace(true) {
                    self.members.timers.borrow_mut().set(
                        TimerId::Acks,
                        now + crate::engine::inbound::ACK_DELAY,
                        None,
                    );
                }
                Ok(())
            }
        }
    }
}
