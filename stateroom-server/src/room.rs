//! The task that owns one room: its service instance, its clients' outboxes and
//! its timer. It handles the room's events one at a time, in arrival order, so
//! user code never needs a lock.

use crate::outbox::{Outbox, Push};
use crate::server::Shared;
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use serde::Serialize;
use stateroom_core::{ClientId, MessageRecipient, SimpleStateroomService, StateroomContext};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant, sleep_until};
use tracing::{Instrument, debug, error, info, info_span};

/// Something that happened to a room, in the order it happened.
pub(crate) enum RoomEvent {
    Connect {
        client: ClientId,
        outbox: Arc<Outbox>,
    },
    Text {
        client: ClientId,
        text: Utf8Bytes,
    },
    Binary {
        client: ClientId,
        data: Bytes,
    },
    Disconnect {
        client: ClientId,
    },
    /// Close the client's connection with `frame` once everything the room sent
    /// it so far (replies to its earlier messages included) is delivered.
    Close {
        client: ClientId,
        frame: CloseFrame,
    },
    /// The server is shutting down: close every client with 1001.
    Shutdown,
}

/// A hook panicked; the room's state can no longer be trusted.
struct Panicked;

pub(crate) fn close_frame(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// The close frame sent to a client whose outbound queue overflowed.
fn overflow_frame() -> CloseFrame {
    close_frame(
        CloseCode::Policy,
        "outbound queue overflow: client too slow",
    )
}

/// The state a hook's context reaches; everything else in [`Room`] is the
/// service itself.
struct Members {
    clients: HashMap<ClientId, Arc<Outbox>>,
    timer: Cell<Option<Instant>>,
    /// Clients whose queue overflowed during the current hook.
    overflowed: RefCell<Vec<ClientId>>,
}

/// The [`StateroomContext`] handed to hooks.
struct RoomContext<'a> {
    members: &'a Members,
}

impl RoomContext<'_> {
    fn deliver(&self, recipient: MessageRecipient, frame: Message) {
        let members = self.members;
        let push = |client: ClientId, outbox: &Outbox, frame: Message| {
            if outbox.push(frame, overflow_frame) == Push::Overflowed {
                members.overflowed.borrow_mut().push(client);
            }
        };
        match recipient {
            MessageRecipient::Client(client) => {
                if let Some(outbox) = members.clients.get(&client) {
                    push(client, outbox, frame);
                }
            }
            _ => {
                for (&client, outbox) in &members.clients {
                    if recipient.includes(client) {
                        push(client, outbox, frame.clone());
                    }
                }
            }
        }
    }
}

impl StateroomContext for RoomContext<'_> {
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
        let deadline = Instant::now() + Duration::from_millis(u64::from(ms_delay));
        self.members.timer.set(Some(deadline));
    }

    fn send<T: Serialize + ?Sized>(&self, recipient: impl Into<MessageRecipient>, message: &T) {
        // Serialise once, straight into the buffer every recipient shares.
        match serde_json::to_string(message) {
            Ok(text) => self.deliver(recipient.into(), Message::Text(Utf8Bytes::from(text))),
            Err(err) => {
                error!(error = %err, "could not serialise an outbound message; nothing sent")
            }
        }
    }
}

struct Room<S> {
    id: Arc<str>,
    generation: u64,
    service: S,
    members: Members,
    shared: Arc<Shared>,
}

/// Starts the task of room `id`; called by the registry under its lock.
pub(crate) fn spawn<S: SimpleStateroomService>(
    shared: Arc<Shared>,
    id: Arc<str>,
    generation: u64,
    events: mpsc::Receiver<RoomEvent>,
) {
    let span = info_span!("room", room = %id);
    tokio::spawn(run::<S>(shared, id, generation, events).instrument(span));
}

async fn run<S: SimpleStateroomService>(
    shared: Arc<Shared>,
    id: Arc<str>,
    generation: u64,
    mut events: mpsc::Receiver<RoomEvent>,
) {
    let members = Members {
        clients: HashMap::new(),
        timer: Cell::new(None),
        overflowed: RefCell::new(Vec::new()),
    };
    let created = catch_unwind(AssertUnwindSafe(|| {
        S::new(&id, &RoomContext { members: &members })
    }));
    let Ok(service) = created else {
        error!("the service's `new` panicked; the room is not created");
        shared.rooms.remove(&id, generation);
        return;
    };
    info!("room created");
    let mut room = Room {
        id,
        generation,
        service,
        members,
        shared,
    };
    match room.event_loop(&mut events).await {
        Ok(()) => info!("room freed"),
        Err(Panicked) => room.fail(&mut events),
    }
}

