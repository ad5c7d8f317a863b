//! A room's logic with no I/O and no clock of its own: the service instance,
//! its clients and its timers. The server's room task drives it with real
//! time and sockets; the test kit drives it with a virtual clock and
//! in-memory inboxes, so both run the very same code.
//!
//! Every way a client leaves ends in [`RoomCore::remove`], which runs the
//! service's `disconnect` only for a client still in the room: that is what
//! makes `disconnect` run exactly once per client.

use crate::members::{Leave, Members, Outlet, RoomContext, RoomSettings, Slot};
use crate::outbox::Push;
use crate::resume::{Replay, ResumeRequest, parse_token};
use crate::snapshot::Meta;
use crate::stats::{Reason, Stats, bump};
use crate::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::{
    ClientData, ClientId, JoinRequest, Reject, ResumeRefused, SessionFrame, SimpleStateroomService,
};
use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

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
}

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// Builds the service with `S::new` at room time `now`.
    pub(crate) fn new(
        room_id: Arc<str>,
        settings: RoomSettings,
        now: Duration,
    ) -> Result<Self, Panicked> {
        let members = Members::new(room_id, settings, now);
        let service = catch_unwind(AssertUnwindSafe(|| {
            S::new(&members.room_id, &RoomContext { members: &members })
        }))
        .map_err(Panicked)?;
        Ok(RoomCore {
            service,
            members,
            ending: false,
        })
    }

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
        now: Duration,
        unix_now: u64,
    ) -> Result<Self, Panicked> {
        let mut members = Members::new(room_id, settings, now);
        let leaving = meta.restore_into(&mut members, now, unix_now);
        let mut core = RoomCore {
            service,
            members,
            ending: false,
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
        let state = self.service.save_state()?;
        Ok((state, Meta::of(&self.members, now, unix_now)))
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
        for slot in self.members.clients.values_mut() {
            if let Some((_, outlet)) = slot.link.take() {
                outlet.close(Some(frame.clone()));
            }
            if let Some(replay) = &slot.replay {
                replay.borrow_mut().hold();
            }
        }
    }

    #[cfg(feature = "testing")]
    pub(crate) fn service(&self) -> &S {
        &self.service
    }

    #[cfg(feature = "testing")]
    pub(crate) fn service_mut(&mut self) -> &mut S {
        &mut self.service
    }

    /// Runs the `join` hook: may this request join, and with what data?
    pub(crate) fn admit(
        &self,
        request: &JoinRequest,
        now: Duration,
    ) -> Result<Result<ClientData, Reject>, Panicked> {
        self.members.now.set(now);
        let ctx = RoomContext {
            members: &self.members,
        };
        catch_unwind(AssertUnwindSafe(|| self.service.join(request, &ctx))).map_err(Panicked)
    }

    /// A connection `conn` (its own fresh id) has opened for an admitted
    /// client: it continues a held session if it presented a good token,
    /// else it is a new client `conn`. Returns the client it is.
    pub(crate) fn connect(
        &mut self,
        conn: ClientId,
        outlet: O,
        data: ClientData,
        resume: Option<&ResumeRequest>,
        now: Duration,
    ) -> Result<ClientId, Panicked> {
        let Some(settings) = self.members.settings.resume else {
            bump(&self.members.stats.connects, 1);
            let slot = Slot {
                link: Some((conn, outlet)),
                data,
                replay: None,
            };
            self.members.clients.insert(conn, slot);
            self.call(now, |service, ctx| service.connect(conn, ctx))?;
            return Ok(conn);
        };
        let refused = match resume {
            Some(resume) => match self.resume(conn, &outlet, resume, now)? {
                Ok(client) => {
                    bump(&self.members.stats.resumes, 1);
                    return Ok(client);
                }
                Err(refused) => {
                    bump(&self.members.stats.resumes_refused, 1);
                    tracing::debug!(client = %conn, ?refused, "resume refused; a new client");
                    Some(refused)
                }
            },
            None => None,
        };
        bump(&self.members.stats.connects, 1);
        let replay = Replay::new(&settings);
        let session = SessionFrame {
            client: conn,
            token: replay.token(conn),
            resumed: false,
            replayed: 0,
            refused,
        };
        send_session(&outlet, &session);
        let slot = Slot {
            link: Some((conn, outlet)),
            data,
            replay: Some(RefCell::new(replay)),
        };
        self.members.clients.insert(conn, slot);
        self.call(now, |service, ctx| service.connect(conn, ctx))?;
        Ok(conn)
    }

    /// Continues the session `resume` names on connection `conn`, or says why not.
    fn resume(
        &mut self,
        conn: ClientId,
        outlet: &O,
        resume: &ResumeRequest,
        now: Duration,
    ) -> Result<Result<ClientId, ResumeRefused>, Panicked> {
        let (client, secret) = match parse_token(&resume.token) {
            Ok(parsed) => parsed,
            Err(refused) => return Ok(Err(refused)),
        };
        let Some(slot) = self.members.clients.get_mut(&client) else {
            return Ok(Err(ResumeRefused::UnknownToken));
        };
        let Some(replay) = &slot.replay else {
            return Ok(Err(ResumeRefused::UnknownToken));
        };
        let resumed = replay.borrow_mut().resume(&secret, resume.ack);
        let frames = match resumed {
            Ok(frames) => frames,
            Err(ResumeRefused::InvalidToken) => return Ok(Err(ResumeRefused::InvalidToken)),
            Err(refused) => {
                // The token was good: whoever held the session is back as a
                // new client, so the old session ends now.
                self.remove(client, Reason::ResumeFailed, now)?;
                return Ok(Err(refused));
            }
        };
        if let Some((_, old)) = slot.link.take() {
            old.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "resumed on a new connection".into(),
            }));
        }
        self.members
            .timers
            .borrow_mut()
            .cancel(&TimerId::Expire(client));
        let token = replay.borrow().token(client);
        send_session(
            outlet,
            &SessionFrame {
                client,
                token,
                resumed: true,
                replayed: frames.len() as u64,
                refused: None,
            },
        );
        let mut overflowed = false;
        for frame in frames {
            overflowed |= outlet.push(frame) == Push::Overflowed;
        }
        slot.link = Some((conn, outlet.clone()));
        if overflowed {
            self.members
                .leaving
                .borrow_mut()
                .push((client, Leave::Overflowed));
        }
        tracing::debug!(%client, "client resumed");
        self.call(now, |service, ctx| service.reconnect(client, ctx))?;
        Ok(Ok(client))
    }

    /// Whether `conn` is `client`'s current connection.
    fn is_current(&self, client: ClientId, conn: ClientId) -> bool {
        self.members
            .clients
            .get(&client)
            .and_then(|slot| slot.link.as_ref())
            .is_some_and(|(current, _)| *current == conn)
    }

    pub(crate) fn text(
        &mut self,
        client: ClientId,
        conn: ClientId,
        text: &str,
        now: Duration,
    ) -> Result<(), Panicked> {
        if !self.is_current(client, conn) {
            return Ok(());
        }
        bump(&self.members.stats.messages_in, 1);
        bump(&self.members.stats.bytes_in, text.len() as u64);
        self.call(now, |service, ctx| service.message(client, text, ctx))
    }

    pub(crate) fn binary(
        &mut self,
        client: ClientId,
        conn: ClientId,
        data: &[u8],
        now: Duration,
    ) -> Result<(), Panicked> {
        if !self.is_current(client, conn) {
            return Ok(());
        }
        bump(&self.members.stats.messages_in, 1);
        bump(&self.members.stats.bytes_in, data.len() as u64);
        self.call(now, |service, ctx| service.binary(client, data, ctx))
    }

    /// Connection `conn` of `client` has ended. A dropped connection keeps its
    /// seat for the reconnection window (when on); anything else leaves.
    pub(crate) fn gone(
        &mut self,
        client: ClientId,
        conn: ClientId,
        how: Gone,
        now: Duration,
    ) -> Result<(), Panicked> {
        if !self.is_current(client, conn) {
            return Ok(());
        }
        match how {
            Gone::Dropped => self.hold_or_remove(client, Reason::Dropped, now),
            Gone::Goodbye => self.remove(client, Reason::ClientClose, now),
            Gone::Refused(reason) => self.remove(client, reason, now),
            Gone::ServerClosed if self.ending => self.remove(client, Reason::Shutdown, now),
            Gone::ServerClosed => self.remove(client, Reason::Dropped, now),
        }
    }

    /// Holds `client`'s seat for the reconnection window if it is on (and the
    /// room is not ending); removes the client (for `reason`) otherwise.
    fn hold_or_remove(
        &mut self,
        client: ClientId,
        reason: Reason,
        now: Duration,
    ) -> Result<(), Panicked> {
        let window = self.members.settings.resume.map(|settings| settings.window);
        match (window, self.members.clients.get_mut(&client)) {
            (Some(window), Some(slot)) if !self.ending => {
                slot.link = None;
                if let Some(replay) = &slot.replay {
                    replay.borrow_mut().hold();
                }
                tracing::debug!(%client, "connection dropped; seat held for a resume");
                self.members.timers.borrow_mut().set(
                    TimerId::Expire(client),
                    now.saturating_add(window),
                    None,
                );
                Ok(())
            }
            _ => self.remove(client, reason, now),
        }
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
        self.close_all(frame);
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
    pub(crate) fn client_data(&self, client: ClientId) -> Option<&ClientData> {
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
            }
        }
    }

    /// Runs one hook at room time `now` with panics caught, then removes the
    /// clients it closed or whose queues overflowed while it ran.
    fn call(
        &mut self,
        now: Duration,
        hook: impl FnOnce(&mut S, &RoomContext<'_, O>),
    ) -> Result<(), Panicked> {
        self.members.now.set(now);
        let ctx = RoomContext {
            members: &self.members,
        };
        catch_unwind(AssertUnwindSafe(|| hook(&mut self.service, &ctx))).map_err(Panicked)?;
        self.remove_leaving(now)
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
fn send_session<O: Outlet>(outlet: &O, session: &SessionFrame) {
    // A fresh outlet never overflows on its first frame.
    let _ = outlet.push(Message::Text(session.to_json().into()));
}
