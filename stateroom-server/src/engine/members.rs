//! Everything in a room that hooks reach through their context: the clients
//! (their outlets, data and sessions), the timers, the room's clock, and the
//! clients to remove once the current hook returns.

use crate::engine::gate::Gate;
use crate::engine::idempotency::Idempotency;
use crate::engine::inbound::{Arrived, Inbound, ack_frame};
use crate::engine::outbox::{Backlog, Push};
use crate::engine::resume::{Replay, ResumeSettings};
use crate::engine::stats::{Stats, bump};
use crate::engine::timers::{TimerId, Timers};
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use serde::Serialize;
use stateroom_core::{
    ClientData, ClientId, Durability, ErrorCode, MessageRecipient, StateroomContext, TimerKey,
    unserialisable,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Where a client's frames go.
pub(crate) trait Outlet: Clone {
    /// Queues a frame. [`Push::Overflowed`]: the client's queue overflowed
    /// (the outlet then closes and the room removes the client).
    fn push(&self, frame: Message) -> Push;
    /// Sends `frame` (or nothing) after what is queued, then nothing more.
    fn close(&self, frame: Option<CloseFrame>);
    /// How long since the client last sent anything.
    fn silent_for(&self) -> Duration {
        Duration::ZERO
    }
    /// How many frames an overflow discarded.
    fn dropped(&self) -> u64 {
        0
    }
    /// Where a queue that said [`Push::Behind`] stands now.
    fn backlog(&self) -> Backlog {
        Backlog::Clear
    }
}

/// Why a client is removed once the current hook returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leave {
    /// Its outbound queue overflowed (already closed with 1008).
    Overflowed,
    /// The service closed it (already closed with the service's frame).
    Kicked,
    /// It is away and a frame it never saw had to be let go.
    Lost,
}

/// One client of the room.
pub(crate) struct Slot<O> {
    /// The connection (its id and outlet); `None` while the client is away
    /// and its seat is held for a resume.
    pub(crate) link: Option<(ClientId, O)>,
    pub(crate) data: ClientData,
    /// With reconnection on: the client's token and the frames kept for it.
    /// Boxed: a room without reconnection pays one pointer per client.
    pub(crate) replay: Option<Box<RefCell<Replay>>>,
}

impl<O> Slot<O> {
    pub(crate) fn outlet(&self) -> Option<&O> {
        self.link.as_ref().map(|(_, outlet)| outlet)
    }
}

/// Settings a room is built with.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoomSettings {
    /// `Some` when reconnection is on.
    pub(crate) resume: Option<ResumeSettings>,
    /// The test kit: a bug in the service fails the test instead of being logged.
    pub(crate) strict: bool,
    /// `Some` for a persisted room.
    pub(crate) persist: Option<Durability>,
}

/// What the context reaches: everything in the room but the service.
pub(crate) struct Members<O> {
    pub(crate) room_id: Arc<str>,
    pub(crate) settings: RoomSettings,
    pub(crate) clients: HashMap<ClientId, Slot<O>>,
    pub(crate) timers: RefCell<Timers>,
    /// The room's time (since its start) while a hook runs.
    pub(crate) now: Cell<Duration>,
    /// Clients to remove once the current hook returns.
    pub(crate) leaving: RefCell<Vec<(ClientId, Leave)>>,
    /// Clients whose queues are past their bound on sockets that take bytes:
    /// the server is behind, and the room takes no events until they drain.
    pub(crate) behind: RefCell<Vec<ClientId>>,
    /// The client whose `disconnect` is running, with its data.
    pub(crate) departing: Option<(ClientId, ClientData)>,
    /// Counts since the server last took them.
    pub(crate) stats: Stats,
    /// Persisted rooms: frames held until the snapshot covering them is durable.
    pub(crate) gate: Gate<O>,
    /// A hook called `ctx.save()`.
    pub(crate) save_requested: Cell<bool>,
    /// A hook called `ctx.destroy()`.
    pub(crate) destroy_requested: Cell<bool>,
    /// The highest client id the room has ever seated (saved, so that a
    /// restored room, on this node or another, never seats an id twice).
    pub(crate) high_water: Cell<u32>,
    /// The acks timer is set (`engine::inbound`).
    pub(crate) acks_armed: Cell<bool>,
    /// Responses remembered by `Idempotency-Key`.
    pub(crate) idempotency: RefCell<Idempotency>,
}

impl<O: Outlet> Members<O> {
    pub(crate) fn new(room_id: Arc<str>, settings: RoomSettings, now: Duration) -> Self {
        let gated = settings.persist == Some(Durability::Gated);
        let members = Members {
            room_id,
            settings,
            clients: HashMap::new(),
            timers: RefCell::new(Timers::default()),
            now: Cell::new(now),
            leaving: RefCell::new(Vec::new()),
            behind: RefCell::new(Vec::new()),
            departing: None,
            stats: Stats::default(),
            gate: Gate::default(),
            save_requested: Cell::new(false),
            destroy_requested: Cell::new(false),
            high_water: Cell::new(0),
            acks_armed: Cell::new(false),
            idempotency: RefCell::new(Idempotency::default()),
        };
        members.gate.on.set(gated);
        members
    }

