//! Everything in a room that hooks reach through their context: the clients
//! (their outlets, data and sessions), the timers, the room's clock, and the
//! clients to remove once the current hook returns.

mod context;

pub(crate) use context::RoomContext;

use crate::engine::gate::{Gate, Held, Item};
use crate::engine::idempotency::Idempotency;
use crate::engine::inbound::{Arrived, Inbound, ack_frame};
use crate::engine::listing::Listing;
pub(crate) use crate::engine::outlet::Outlet;
use crate::engine::outlet::Push;
use crate::engine::presence::PresenceState;
use crate::engine::resume::{Replay, ResumeSettings};
use crate::engine::stats::{Stats, bump};
use crate::engine::timers::Timers;
use hyper_tungstenite::tungstenite::Message;
use stateroom_core::{ClientData, ClientId, Durability, MessageRecipient, Presence};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

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
    /// Whether and how clients are told who is in the room.
    pub(crate) presence: Presence,
    /// How often presence is sent.
    pub(crate) presence_tick: Duration,
    /// How long a reserved seat waits for its client.
    pub(crate) seat_reservation: Duration,
}

/// A doc room's document (`engine::yjs`), when the server speaks Yjs.
#[cfg(feature = "yjs")]
pub(crate) type DocField = Option<crate::engine::yjs::DocRoom>;
/// Without the `yjs` feature a room holds no document.
#[cfg(not(feature = "yjs"))]
pub(crate) type DocField = ();

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
    /// Who is in the room, as its clients are told.
    pub(crate) presence: RefCell<PresenceState>,
    /// The room's directory entry and its seats.
    pub(crate) listing: RefCell<Listing>,
    /// A doc room's Yjs document.
    pub(crate) doc: DocField,
}

impl<O: Outlet> Members<O> {
    pub(crate) fn new(room_id: Arc<str>, settings: RoomSettings, now: Duration) -> Self {
        let gated = settings.persist == Some(Durability::Gated);
        let settings_presence = (settings.presence, settings.presence_tick);
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
            presence: RefCell::new(PresenceState::new(settings_presence.0, settings_presence.1)),
            listing: RefCell::new(Listing::default()),
            doc: DocField::default(),
        };
        members.gate.on.set(gated);
        members
    }

    /// A frame from `client`'s current connection arrived: whether to apply
    /// it, and whether it is numbered (to acknowledge).
    pub(crate) fn arrive(&self, client: ClientId) -> Arrived {
        let Some(replay) = self
            .clients
            .get(&client)
            .and_then(|slot| slot.replay.as_ref())
        else {
            return Arrived::Unnumbered;
        };
        let mut replay = replay.borrow_mut();
        let Some(inbound) = replay.inbound.as_mut() else {
            return Arrived::Unnumbered;
        };
        let arrived = inbound.arrive();
        if arrived == Arrived::Duplicate {
            bump(&self.stats.duplicates, 1);
        }
        arrived
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
            let pushed = outlet.push(frame);
            if matches!(
                pushed,
                Push::Queued | Push::Woke | Push::Behind | Push::Direct
            ) {
                bump(&self.stats.messages_out, 1);
                bump(&self.stats.bytes_out, len);
            }
            match pushed {
                Push::Woke => bump(&self.stats.writer_wakeups, 1),
                Push::Behind => self.behind.borrow_mut().push(client),
                Push::Overflowed => self.leaving.borrow_mut().push((client, Leave::Overflowed)),
                Push::Queued | Push::Direct | Push::Discarded => {}
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

    pub(crate) fn push_or_hold(&self, client: ClientId, slot: &Slot<O>, frame: Message) {
        if self.gate.on.get() {
            self.gate.hold_frame(client, slot.outlet().cloned(), frame);
        } else {
            self.push(client, slot, frame);
        }
    }

    fn after(&self, delay: Duration) -> Duration {
        self.now.get().saturating_add(delay)
    }
}

/// The gate's release, to the clients as they are now.
impl<O: Outlet> Members<O> {
    /// Releases the first `count` held items, in order, to their clients.
    pub(crate) fn release(&self, count: usize) {
        for Held {
            client,
            outlet,
            item,
        } in self.gate.take(count)
        {
            match (item, self.clients.get(&client)) {
                // To the connection the client has now; if it has none (it
                // dropped, or the server is restarting), to the one it had.
                (Item::Frame(frame), Some(slot)) => {
                    let outlet = slot.outlet().or(outlet.as_ref());
                    self.push_via(client, slot, outlet, frame);
                }
                (Item::Frame(frame), None) => {
                    if let Some(outlet) = outlet {
                        let _ = outlet.push(frame) == Push::Overflowed;
                    }
                }
                (Item::Close(frame), _) => {
                    if let Some(outlet) = outlet {
                        outlet.close(Some(frame));
                    }
                }
                (Item::Answer(answer), _) => answer(),
                (Item::Control(frame), _) => {
                    if let Some(outlet) = outlet
                        && outlet.push(frame) == Push::Overflowed
                    {
                        self.leaving.borrow_mut().push((client, Leave::Overflowed));
                    }
                }
            }
        }
    }
}
