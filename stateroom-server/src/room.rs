//! The task that owns one room. It drives the room's [`RoomCore`] with real
//! time: events arrive on one queue and are handled one at a time, in arrival
//! order, so user code never needs a lock; one sleep serves every timer.

use crate::members::{Outlet, RoomSettings};
use crate::outbox::{Outbox, Push};
use crate::resume::{ResumeRequest, ResumeSettings};
use crate::room_core::{Gone, Panicked, RoomCore};
use crate::server::Shared;
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::{ClientData, ClientId, JoinRequest, Reject, SimpleStateroomService};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, debug, error, info, info_span};

/// A connection opening for an admitted client.
pub(crate) struct Arrival {
    /// The connection's own id: the client's, unless it resumes a session.
    pub(crate) conn: ClientId,
    pub(crate) outbox: Arc<Outbox>,
    /// What the `join` hook attached.
    pub(crate) data: ClientData,
    pub(crate) resume: Option<ResumeRequest>,
    /// Told which client the connection is.
    pub(crate) reply: oneshot::Sender<ClientId>,
}

/// Something that happened to a room, in the order it happened. Events from a
/// connection carry the client and the connection (`conn`): a client that
/// resumed on a new connection ignores what its old one still says.
pub(crate) enum RoomEvent {
    /// May this request join? (Runs the `join` hook.)
    Join {
        request: Box<JoinRequest>,
        reply: oneshot::Sender<Result<ClientData, Reject>>,
    },
    Connect(Box<Arrival>),
    Text {
        client: ClientId,
        conn: ClientId,
        text: Utf8Bytes,
    },
    Binary {
        client: ClientId,
        conn: ClientId,
        data: Bytes,
    },
    /// The connection ended.
    Gone {
        client: ClientId,
        conn: ClientId,
        how: Gone,
    },
    /// Close the client's connection with `frame` once everything the room sent
    /// it so far (replies to its earlier messages included) is delivered.
    Close {
        client: ClientId,
        conn: ClientId,
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
    let settings = settings::<S>(&shared.config);
    let core = match RoomCore::<S, Arc<Outbox>>::new(id.clone(), settings, epoch.elapsed()) {
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

/// The room settings a server gives rooms of service `S`.
fn settings<S: SimpleStateroomService>(config: &crate::Server) -> RoomSettings {
    let window = config.reconnect_window.or(S::RECONNECT_WINDOW);
    RoomSettings {
        resume: window
            .filter(|window| !window.is_zero())
            .map(|window| ResumeSettings {
                window,
                max_frames: config.limits.max_resume_messages,
                max_bytes: config.limits.max_resume_bytes,
            }),
        strict: false,
    }
}

/// The frame a failed room's clients get.
pub(crate) fn failed_frame() -> CloseFrame {
    close_frame(CloseCode::Error, "the room failed")
}

/// Closes the clients whose joins are still queued for a room that failed.
fn close_pending(events: &mut mpsc::Receiver<RoomEvent>) {
    events.close();
    // Dropping a queued join's reply tells its HTTP request the room failed;
    // a queued connection's outbox is closed with 1011.
    while let Ok(event) = events.try_recv() {
        if let RoomEvent::Connect(arrival) = event {
            arrival.outbox.close(Some(failed_frame()));
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
            RoomEvent::Join { request, reply } => {
                let verdict = self.core.admit(&request, now)?;
                if let Err(reject) = &verdict {
                    debug!(%reject, "join rejected");
                }
                let _ = reply.send(verdict);
                Ok(())
            }
            RoomEvent::Connect(arrival) => {
                let Arrival {
                    conn,
                    outbox,
                    data,
                    resume,
                    reply,
                } = *arrival;
                let client = self
                    .core
                    .connect(conn, outbox, data, resume.as_ref(), now)?;
                debug!(%client, %conn, "client joined");
                let _ = reply.send(client);
                Ok(())
            }
            RoomEvent::Text { client, conn, text } => self.core.text(client, conn, &text, now),
            RoomEvent::Binary { client, conn, data } => self.core.binary(client, conn, &data, now),
            RoomEvent::Gone { client, conn, how } => self.core.gone(client, conn, how, now),
            RoomEvent::Close {
                client,
                conn,
                frame,
            } => {
                self.core.close(client, conn, frame);
                Ok(())
            }
            RoomEvent::Shutdown => {
                self.shutting_down = true;
                self.core
                    .end(&close_frame(CloseCode::Away, "server shutting down"), now)
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