impl<S: SimpleStateroomService> Room<S> {
    async fn event_loop(&mut self, events: &mut mpsc::Receiver<RoomEvent>) -> Result<(), Panicked> {
        let grace = self.shared.config.room_grace;
        let mut empty_since = Some(Instant::now());
        let mut shutting_down = false;
        loop {
            let timer = self.members.timer.get();
            let free_at =
                empty_since.map(|since| if shutting_down { since } else { since + grace });
            tokio::select! {
                event = events.recv() => {
                    let Some(event) = event else { return Ok(()) };
                    match event {
                        RoomEvent::Shutdown => {
                            shutting_down = true;
                            for outbox in self.members.clients.values() {
                                outbox.close(Some(close_frame(CloseCode::Away, "server shutting down")));
                            }
                        }
                        event => self.handle(event)?,
                    }
                }
                () = sleep_until(timer.unwrap_or_else(Instant::now)), if timer.is_some() => {
                    self.members.timer.set(None);
                    self.call(|service, ctx| service.timer(ctx))?;
                }
                () = sleep_until(free_at.unwrap_or_else(Instant::now)), if free_at.is_some() => {
                    if self.shared.rooms.free_if_empty(&self.id, self.generation) {
                        return Ok(());
                    }
                    // A client is on its way in; its Connect event is next.
                    empty_since = Some(Instant::now());
                }
            }
            empty_since = match (self.members.clients.is_empty(), empty_since) {
                (true, None) => Some(Instant::now()),
                (true, since) => since,
                (false, _) => None,
            };
        }
    }

    fn handle(&mut self, event: RoomEvent) -> Result<(), Panicked> {
        match event {
            RoomEvent::Connect { client, outbox } => {
                debug!(%client, "client joined");
                self.members.clients.insert(client, outbox);
                self.call(|service, ctx| service.connect(client, ctx))
            }
            RoomEvent::Text { client, text } => {
                if !self.members.clients.contains_key(&client) {
                    return Ok(());
                }
                self.call(|service, ctx| service.message(client, &text, ctx))
            }
            RoomEvent::Binary { client, data } => {
                if !self.members.clients.contains_key(&client) {
                    return Ok(());
                }
                self.call(|service, ctx| service.binary(client, &data, ctx))
            }
            RoomEvent::Disconnect { client } => self.remove_client(client),
            RoomEvent::Close { client, frame } => {
                if let Some(outbox) = self.members.clients.get(&client) {
                    outbox.close(Some(frame));
                }
                Ok(())
            }
            RoomEvent::Shutdown => Ok(()),
        }
    }

    /// Removes a client and runs `disconnect` for it, once.
    fn remove_client(&mut self, client: ClientId) -> Result<(), Panicked> {
        if self.members.clients.remove(&client).is_none() {
            return Ok(());
        }
        debug!(%client, "client left");
        self.call(|service, ctx| service.disconnect(client, ctx))
    }

    /// Runs one hook with panics caught, then removes the clients whose queues
    /// overflowed while it ran (which runs their `disconnect`, and so on).
    fn call(&mut self, hook: impl FnOnce(&mut S, &RoomContext<'_>)) -> Result<(), Panicked> {
        let ctx = RoomContext {
            members: &self.members,
        };
        catch_unwind(AssertUnwindSafe(|| hook(&mut self.service, &ctx))).map_err(|_| Panicked)?;
        loop {
            let stalled = std::mem::take(&mut *self.members.overflowed.borrow_mut());
            if stalled.is_empty() {
                return Ok(());
            }
            for client in stalled {
                tracing::warn!(%client, "outbound queue overflowed; closing the client with 1008");
                self.remove_client(client)?;
            }
        }
    }

    /// A hook panicked: close every client with 1011 and drop the room, so the
    /// next join builds a fresh instance.
    fn fail(self, events: &mut mpsc::Receiver<RoomEvent>) {
        error!(room = %self.id, "a hook panicked; closing the room's clients with 1011 and removing the room");
        self.shared.rooms.remove(&self.id, self.generation);
        let frame = close_frame(CloseCode::Error, "the room failed");
        for outbox in self.members.clients.values() {
            outbox.close(Some(frame.clone()));
        }
        // Clients already on their way in hold this room's queue: close them too.
        events.close();
        while let Ok(event) = events.try_recv() {
            if let RoomEvent::Connect { outbox, .. } = event {
                outbox.close(Some(frame.clone()));
            }
        }
    }
}