    /// A frame from `client`'s current connection arrived: whether to apply
    /// it (`false`: a resend of a message already applied).
    pub(crate) fn arrive(&self, client: ClientId) -> bool {
        let Some(replay) = self
            .clients
            .get(&client)
            .and_then(|slot| slot.replay.as_ref())
        else {
            return true;
        };
        let mut replay = replay.borrow_mut();
        let Some(inbound) = replay.inbound.as_mut() else {
            return true;
        };
        match inbound.arrive() {
            Arrived::Apply => true,
            Arrived::Duplicate => {
                bump(&self.stats.duplicates, 1);
                false
            }
        }
    }

    /// Whether `client` is owed an ack: `Some(true)` at once, `Some(false)`
    /// soon, `None` not (unnumbered).
    pub(crate) fn ack_owed(&self, client: ClientId) -> Option<bool> {
        let replay = self.clients.get(&client)?.replay.as_ref()?.borrow();
        let inbound = replay.inbound.as_ref()?;
        (inbound.unacked > 0).then(|| inbound.ack_now())
    }

    /// Tells `client` (if connected and owed) what was applied.
    pub(crate) fn send_ack(&self, client: ClientId) {
        let Some(slot) = self.clients.get(&client) else {
            return;
        };
        let (Some(outlet), Some(replay)) = (slot.outlet(), slot.replay.as_ref()) else {
            return;
        };
        let applied = replay
            .borrow_mut()
            .inbound
            .as_mut()
            .and_then(Inbound::take_ack);
        if let Some(applied) = applied {
            self.control(client, outlet, Message::Text(ack_frame(applied).into()));
        }
    }

    /// Tells every connected client owed an ack what was applied.
    pub(crate) fn send_acks(&self) {
        for &client in self.clients.keys() {
            self.send_ack(client);
        }
    }

    /// Sends the runtime's `frame` (not counted, not kept for a resume) to
    /// `outlet`, in order with what the gate holds.
    pub(crate) fn control(&self, client: ClientId, outlet: &O, frame: Message) {
        if !self.gate.control_in_order(client, outlet, frame) {
            self.leaving.borrow_mut().push((client, Leave::Overflowed));
        }
    }

    /// Queues `frame` for `client`: into its session's replay buffer (with
    /// reconnection on) and, when connected, its outlet.
    pub(crate) fn push(&self, client: ClientId, slot: &Slot<O>, frame: Message) {
        self.push_via(client, slot, slot.outlet(), frame);
    }

    /// [`push`](Self::push) through `outlet` (the slot's, or, for a frame the
    /// gate held, the connection the client had when the room sent it).
    pub(crate) fn push_via(
        &self,
        client: ClientId,
        slot: &Slot<O>,
        outlet: Option<&O>,
        frame: Message,
    ) {
        if let Some(replay) = &slot.replay
            && !replay.borrow_mut().record(&frame)
            && slot.link.is_none()
        {
            self.leaving.borrow_mut().push((client, Leave::Lost));
        }
        if let Some(outlet) = outlet {
            let len = frame.len() as u64;
            match outlet.push(frame) {
                Push::Queued => {
                    bump(&self.stats.messages_out, 1);
                    bump(&self.stats.bytes_out, len);
                }
                Push::Behind => {
                    bump(&self.stats.messages_out, 1);
                    bump(&self.stats.bytes_out, len);
                    self.behind.borrow_mut().push(client);
                }
                Push::Discarded => {}
                Push::Overflowed => self.leaving.borrow_mut().push((client, Leave::Overflowed)),
            }
        }
    }

    fn deliver(&self, recipient: MessageRecipient, frame: Message) {
        match recipient {
            MessageRecipient::Client(client) => {
                if let Some(slot) = self.clients.get(&client) {
                    self.push_or_hold(client, slot, frame);
                }
            }
            _ => {
                for (&client, slot) in &self.clients {
                    if recipient.includes(client) {
                        self.push_or_hold(client, slot, frame.clone());
                    }
                }
            }
        }
    }

    fn push_or_hold(&self, client: ClientId, slot: &Slot<O>, frame: Message) {
        if self.gate.on.get() {
            self.gate.hold_frame(client, slot, frame);
        } else {
            self.push(client, slot, frame);
        }
    }

    fn after(&self, delay: Duration) -> Duration {
        self.now.get().saturating_add(delay)
    }
}

