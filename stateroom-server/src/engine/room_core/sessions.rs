//! Clients coming and going: a connection that opens (a new client, or a
//! resumed session), one that ends (its seat held for the reconnection
//! window, or the client removed).

use super::{Gone, Panicked, RoomCore, session_frame};
use crate::engine::inbound::{Inbound, ack_frame};
use crate::engine::members::{Outlet, Slot};
use crate::engine::resume::{Replay, ResumeRequest, parse_token};
use crate::engine::stats::{Reason, bump};
use crate::engine::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::{ClientData, ClientId, ResumeRefused, SessionFrame, SimpleStateroomService};
use std::cell::RefCell;
use std::time::Duration;

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// A connection `conn` (its own fresh id) has opened for an admitted
    /// client: it continues a held session if it presented a good token,
    /// else it is a new client `conn`. Returns the client it is, which
    /// gets fresh snapshots of a synced room's views.
    pub(crate) fn connect(
        &mut self,
        conn: ClientId,
        outlet: O,
        data: ClientData,
        resume: Option<&ResumeRequest>,
        now: Duration,
    ) -> Result<ClientId, Panicked> {
        let client = self.open_session(conn, outlet, data, resume, now)?;
        #[cfg(feature = "yjs")]
        self.doc_connected(client);
        self.sync.renew(client);
        self.members.presence.borrow_mut().renew(client);
        Ok(client)
    }

    fn open_session(
        &mut self,
        conn: ClientId,
        outlet: O,
        data: ClientData,
        resume: Option<&ResumeRequest>,
        now: Duration,
    ) -> Result<ClientId, Panicked> {
        let Some(settings) = self.members.settings.resume else {
            bump(&self.members.stats.connects, 1);
            // The seat its join took is now a client's.
            self.members.listing.borrow_mut().connected();
            let slot = Slot {
                link: Some((conn, outlet)),
                data,
                replay: None,
            };
            self.members.clients.insert(conn, slot);
            self.members
                .high_water
                .set(self.members.high_water.get().max(u32::from(conn)));
            self.call(now, |service, ctx| service.connect(conn, ctx))?;
            return Ok(conn);
        };
        let (refused, carried) = match resume.filter(|resume| resume.token.is_some()) {
            Some(resume) => match self.resume(conn, &outlet, resume, now)? {
                Ok(client) => {
                    bump(&self.members.stats.resumes, 1);
                    return Ok(client);
                }
                Err((refused, carried)) => {
                    bump(&self.members.stats.resumes_refused, 1);
                    tracing::debug!(client = %conn, ?refused, "resume refused; a new client");
                    (Some(refused), carried)
                }
            },
            None => (None, None),
        };
        let next = resume.and_then(|resume| resume.next);
        let held = data
            .principal()
            .and_then(|principal| self.held_seat_of(principal));
        if let Some(held) = held {
            return self.take_over(held, conn, outlet, data, next, refused, now);
        }
        bump(&self.members.stats.connects, 1);
        // The seat its join took is now a client's.
        self.members.listing.borrow_mut().connected();
        let mut replay = Replay::new(&settings);
        if next.is_some() || carried.is_some() {
            replay.inbound = Some(Inbound::numbered(carried.unwrap_or(0), next));
        }
        let session = SessionFrame {
            client: conn,
            token: replay.token(conn),
            resumed: false,
            replayed: 0,
            refused,
        };
        // A new secret: as durable as the rest before it leaves.
        self.members.control(conn, &outlet, session_frame(&session));
        if let (Some(applied), Some(_)) = (carried, next) {
            self.members
                .control(conn, &outlet, Message::Text(ack_frame(applied).into()));
        }
        let slot = Slot {
            link: Some((conn, outlet)),
            data,
            replay: Some(Box::new(RefCell::new(replay))),
        };
        self.members.clients.insert(conn, slot);
        self.members
            .high_water
            .set(self.members.high_water.get().max(u32::from(conn)));
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
    ) -> Result<Result<ClientId, (ResumeRefused, Option<u64>)>, Panicked> {
        let Some(token) = resume.token.as_deref() else {
            return Ok(Err((ResumeRefused::MalformedToken, None)));
        };
        let (client, secret) = match parse_token(token) {
            Ok(parsed) => parsed,
            Err(refused) => return Ok(Err((refused, None))),
        };
        let Some(slot) = self.members.clients.get_mut(&client) else {
            return Ok(Err((ResumeRefused::UnknownToken, None)));
        };
        let Some(replay) = &slot.replay else {
            return Ok(Err((ResumeRefused::UnknownToken, None)));
        };
        let resumed = replay.borrow_mut().resume(&secret, resume.ack);
        let frames = match resumed {
            Ok(frames) => frames,
            Err(ResumeRefused::InvalidToken) => {
                return Ok(Err((ResumeRefused::InvalidToken, None)));
            }
            Err(refused) => {
                // The token was good: whoever held the session is back as a
                // new client, so the old session ends now. What it applied
                // goes on with the new one, so that resent messages are
                // still recognised.
                let applied = replay.borrow().inbound.as_ref().map(|i| i.applied);
                self.remove(client, Reason::ResumeFailed, now)?;
                return Ok(Err((refused, applied)));
            }
        };
        if let Some((_, old)) = slot.link.take() {
            old.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "resumed on a new connection".into(),
            }));
        }
        slot.link = Some((conn, outlet.clone()));
        let (token, applied) = {
            let mut replay = replay.borrow_mut();
            // What was applied is told on every numbered connection.
            let applied = match (&mut replay.inbound, resume.next) {
                (Some(inbound), next) => {
                    inbound.connected(next);
                    next.map(|_| inbound.applied)
                }
                (inbound @ None, Some(next)) => {
                    *inbound = Some(Inbound::numbered(0, Some(next)));
                    Some(0)
                }
                (None, None) => None,
            };
            (replay.token(client), applied)
        };
        self.members
            .timers
            .borrow_mut()
            .cancel(&TimerId::Expire(client));
        // The session frame (a new secret), the frames it missed, then what
        // was applied: in order with, and as durable as, everything else.
        let session = SessionFrame {
            client,
            token,
            resumed: true,
            replayed: frames.len() as u64,
            refused: None,
        };
        self.members
            .control(client, outlet, session_frame(&session));
        for frame in frames {
            self.members.control(client, outlet, frame);
        }
        if let Some(applied) = applied {
            self.members
                .control(client, outlet, Message::Text(ack_frame(applied).into()));
        }
        tracing::debug!(%client, "client resumed");
        self.call(now, |service, ctx| service.reconnect(client, ctx))?;
        Ok(Ok(client))
    }

    /// The held seat (no connection, a session) of `principal`, if any.
    pub(super) fn held_seat_of(&self, principal: &str) -> Option<ClientId> {
        self.members
            .clients
            .iter()
            .find(|(_, slot)| {
                slot.link.is_none()
                    && slot.replay.is_some()
                    && slot.data.principal() == Some(principal)
            })
            .map(|(&client, _)| client)
    }

    /// A join for the principal of `client`'s held seat takes it over on
    /// connection `conn`: the same client, its new data, a fresh session
    /// (the frame count starts again and nothing is replayed: the new
    /// connection did not see the old one's), and `reconnect`.
    #[allow(clippy::too_many_arguments)]
    fn take_over(
        &mut self,
        client: ClientId,
        conn: ClientId,
        outlet: O,
        data: ClientData,
        next: Option<u64>,
        refused: Option<ResumeRefused>,
        now: Duration,
    ) -> Result<ClientId, Panicked> {
        let Some(slot) = self.members.clients.get_mut(&client) else {
            return Ok(client);
        };
        slot.link = Some((conn, outlet.clone()));
        slot.data = data;
        let token = match &slot.replay {
            Some(replay) => {
                let mut replay = replay.borrow_mut();
                replay.take_over();
                // A new message stream: numbered from its own start.
                replay.inbound = next.map(|next| Inbound::numbered(0, Some(next)));
                replay.token(client)
            }
            None => String::new(),
        };
        self.members
            .timers
            .borrow_mut()
            .cancel(&TimerId::Expire(client));
        bump(&self.members.stats.resumes, 1);
        let session = SessionFrame {
            client,
            token,
            resumed: false,
            replayed: 0,
            refused,
        };
        self.members
            .control(client, &outlet, session_frame(&session));
        tracing::debug!(%client, %conn, "seat taken over by its principal");
        self.call(now, |service, ctx| service.reconnect(client, ctx))?;
        Ok(client)
    }

    /// Whether `conn` is `client`'s current connection.
    pub(super) fn is_current(&self, client: ClientId, conn: ClientId) -> bool {
        self.members
            .clients
            .get(&client)
            .and_then(|slot| slot.link.as_ref())
            .is_some_and(|(current, _)| *current == conn)
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
    pub(super) fn hold_or_remove(
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
}
