//! A room's logic with no I/O and no clock of its own: the service instance,
//! its clients' outlets and its timers. The server's room task drives it with
//! real time and sockets; the test kit drives it with a virtual clock and
//! in-memory inboxes, so both run the very same code.

use crate::timers::{TimerId, Timers};
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use serde::Serialize;
use stateroom_core::{
    ClientId, MessageRecipient, SimpleStateroomService, StateroomContext, TimerKey,
};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// Where a client's frames go.
pub(crate) trait Outlet {
    /// Queues a frame; returns `true` if the client's queue overflowed (the
    /// outlet then closes and the room removes the client).
    fn push(&self, frame: Message) -> bool;
    /// Sends `frame` (or nothing) after what is queued, then nothing more.
    fn close(&self, frame: Option<CloseFrame>);
    /// How long since the client last sent anything.
    fn silent_for(&self) -> Duration {
        Duration::ZERO
    }
}

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

/// What the context reaches: everything in the room but the service.
struct Members<O> {
    clients: HashMap<ClientId, O>,
    timers: RefCell<Timers>,
    /// The room's time (since its start) while a hook runs.
    now: Cell<Duration>,
    /// Clients whose queue overflowed during the current hook.
    overflowed: RefCell<Vec<ClientId>>,
}

/// The [`StateroomContext`] handed to hooks.
struct RoomContext<'a, O> {
    members: &'a Members<O>,
}

impl<O: Outlet> RoomContext<'_, O> {
    fn deliver(&self, recipient: MessageRecipient, frame: Message) {
        let members = self.members;
        let push = |client: ClientId, outlet: &O, frame: Message| {
            if outlet.push(frame) {
                members.overflowed.borrow_mut().push(client);
            }
        };
        match recipient {
            MessageRecipient::Client(client) => {
                if let Some(outlet) = members.clients.get(&client) {
                    push(client, outlet, frame);
                }
            }
            _ => {
                for (&client, outlet) in &members.clients {
                    if recipient.includes(client) {
                        push(client, outlet, frame.clone());
                    }
                }
            }
        }
    }

    fn after(&self, delay: Duration) -> Duration {
        self.members.now.get().saturating_add(delay)
    }
}

impl<O: Outlet> StateroomContext for RoomContext<'_, O> {
    fn send_message(&self, recipient: impl Into<MessageRecipient>, message: &str) {
        self.deliver(recipient.into(), Message::Text(Utf8Bytes::from(message)));
    }

    fn send_binary(&self, recipient: impl Into<MessageRecipient>, message: &[u8]) {
        self.deliver(
            recipient.into(),
            Message::Binary(Bytes::copy_from_slice(message)),
        );
    }

    fn set_timer(&self, ms_delay: u32) {
        let deadline = self.after(Duration::from_millis(u64::from(ms_delay)));
        self.members
            .timers
            .borrow_mut()
            .set(TimerId::Seed, deadline, None);
    }

    fn schedule(&self, key: TimerKey, after: Duration, every: Option<Duration>) {
        let deadline = self.after(after);
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
            Ok(text) => self.deliver(recipient.into(), Message::Text(Utf8Bytes::from(text))),
            Err(error) => {
                tracing::error!(%error, "could not serialise an outbound message; nothing sent");
            }
        }
    }
}

