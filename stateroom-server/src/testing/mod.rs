//! Runs a service in-process, with no network and a virtual clock. See
//! `stateroom::testing` for the guide and complete examples.

use crate::engine::members::RoomSettings;
use crate::engine::resume::{ResumeRequest, ResumeSettings};
use crate::engine::room_core::{Gone, Panicked, RoomCore};
use crate::engine::timers::TimerId;
use serde::de::DeserializeOwned;
use stateroom_core::{
    ClientId, Command, CommandError, JoinRequest, Reject, RoomRequest, RoomResponse, SessionFrame,
    SimpleStateroomService,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "yjs")]
mod doc;
mod inbox;
mod restart;
mod sending;
mod synced;

#[cfg(feature = "yjs")]
pub use doc::Replica;
pub use inbox::{FiredTimer, Received};
use inbox::{Inbox, TestClient};
pub use synced::{Document, Synced};

/// One room of service `S`, driven by the test: clients join, connect and
/// send as they would over a socket (through the same `join` hook, decoding
/// and error frames), connections drop and resume, and time moves only when
/// [`advance`](Self::advance) says so.
///
/// Deterministic: the same calls give the same frames, in the same order,
/// every run. A panic in a hook propagates, failing the test with its
/// message; so does a bug the server would only log (a timer key of the
/// wrong type, client data asked for under the wrong type, a message that
/// cannot be serialised).
pub struct TestRoom<S> {
    core: RoomCore<S, Inbox>,
    room_id: String,
    now: Duration,
    next_conn: u32,
    clients: BTreeMap<ClientId, TestClient>,
    fired: Vec<(Duration, FiredTimer)>,
}

fn unwrap_hook<T>(result: Result<T, Panicked>) -> T {
    match result {
        Ok(value) => value,
        Err(Panicked(payload)) => std::panic::resume_unwind(payload),
    }
}

impl<S: SimpleStateroomService> TestRoom<S> {
    /// Creates room `room_id` (running the service's `new`) at virtual time 0,
    /// with the service's own reconnection window.
    #[must_use]
    pub fn new(room_id: &str) -> Self {
        Self::with_reconnect_window(room_id, S::RECONNECT_WINDOW)
    }

    /// Like [`new`](Self::new), with reconnection on for `window` (or off for
    /// `None`) whatever the service says, and the server's default resume
    /// buffer (256 frames, 1 MiB).
    #[must_use]
    pub fn with_reconnect_window(room_id: &str, window: Option<Duration>) -> Self {
        let limits = crate::Limits::default();
        let settings = RoomSettings {
            resume: window
                .filter(|w| !w.is_zero())
                .map(|window| ResumeSettings {
                    window,
                    max_frames: limits.max_resume_messages,
                    max_bytes: limits.max_resume_bytes,
                }),
            strict: true,
            persist: None,
            presence: S::PRESENCE,
            presence_tick: S::PATCH_RATE.unwrap_or(crate::engine::presence::PRESENCE_TICK),
            seat_reservation: crate::Server::new().seat_reservation,
        };
        TestRoom {
            core: unwrap_hook(RoomCore::new(Arc::from(room_id), settings, Duration::ZERO)),
            room_id: room_id.to_owned(),
            now: Duration::ZERO,
            next_conn: 1,
            clients: BTreeMap::new(),
            fired: Vec::new(),
        }
    }

    /// A client joins with `request` (its `join` hook runs), then connects
    /// (its `connect` hook runs, or `reconnect` if the request's query
    /// carries a good `resume` token and `ack`). Returns the client, or the
    /// hook's rejection (and no other hook runs).
    ///
    /// # Errors
    /// The `join` hook's [`Reject`].
    pub fn join(&mut self, request: JoinRequest) -> Result<ClientId, Reject> {
        let data = unwrap_hook(self.core.admit(&request, self.now))?;
        let resume = ResumeRequest::from_query(&request);
        let conn = ClientId::from(self.next_conn);
        self.next_conn += 1;
        let inbox = Inbox::default();
        let client =
            unwrap_hook(
                self.core
                    .connect(conn, inbox.clone(), data, resume.as_ref(), self.now),
            );
        let numbering = resume
            .as_ref()
            .and_then(|r| r.next)
            .map(|next| inbox::Numbering {
                next,
                sent: VecDeque::new(),
                broken: false,
            });
        let entry = self.clients.entry(client).or_insert_with(|| TestClient {
            conns: Vec::new(),
            ack_base: 0,
            request: request.clone(),
            numbering,
        });
        if client != conn {
            // Resumed: the new connection counts on from the ack it sent.
            entry.ack_base = resume.and_then(|r| r.ack).unwrap_or_default();
        }
        entry.conns.push((conn, inbox));
        self.settle();
        Ok(client)
    }