/// A close frame the service asked for, made valid: the code must be 1000,
/// 1008 or 3000–4999 (else 1008), the reason at most 123 bytes.
pub(crate) fn kick_frame(code: u16, reason: &str) -> CloseFrame {
    let code = match code {
        1000 | 1008 | 3000..=4999 => code,
        _ => 1008,
    };
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from(&reason[..end]),
    }
}

/// The [`StateroomContext`] handed to hooks.
pub(crate) struct RoomContext<'a, O> {
    pub(crate) members: &'a Members<O>,
}

impl<O: Outlet> StateroomContext for RoomContext<'_, O> {
    fn room_id(&self) -> &str {
        &self.members.room_id
    }

    fn clients(&self) -> Vec<ClientId> {
        let mut clients: Vec<ClientId> = self.members.clients.keys().copied().collect();
        clients.sort_unstable();
        clients
    }

    fn is_connected(&self, client: ClientId) -> bool {
        self.members
            .clients
            .get(&client)
            .is_some_and(|slot| slot.link.is_some())
    }

    fn client_data_any(&self, client: ClientId) -> Option<&ClientData> {
        match (self.members.clients.get(&client), &self.members.departing) {
            (Some(slot), _) => Some(&slot.data),
            (None, Some((departing, data))) if *departing == client => Some(data),
            (None, _) => None,
        }
    }

    fn close(&self, client: ClientId, code: u16, reason: &str) {
        let Some(slot) = self.members.clients.get(&client) else {
            return;
        };
        let mut leaving = self.members.leaving.borrow_mut();
        if leaving.iter().any(|(c, _)| *c == client) {
            return;
        }
        let frame = kick_frame(code, reason);
        if self.members.gate.on.get() {
            // After the frames held before it; what is sent later is
            // discarded by the closing connection.
            self.members
                .gate
                .hold_close(client, slot.outlet().cloned(), frame);
        } else if let Some(outlet) = slot.outlet() {
            // Closed now, so that nothing sent later in this hook reaches it.
            outlet.close(Some(frame));
        }
        leaving.push((client, Leave::Kicked));
    }

    fn save(&self) {
        self.members.save_requested.set(true);
        if self.members.settings.persist == Some(Durability::Manual) {
            // A barrier: what is sent from now on waits for the save.
            self.members.gate.on.set(true);
        }
    }

    fn destroy(&self) {
        self.members.destroy_requested.set(true);
    }

    fn report_bug(&self, message: &str) {
        if self.members.settings.strict {
            panic!("bug in the service: {message}");
        }
        bump(&self.members.stats.service_bugs, 1);
        tracing::error!(room = %self.members.room_id, "bug in the service: {message}");
    }

    fn report_invalid(&self, code: &ErrorCode) {
        self.members.stats.decode_error(code.as_str());
    }

    fn send_message(&self, recipient: impl Into<MessageRecipient>, message: &str) {
        self.members
            .deliver(recipient.into(), Message::Text(Utf8Bytes::from(message)));
    }

    fn send_binary(&self, recipient: impl Into<MessageRecipient>, message: &[u8]) {
        self.members.deliver(
            recipient.into(),
            Message::Binary(Bytes::copy_from_slice(message)),
        );
    }

    fn set_timer(&self, ms_delay: u32) {
        let deadline = self
            .members
            .after(Duration::from_millis(u64::from(ms_delay)));
        self.members
            .timers
            .borrow_mut()
            .set(TimerId::Seed, deadline, None);
    }

    fn schedule(&self, key: TimerKey, after: Duration, every: Option<Duration>) {
        let deadline = self.members.after(after);
        self.members
            .timers
            .borrow_mut()
            .set(TimerId::Named(key), deadline, every);
    }

    fn cancel(&self, key: &TimerKey) {
        self.members
            .timers
            .borrow_mut()
            .cancel(&TimerId::Named(key.clone()));
    }

    fn send<T: Serialize + ?Sized>(&self, recipient: impl Into<MessageRecipient>, message: &T) {
        // Serialise once, straight into the buffer every recipient shares.
        match serde_json::to_string(message) {
            Ok(text) => self
                .members
                .deliver(recipient.into(), Message::Text(Utf8Bytes::from(text))),
            Err(error) => self.report_bug(&unserialisable("message", &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kick_frames_are_made_valid() {
        assert_eq!(u16::from(kick_frame(4001, "bye").code), 4001);
        assert_eq!(u16::from(kick_frame(1000, "").code), 1000);
        for bad in [0, 999, 1001, 1005, 1006, 1011, 2999, 5000] {
            assert_eq!(u16::from(kick_frame(bad, "x").code), 1008, "{bad}");
        }
        let long = "é".repeat(100);
        let frame = kick_frame(4000, &long);
        assert!(frame.reason.len() <= 123);
        assert!(long.starts_with(frame.reason.as_str()));
    }
}
