//! The task that owns one room. It drives the room's [`RoomCore`] with real
//! time: events arrive on one queue and are handled one at a time, in arrival
//! order, so user code never needs a lock; one sleep serves every timer.

use crate::outbox::{Outbox, Push};
use crate::room_core::{Outlet, Panicked, RoomCore};
use crate::server::Shared;
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::{ClientId, SimpleStateroomService};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
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

pub(crate) fn close_frame(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

impl Outlet for Arc<Outbox> {
    fn push(&self, frame: Message) -> bool {
        let overflow = || {
            close_frame(
                CloseCode::Policy,
                "outbound queue overflow: client too slow",
            )
        };
        Outbox::push(self, frame, overflow) == Push::Overflowed
    }

    fn close(&self, frame: Option<CloseFrame>) {
        Outbox::close(self, frame);
    }

    fn silent_for(&self) -> std::time::Duration {
        Outbox::silent_for(self)
    }
}

struct Room<S> {
    id: Arc<str>,
    generation: u64,
    core: RoomCore<S, Arc<Outbox>>,
    /// Room time zero: timer deadlines are offsets from it.
    epoch: Instant,
    /// The server is stopping: free the room as soon as it is empty.
    shutting_down: bool,
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
    let epoch = Instant::now();
    let core = match RoomCore::<S, Arc<Outbox>>::new(&id, epoch.elapsed()) {
        Ok(core) => core,
        Err(panicked) => {
            error!(
                panic = panicked.message(),
                "the service's `new` panicked; the room is not created"
            );
            shared.rooms.remove(&id, generation);
            close_pending(&mut events);
            return;
        }
    };
    info!("room created");
    let mut room = Room {
        id,
        generation,
        core,
        epoch,
        shutting_down: false,
        shared,
    };
    match room.event_loop(&mut events).await {
        Ok(()) => info!("room freed"),
        Err(panicked) => room.fail(&panicked, &mut events),
    }
}

/// The frame a failed room's clients get.
pub(crate) fn failed_frame() -> CloseFrame {
    close_frame(CloseCode::Error, "the room failed")
}

/// Closes the clients whose joins are still queued for a room that failed.
fn close_pending(events: &mut mpsc::Receiver<RoomEvent>) {
    events.close();
    while let Ok(event) = events.try_recv() {
        if let RoomEvent::Connect { outbox, .. } = event {
            outbox.close(Some(failed_frame()));
        }
    }
}

impl<S: SimpleStateroomService> Room<S> {
    fn now(&self) -> std::time::Duration {
        self.epoch.elapsed()
    }

    async fn event_loop(&mut self, events: &mut mpsc::Receiver<RoomEvent>) -> Result<(), Panicked> {
        let config = &self.shared.config;
        let grace = config.room_grace;
        let heartbeat_timeout = config.heartbeat_timeout;
        // One heartbeat timer for the whole room, not one per connection.
        let mut heartbeat = tokio::time::interval_at(
            Instant::now() + config.heartbeat_interval,
            config.heartbeat_interval,
        );
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let silent = close_frame(CloseCode::Away, "heartbeat timeout");
        let mut empty_since = Some(Instant::now());
        loop {
            let timer = self
                .core
                .next_deadline()
                .map(|deadline| self.epoch + deadline);
            let free_at = empty_since.map(|since| {
                if self.shutting_down {
                    since
                } else {
                    since + grace
                }
            });
            tokio::select! {
                event = events.recv() => {
                    let Some(event) = event else { return Ok(()) };
                    self.handle(event)?;
                }
                () = sleep_until(timer.unwrap_or_else(Instant::now)), if timer.is_some() => {
                    self.core.fire_due(self.now(), &mut |_, _| {})?;
                }
                _ = heartbeat.tick(), if empty_since.is_none() => {
                    self.core.sweep(heartbeat_timeout, &silent, self.now())?;
                }
                () = sleep_until(free_at.unwrap_or_else(Instant::now)), if free_at.is_some() => {
                    if self.shared.rooms.free_if_empty(&self.id, self.generation) {
                        return Ok(());
                    }
                    // A client is on its way in; its Connect event is next.
                    empty_since = Some(Instant::now());
                }
            }
            empty_since = match (self.core.has_clients(), empty_since) {
                (false, None) => Some(Instant::now()),
                (false, since) => since,
                (true, _) => None,
            };
        }
    }

    fn handle(&mut self, event: RoomEvent) -> Result<(), Panicked> {
        let now = self.now();
        match event {
            RoomEvent::Connect { client, outbox } => {
                debug!(%client, "client joined");
                self.core.connect(client, outbox, now)
            }
            RoomEvent::Text { client, text } => self.core.text(client, &text, now),
            RoomEvent::Binary { client, data } => self.core.binary(client, &data, now),
            RoomEvent::Disconnect { client } => self.core.disconnect(client, now),
            RoomEvent::Close { client, frame } => {
                self.core.close(client, frame);
                Ok(())
            }
            RoomEvent::Shutdown => {
                self.shutting_down = true;
                self.core
                    .close_all(&close_frame(CloseCode::Away, "server shutting down"));
                Ok(())
            }
        }
    }

    /// A hook panicked: close every client with 1011 and drop the room, so the
    /// next join builds a fresh instance.
    fn fail(self, panicked: &Panicked, events: &mut mpsc::Receiver<RoomEvent>) {
        error!(
            room = %self.id,
            panic = panicked.message(),
            "a hook panicked; closing the room's clients with 1011 and removing the room"
        );
        self.shared.rooms.remove(&self.id, self.generation);
        self.core.close_all(&failed_frame());
        // Clients already on their way in hold this room's queue: close them too.
        close_pending(events);
    }
}