    /// Connects a new client with a plain request for this room (ids count
    /// from 1, one per connection) and runs `join` and `connect`.
    ///
    /// # Panics
    /// If the `join` hook rejects the plain request; use
    /// [`join`](Self::join) to test rejections.
    pub fn connect(&mut self) -> ClientId {
        let request = JoinRequest::new(self.room_id.as_str());
        self.join(request)
            .unwrap_or_else(|reject| panic!("the join hook rejected a plain request: {reject}"))
    }

    /// The test's record of `client`.
    ///
    /// # Panics
    /// If `client` never connected to this room.
    fn test_client(&self, client: ClientId) -> &TestClient {
        self.clients
            .get(&client)
            .unwrap_or_else(|| panic!("client {client} never connected to this room"))
    }

    fn conn(&self, client: ClientId) -> ClientId {
        self.clients
            .get(&client)
            .and_then(TestClient::current)
            .map_or(client, |(conn, _)| *conn)
    }

    /// The client closes its connection (a close frame): it leaves, and
    /// `disconnect` runs. What it received stays readable.
    pub fn disconnect(&mut self, client: ClientId) {
        let conn = self.conn(client);
        unwrap_hook(self.core.gone(client, conn, Gone::Goodbye, self.now));
        self.settle();
    }

    /// The client's connection drops without a close frame (a lost network).
    /// With reconnection on, its seat is held for the window (advance past
    /// it to see `disconnect` run); otherwise it leaves now.
    pub fn drop_connection(&mut self, client: ClientId) {
        let conn = self.conn(client);
        unwrap_hook(self.core.gone(client, conn, Gone::Dropped, self.now));
        self.settle();
    }

    /// The client comes back on a new connection with the request it first
    /// joined with, plus its latest token, acknowledging every frame it has
    /// received. Returns the session
    /// frame the new connection got: `resumed` says whether it is the same
    /// client (if not, `client` in the frame is the new one, and `refused`
    /// says why).
    ///
    /// # Panics
    /// If reconnection is off (no token was ever sent), or the `join` hook
    /// rejects the request.
    pub fn resume(&mut self, client: ClientId) -> SessionFrame {
        let ack = self.clients.get(&client).map_or(0, TestClient::ack);
        self.resume_with_ack(client, ack)
    }

