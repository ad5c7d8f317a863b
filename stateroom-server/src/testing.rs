//! Runs a service in-process, with no network and a virtual clock. See
//! `stateroom::testing` for the guide and complete examples.

use crate::room_core::{Outlet, Panicked, RoomCore};
use crate::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use serde::Serialize;
use serde::de::DeserializeOwned;
use stateroom_core::{ClientId, ErrorFrame, SimpleStateroomService, TimerKey};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

/// A frame a test client received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// The room closed the connection with this code (1011 never appears: a
    /// panicking hook fails the test instead).
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

impl Received {
    /// The text, if this is a text frame.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        match self {
            Received::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The error frame, if this is one.
    #[must_use]
    pub fn error(&self) -> Option<ErrorFrame> {
        self.text().and_then(ErrorFrame::from_json)
    }
}

/// A timer that fired, as [`TestRoom::fired`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FiredTimer {
    /// The seed's single timer (`set_timer`; the `timer` hook).
    Timer,
    /// A named timer (`set_timeout`/`set_interval`; the `alarm` hook).
    Alarm(TimerKey),
}

/// A test client's inbox: what the room sent it, in order.
#[derive(Clone, Default)]
struct Inbox(Rc<RefCell<VecDeque<Received>>>);

impl Outlet for Inbox {
    fn push(&self, frame: Message) -> bool {
        let received = match frame {
            Message::Text(text) => Received::Text(text.to_string()),
            Message::Binary(data) => Received::Binary(data.to_vec()),
            _ => return false,
        };
        self.0.borrow_mut().push_back(received);
        false
    }

    fn close(&self, frame: Option<CloseFrame>) {
        if let Some(frame) = frame {
            self.0.borrow_mut().push_back(Received::Closed {
                code: frame.code.into(),
                reason: frame.reason.to_string(),
            });
        }
    }
}

/// One room of service `S`, driven by the test: clients connect and send as
/// they would over a socket (through the same decoding and error frames), and
/// time moves only when [`advance`](Self::advance) says so.
///
/// Deterministic: the same calls give the same frames, in the same order,
/// every run. A panic in a hook propagates, failing the test with its message.
pub struct TestRoom<S> {
    core: RoomCore<S, Inbox>,
    now: Duration,
    next_client: u32,
    inboxes: BTreeMap<ClientId, Inbox>,
    fired: Vec<(Duration, FiredTimer)>,
}

fn unwrap_hook<T>(result: Result<T, Panicked>) -> T {
    match result {
        Ok(value) => value,
        Err(Panicked(payload)) => std::panic::resume_unwind(payload),
    }
}

impl<S: SimpleStateroomService> TestRoom<S> {
    /// Creates room `room_id` (running the service's `new`) at virtual time 0.
    #[must_use]
    pub fn new(room_id: &str) -> Self {
        TestRoom {
            core: unwrap_hook(RoomCore::new(room_id, Duration::ZERO)),
            now: Duration::ZERO,
            next_client: 1,
            inboxes: BTreeMap::new(),
            fired: Vec::new(),
        }
    }

    /// Connects a new client (ids count from 1) and runs `connect`.
    pub fn connect(&mut self) -> ClientId {
        let client = ClientId::from(self.next_client);
        self.next_client += 1;
        let inbox = Inbox::default();
        self.inboxes.insert(client, inbox.clone());
        unwrap_hook(self.core.connect(client, inbox, self.now));
        client
    }

    /// The client leaves; runs `disconnect`. What it received stays readable.
    pub fn disconnect(&mut self, client: ClientId) {
        unwrap_hook(self.core.disconnect(client, self.now));
    }

    /// `client` sends a text frame.
    pub fn send_text(&mut self, client: ClientId, text: &str) {
        unwrap_hook(self.core.text(client, text, self.now));
    }

    /// `client` sends `message` as a JSON text frame.
    ///
    /// # Panics
    /// If `message` cannot be serialised as JSON.
    pub fn send<T: Serialize + ?Sized>(&mut self, client: ClientId, message: &T) {
        let text = serde_json::to_string(message)
            .unwrap_or_else(|e| panic!("cannot serialise the message: {e}"));
        self.send_text(client, &text);
    }

    /// `client` sends a binary frame.
    pub fn send_binary(&mut self, client: ClientId, data: &[u8]) {
        unwrap_hook(self.core.binary(client, data, self.now));
    }

    /// Moves virtual time forward by `by`, firing every timer that falls due,
    /// one at a time, in deadline order, each at its own deadline.
    pub fn advance(&mut self, by: Duration) {
        let until = self.now.saturating_add(by);
        while let Some(deadline) = self.core.next_deadline().filter(|d| *d <= until) {
            self.now = self.now.max(deadline);
            let now = self.now;
            let fired = &mut self.fired;
            unwrap_hook(self.core.fire_due(now, &mut |id, _| {
                fired.push((
                    now,
                    match id {
                        TimerId::Seed => FiredTimer::Timer,
                        TimerId::Named(key) => FiredTimer::Alarm(key.clone()),
                    },
                ));
            }));
        }
        self.now = until;
    }

    /// Virtual time since the room was created.
    #[must_use]
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Takes every frame `client` has received since the last take.
    ///
    /// # Panics
    /// If `client` never connected to this room.
    pub fn take(&mut self, client: ClientId) -> Vec<Received> {
        let inbox = self
            .inboxes
            .get(&client)
            .unwrap_or_else(|| panic!("client {client} never connected to this room"));
        inbox.0.borrow_mut().drain(..).collect()
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
