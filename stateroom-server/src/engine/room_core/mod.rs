//! A room's logic with no I/O and no clock of its own: the service instance,
//! its clients and its timers. The server's room task drives it with real
//! time and sockets; the test kit drives it with a virtual clock and
//! in-memory inboxes, so both run the very same code.
//!
//! Every way a client leaves ends in [`RoomCore::remove`], which runs the
//! service's `disconnect` only for a client still in the room: that is what
//! makes `disconnect` run exactly once per client.

use crate::engine::members::{Leave, Members, Outlet, RoomContext, RoomSettings, Slot};
use crate::engine::outbox::Push;
use crate::engine::stats::{Reason, Stats, bump};
use crate::engine::sync::SyncState;
use crate::engine::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use stateroom_core::{ClientId, SessionFrame, SimpleStateroomService};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

mod backlog;
#[cfg(feature = "yjs")]
mod doc;
mod messages;
mod outside;
mod persisted;
mod seats;
mod sessions;

/// A hook panicked; the room's state can no longer be trusted. Holds the panic.
pub(crate) struct Panicked(pub(crate) Box<dyn Any + Send>);

impl Panicked {
    /// The panic's message, when it has one.
    pub(crate) fn message(&self) -> &str {
        self.0
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| self.0.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)")
    }
}

/// How a connection ended, as its room is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gone {
    /// It said goodbye (a close frame): the session ends.
    Goodbye,
    /// It vanished (TCP dropped, no close frame): with reconnection on, the
    /// seat is held for the window.
    Dropped,
    /// It broke a rule (a protocol error, a message too big): the session ends.
    Refused(Reason),
    /// The server closed it (its room already knows why).
    ServerClosed,
}