    /// Like [`resume`](Self::resume), acknowledging only `ack` frames (as a
    /// client that lost the end of a burst with its connection would).
    ///
    /// # Panics
    /// As [`resume`](Self::resume).
    pub fn resume_with_ack(&mut self, client: ClientId, ack: u64) -> SessionFrame {
        let token = self
            .session(client)
            .unwrap_or_else(|| panic!("client {client} has no resume token: is reconnection on?"))
            .token;
        let first = self.clients.get(&client).map_or_else(
            || JoinRequest::new(self.room_id.as_str()),
            |c| c.request.clone(),
        );
        // A numbered client resends what the room has not said it applied,
        // numbered from the oldest (the room drops what it did apply).
        let resend = self
            .clients
            .get_mut(&client)
            .map(TestClient::unacknowledged)
            .unwrap_or_default();
        let next = self.clients.get(&client).and_then(|c| {
            let numbering = c.numbering.as_ref()?;
            Some(resend.first().map_or(numbering.next, |(n, _)| *n))
        });
        let mut resume = format!("resume={token}&ack={ack}");
        if let Some(next) = next {
            resume.push_str(&format!("&next={next}"));
        }
        // The first join's own `next` gives way to this one.
        let query = first
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("next="))
            .chain(std::iter::once(resume.as_str()))
            .collect::<Vec<_>>()
            .join("&");
        let request = first.with_query(query);
        let resumed = self
            .join(request)
            .unwrap_or_else(|reject| panic!("the join hook rejected a resume: {reject}"));
        if let Some(numbering) = self
            .clients
            .get_mut(&client)
            .and_then(|c| c.numbering.as_mut())
        {
            numbering.broken = false;
        }
        if resumed != client
            && let Some(old) = self.clients.remove(&client)
        {
            // Refused: the new client carries the numbering on.
            if let Some(new) = self.clients.get_mut(&resumed) {
                new.numbering = old.numbering;
            }
        }
        for (_, message) in resend {
            self.transmit(resumed, &message);
        }
        self.session(resumed)
            .unwrap_or_else(|| panic!("client {resumed} got no session frame"))
    }

    /// The last session frame `client`'s connection received (reconnection
    /// on): its id and its current resume token.
    #[must_use]
    pub fn session(&self, client: ClientId) -> Option<SessionFrame> {
        let (_, inbox) = self.clients.get(&client)?.current()?;
        inbox.0.borrow().session.clone()
    }

    /// Whether `client` is in the room with a connection (`false` once it has
    /// left, and while its seat is held for a resume).
    #[must_use]
    pub fn is_connected(&self, client: ClientId) -> bool {
        self.core.is_connected(client)
    }

    /// What the `join` hook attached to `client`, while it is in the room.
    ///
    /// # Panics
    /// If the data is not a `T`.
    #[must_use]
    pub fn client_data<T: std::any::Any>(&self, client: ClientId) -> Option<&T> {
        let data = self.core.client_data(client)?;
        Some(data.downcast_ref::<T>().unwrap_or_else(|| {
            panic!(
                "client {client}'s data is a `{}`, not a `{}`",
                data.type_name(),
                std::any::type_name::<T>()
            )
        }))
    }

    /// Code outside the room sends `command` (as a server-side handle's
    /// `command::<C, R>` would); the `command` hook's reply.
    ///
    /// # Errors
    /// [`CommandError::NoHook`], or [`CommandError::WrongType`] when `C` or
    /// `R` are not the hook's types.
    pub fn command<C: std::any::Any + Send, R: std::any::Any>(
        &mut self,
        command: C,
    ) -> Result<R, CommandError> {
        let reply = unwrap_hook(self.core.command(Command::new(command), self.now));
        self.settle();
        let reply = reply?;
        let expected = reply.type_name();
        reply.into_inner::<R>().ok_or(CommandError::WrongType {
            expected,
            got: std::any::type_name::<R>(),
        })
    }

    /// An HTTP request to the room (`GET`/`POST /rooms/{id}`): the `join`
    /// hook decides on `join`, then the `request` hook answers.
    ///
    /// # Errors
    /// The `join` hook's [`Reject`].
    pub fn request(
        &mut self,
        join: JoinRequest,
        request: RoomRequest,
    ) -> Result<RoomResponse, Reject> {
        let response = unwrap_hook(self.core.request(&join, &request, self.now));
        self.settle();
        response
    }

    /// Moves virtual time forward by `by`, firing every timer that falls due,
    /// one at a time, in deadline order, each at its own deadline (the end
    /// of a held client's reconnection window included).
    pub fn advance(&mut self, by: Duration) {
        let until = self.now.saturating_add(by);
        while let Some(deadline) = self.core.next_deadline().filter(|d| *d <= until) {
            self.now = self.now.max(deadline);
            let now = self.now;
            let fired = &mut self.fired;
            unwrap_hook(self.core.fire_due(now, &mut |id, _| {
                let timer = match id {
                    TimerId::Seed => FiredTimer::Timer,
                    TimerId::Named(key) => FiredTimer::Alarm(key.clone()),
                    TimerId::Expire(_) | TimerId::Acks | TimerId::Sync | TimerId::Presence => {
                        return;
                    }
                };
                fired.push((now, timer));
            }));
            self.settle();
        }
        self.now = until;
    }

    /// What the room directory shows of this room now (its clients,
    /// `set_metadata`, `set_capacity`, `lock`), as `GET /rooms` would.
    #[must_use]
    pub fn listing(&self) -> crate::RoomInfo {
        self.core.listing_info(&self.room_id, self.now)
    }

    /// Virtual time since the room was created.
    #[must_use]
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Takes every frame `client` has received since the last take, over all
    /// its connections, in order (session frames are read with
    /// [`session`](Self::session) instead).
    ///
    /// # Panics
    /// If `client` never connected to this room.
    pub fn take(&mut self, client: ClientId) -> Vec<Received> {
        self.test_client(client)
            .conns
            .iter()
            .flat_map(|(_, inbox)| inbox.0.borrow_mut().frames.drain(..).collect::<Vec<_>>())
            .collect()
    }
    /// Takes every frame `client` has received, each decoded as a `T` from
    /// JSON: the service's outbound type.
    ///
    /// # Panics
    /// If a frame is not a text frame holding a `T` (an error frame, say).
    pub fn take_json<T: DeserializeOwned>(&mut self, client: ClientId) -> Vec<T> {
        self.take(client)
            .into_iter()
            .map(|frame| match &frame {
                Received::Text(text) => serde_json::from_str(text).unwrap_or_else(|e| {
                    panic!(
                        "client {client} received {text:?}, not a {}: {e}",
                        std::any::type_name::<T>()
                    )
                }),
                other => panic!("client {client} received {other:?}, not a text frame"),
            })
            .collect()
    }

    /// Every timer that has fired, with the virtual time it fired at.
    #[must_use]
    pub fn fired(&self) -> &[(Duration, FiredTimer)] {
        &self.fired
    }

    /// How many timers are pending (the seed timer and named ones).
    #[must_use]
    pub fn pending_timers(&self) -> usize {
        self.core.pending_timers()
    }

    /// How many entries the room's timer heap holds, stale ones (replaced or
    /// cancelled timers) included; never more than `2 × pending + 64`.
    #[must_use]
    pub fn timer_storage(&self) -> usize {
        self.core.timer_storage()
    }

    /// The service's state, to assert on.
    #[must_use]
    pub fn service(&self) -> &S {
        self.core.service()
    }

    /// The service's state, to arrange a test.
    pub fn service_mut(&mut self) -> &mut S {
        self.core.service_mut()
    }
}