/// One room: its service and everything the service can reach.
pub(crate) struct RoomCore<S, O> {
    service: S,
    members: Members<O>,
}

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// Builds the service with `S::new` at room time `now`.
    pub(crate) fn new(room_id: &str, now: Duration) -> Result<Self, Panicked> {
        let members = Members {
            clients: HashMap::new(),
            timers: RefCell::new(Timers::default()),
            now: Cell::new(now),
            overflowed: RefCell::new(Vec::new()),
        };
        let service = catch_unwind(AssertUnwindSafe(|| {
            S::new(room_id, &RoomContext { members: &members })
        }))
        .map_err(Panicked)?;
        Ok(RoomCore { service, members })
    }

    #[cfg(feature = "testing")]
    pub(crate) fn service(&self) -> &S {
        &self.service
    }

    #[cfg(feature = "testing")]
    pub(crate) fn service_mut(&mut self) -> &mut S {
        &mut self.service
    }

    pub(crate) fn connect(
        &mut self,
        client: ClientId,
        outlet: O,
        now: Duration,
    ) -> Result<(), Panicked> {
        self.members.clients.insert(client, outlet);
        self.call(now, |service, ctx| service.connect(client, ctx))
    }

    pub(crate) fn text(
        &mut self,
        client: ClientId,
        text: &str,
        now: Duration,
    ) -> Result<(), Panicked> {
        if !self.members.clients.contains_key(&client) {
            return Ok(());
        }
        self.call(now, |service, ctx| service.message(client, text, ctx))
    }

    pub(crate) fn binary(
        &mut self,
        client: ClientId,
        data: &[u8],
        now: Duration,
    ) -> Result<(), Panicked> {
        if !self.members.clients.contains_key(&client) {
            return Ok(());
        }
        self.call(now, |service, ctx| service.binary(client, data, ctx))
    }

    /// Removes a client and runs `disconnect` for it, once.
    pub(crate) fn disconnect(&mut self, client: ClientId, now: Duration) -> Result<(), Panicked> {
        if self.members.clients.remove(&client).is_none() {
            return Ok(());
        }
        tracing::debug!(%client, "client left");
        self.call(now, |service, ctx| service.disconnect(client, ctx))
    }

    /// Closes one client's outlet with `frame` after what is queued for it.
    pub(crate) fn close(&self, client: ClientId, frame: CloseFrame) {
        if let Some(outlet) = self.members.clients.get(&client) {
            outlet.close(Some(frame));
        }
    }

    /// Closes every client's outlet with `frame`.
    pub(crate) fn close_all(&self, frame: &CloseFrame) {
        for outlet in self.members.clients.values() {
            outlet.close(Some(frame.clone()));
        }
    }

    /// The heartbeat: clients silent for longer than `timeout` are closed with
    /// `frame` and removed (their `disconnect` runs now); the rest are pinged.
    pub(crate) fn sweep(
        &mut self,
        timeout: Duration,
        frame: &CloseFrame,
        now: Duration,
    ) -> Result<(), Panicked> {
        let mut silent = Vec::new();
        for (&client, outlet) in &self.members.clients {
            if outlet.silent_for() > timeout {
                outlet.close(Some(frame.clone()));
                silent.push(client);
            } else if outlet.push(Message::Ping(Bytes::new())) {
                self.members.overflowed.borrow_mut().push(client);
            }
        }
        for client in silent {
            tracing::debug!(%client, "client silent past the heartbeat timeout; dropping it");
            self.disconnect(client, now)?;
        }
        // Overflowed while being pinged: removed like any stalled client.
        self.remove_stalled(now)
    }

    pub(crate) fn has_clients(&self) -> bool {
        !self.members.clients.is_empty()
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
    /// before this call, telling `fired` about each (with its deadline).
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
            fired(&id, deadline);
            match id {
                TimerId::Seed => self.call(now, |service, ctx| service.timer(ctx))?,
                TimerId::Named(key) => self.call(now, |service, ctx| service.alarm(&key, ctx))?,
            }
        }
    }

    /// Runs one hook at room time `now` with panics caught, then removes the
    /// clients whose queues overflowed while it ran.
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
        self.remove_stalled(now)
    }

    /// Removes the clients whose queues overflowed, running their `disconnect`
    /// (which may overflow others, and so on).
    fn remove_stalled(&mut self, now: Duration) -> Result<(), Panicked> {
        loop {
            let stalled = std::mem::take(&mut *self.members.overflowed.borrow_mut());
            if stalled.is_empty() {
                return Ok(());
            }
            for client in stalled {
                tracing::warn!(%client, "outbound queue overflowed; closing the client with 1008");
                self.disconnect(client, now)?;
            }
        }
    }
}