/// One room: its service and everything the service can reach.
pub(crate) struct RoomCore<S, O> {
    service: S,
    members: Members<O>,
    /// The room is shutting down: no seat is held any more.
    ending: bool,
    /// What each client last received of the views (synced services).
    sync: SyncState,
}

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// Builds the service with `S::new` at room time `now`.
    pub(crate) fn new(
        room_id: Arc<str>,
        settings: RoomSettings,
        now: Duration,
    ) -> Result<Self, Panicked> {
        #[allow(unused_mut)]
        let mut members = Members::new(room_id, settings, now);
        #[cfg(feature = "yjs")]
        if S::DOC {
            let persisted = members.settings.persist.is_some();
            members.doc = Some(crate::engine::yjs::DocRoom::new(persisted));
        }
        let service = catch_unwind(AssertUnwindSafe(|| {
            S::new(&members.room_id, &RoomContext { members: &members })
        }))
        .map_err(Panicked)?;
        #[allow(unused_mut)]
        let mut core = RoomCore {
            service,
            members,
            ending: false,
            sync: SyncState::default(),
        };
        #[cfg(feature = "yjs")]
        if let Some(doc) = core.members.doc.as_ref().map(|doc| doc.doc().clone()) {
            core.call(now, |service, ctx| service.seed(&doc, ctx))?;
        }
        Ok(core)
    }

    #[cfg(feature = "testing")]
    pub(crate) fn service(&self) -> &S {
        &self.service
    }

    #[cfg(feature = "testing")]
    pub(crate) fn service_mut(&mut self) -> &mut S {
        &mut self.service
    }

    /// Removes a client and runs `disconnect` for it, if it is still in the room.
    pub(crate) fn remove(
        &mut self,
        client: ClientId,
        reason: Reason,
        now: Duration,
    ) -> Result<(), Panicked> {
        let Some(slot) = self.members.clients.remove(&client) else {
            return Ok(());
        };
        self.members.stats.disconnect(reason);
        self.members
            .timers
            .borrow_mut()
            .cancel(&TimerId::Expire(client));
        tracing::debug!(%client, "client left");
        self.members.presence.borrow_mut().left(client);
        #[cfg(feature = "yjs")]
        self.doc_left(client);
        // Out of the room (nothing more reaches it), but its data stays
        // readable while `disconnect` runs; dropped right after.
        self.members.departing = Some((client, slot.data));
        let result = self.call(now, |service, ctx| service.disconnect(client, ctx));
        self.members.departing = None;
        result
    }

    /// Closes `client`'s connection (if `conn` is still its current one) with
    /// `frame`, after what is queued for it.
    pub(crate) fn close(&self, client: ClientId, conn: ClientId, frame: CloseFrame) {
        if self.is_current(client, conn)
            && let Some(outlet) = self.members.clients.get(&client).and_then(Slot::outlet)
        {
            outlet.close(Some(frame));
        }
    }

    /// The room is ending: closes every connection with `frame`, and removes
    /// every client whose seat was held (their `disconnect` runs now; the
    /// connected ones' runs as their connections end).
    pub(crate) fn end(&mut self, frame: &CloseFrame, now: Duration) -> Result<(), Panicked> {
        self.ending = true;
        for (&client, slot) in &self.members.clients {
            if let Some(outlet) = slot.outlet() {
                self.members.gate.close_in_order(client, outlet, frame);
            }
        }
        let away: Vec<ClientId> = self
            .members
            .clients
            .iter()
            .filter(|(_, slot)| slot.link.is_none())
            .map(|(&client, _)| client)
            .collect();
        for client in away {
            self.remove(client, Reason::Shutdown, now)?;
        }
        Ok(())
    }

    /// Closes every connection with `frame`.
    pub(crate) fn close_all(&self, frame: &CloseFrame) {
        for slot in self.members.clients.values() {
            if let Some(outlet) = slot.outlet() {
                outlet.close(Some(frame.clone()));
            }
        }
    }

    /// The heartbeat: clients silent for longer than `timeout` are closed with
    /// `frame` and treated as dropped; the rest are pinged.
    pub(crate) fn sweep(
        &mut self,
        timeout: Duration,
        frame: &CloseFrame,
        now: Duration,
    ) -> Result<(), Panicked> {
        let mut silent = Vec::new();
        for (&client, slot) in &self.members.clients {
            let Some(outlet) = slot.outlet() else {
                continue;
            };
            if outlet.silent_for() > timeout {
                outlet.close(Some(frame.clone()));
                silent.push(client);
            } else if outlet.push(Message::Ping(bytes::Bytes::new())) == Push::Overflowed {
                self.members
                    .leaving
                    .borrow_mut()
                    .push((client, Leave::Overflowed));
            }
        }
        for client in silent {
            tracing::debug!(%client, "client silent past the heartbeat timeout; dropping it");
            self.hold_or_remove(client, Reason::HeartbeatTimeout, now)?;
        }
        self.remove_leaving(now)
    }

    /// Sends each connected client what changed in the documents it holds:
    /// the presence document (services with presence) and the views
    /// (synced services), with snapshots to those that need them. The room
    /// task calls it after each batch of events, the test kit after each
    /// step.
    pub(crate) fn sync(&mut self, now: Duration) -> Result<(), Panicked> {
        #[cfg(feature = "yjs")]
        self.doc_flush(now)?;
        self.members.presence.borrow_mut().run(&self.members, now);
        if !S::SYNC {
            return self.remove_leaving(now);
        }
        self.members.now.set(now);
        let (sync, service, members) = (&mut self.sync, &self.service, &self.members);
        catch_unwind(AssertUnwindSafe(|| sync.run(service, members, now))).map_err(Panicked)?;
        self.remove_leaving(now)
    }

    /// The room's counts since they were last taken.
    pub(crate) fn stats(&self) -> &Stats {
        &self.members.stats
    }

    /// How many clients are in the room (connected, or away with a held seat).
    pub(crate) fn client_count(&self) -> usize {
        self.members.clients.len()
    }

    /// Whether any client is in the room (connected, or away with a held seat).
    pub(crate) fn has_clients(&self) -> bool {
        !self.members.clients.is_empty()
    }

    /// Whether `client` is in the room with a connection.
    #[cfg(feature = "testing")]
    pub(crate) fn is_connected(&self, client: ClientId) -> bool {
        self.members
            .clients
            .get(&client)
            .is_some_and(|slot| slot.link.is_some())
    }

    /// What `client`'s join attached, if it is in the room.
    #[cfg(feature = "testing")]
    pub(crate) fn client_data(&self, client: ClientId) -> Option<&stateroom_core::ClientData> {
        self.members.clients.get(&client).map(|slot| &slot.data)
    }

    /// The earliest pending timer deadline (room time).
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.members.timers.borrow_mut().next_deadline()
    }

    #[cfg(feature = "testing")]
    pub(crate) fn pending_timers(&self) -> usize {
        self.members.timers.borrow().pending()
    }

    #[cfg(feature = "testing")]
    pub(crate) fn timer_storage(&self) -> usize {
        self.members.timers.borrow().storage()
    }

    /// Fires, in deadline order, every timer due at room time `now` that was set
    /// before this call, telling `fired` about each of the service's (with
    /// its deadline).
    pub(crate) fn fire_due(
        &mut self,
        now: Duration,
        fired: &mut impl FnMut(&TimerId, Duration),
    ) -> Result<(), Panicked> {
        let watermark = self.members.timers.borrow().watermark();
        loop {
            let due = self.members.timers.borrow_mut().pop_due(now, watermark);
            let Some((id, deadline)) = due else {
                return Ok(());
            };
            match id {
                TimerId::Seed => {
                    fired(&id, deadline);
                    self.call(now, |service, ctx| service.timer(ctx))?;
                }
                TimerId::Named(ref key) => {
                    fired(&id, deadline);
                    self.call(now, |service, ctx| service.alarm(key, ctx))?;
                }
                TimerId::Expire(client) => {
                    tracing::debug!(%client, "reconnection window over");
                    self.remove(client, Reason::ReconnectExpired, now)?;
                }
                TimerId::Sync => self.sync.ticked(),
                TimerId::Presence => self.members.presence.borrow_mut().ticked(),
                TimerId::Acks => {
                    self.members.acks_armed.set(false);
                    self.members.send_acks();
                    self.remove_leaving(now)?;
                }
            }
        }
    }

    /// Runs one hook at room time `now` with panics caught, then removes the
    /// clients it closed or whose queues overflowed while it ran.
    fn call<T>(
        &mut self,
        now: Duration,
        hook: impl FnOnce(&mut S, &RoomContext<'_, O>) -> T,
    ) -> Result<T, Panicked> {
        self.members.now.set(now);
        let ctx = RoomContext {
            members: &self.members,
        };
        self.sync.touch();
        let value =
            catch_unwind(AssertUnwindSafe(|| hook(&mut self.service, &ctx))).map_err(Panicked)?;
        self.remove_leaving(now)?;
        Ok(value)
    }

    /// Removes the clients marked as leaving, running their `disconnect`
    /// (which may mark others, and so on).
    fn remove_leaving(&mut self, now: Duration) -> Result<(), Panicked> {
        loop {
            let leaving = std::mem::take(&mut *self.members.leaving.borrow_mut());
            if leaving.is_empty() {
                return Ok(());
            }
            for (client, why) in leaving {
                let reason = match why {
                    Leave::Overflowed => {
                        tracing::warn!(
                            %client,
                            "outbound queue overflowed; closing the client with 1008"
                        );
                        let dropped = self
                            .members
                            .clients
                            .get(&client)
                            .and_then(Slot::outlet)
                            .map_or(0, Outlet::dropped);
                        bump(&self.members.stats.backpressure_dropped, dropped);
                        Reason::Backpressure
                    }
                    Leave::Lost => {
                        tracing::debug!(
                            %client,
                            "frames for an away client exceeded the resume buffer; its session ends"
                        );
                        Reason::ResumeFailed
                    }
                    Leave::Kicked => {
                        tracing::debug!(%client, "client closed by the service");
                        Reason::Kick
                    }
                };
                self.remove(client, reason, now)?;
            }
        }
    }
}

/// Sends the session frame (not counted as a data frame: it bypasses the
/// replay buffer).
/// The session frame a connection gets first.
fn session_frame(session: &SessionFrame) -> Message {
    Message::Text(session.to_json().into())
}
