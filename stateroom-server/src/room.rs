//! The task that owns one room. It drives the room's [`RoomCore`] with real
//! time: events arrive on one queue and are handled one at a time, in arrival
//! order, so user code never needs a lock; one sleep serves every timer.

use crate::event::{Arrival, RoomEvent, close_frame, failed_frame};
use crate::members::{Outlet, RoomSettings};
use crate::outbox::{Outbox, Push};
use crate::resume::ResumeSettings;
use crate::room_core::{Panicked, RoomCore};
use crate::rooms::RoomInfo;
use crate::shared::Shared;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::SimpleStateroomService;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, debug, error, info, info_span};

impl Outlet for Arc<Outbox> {
    fn push(&self, frame: Message) -> Push {
        let overflow = || {
            close_frame(
                CloseCode::Policy,
                "outbound queue overflow: client too slow",
            )
        };
        Outbox::push(self, frame, overflow)
    }

    fn close(&self, frame: Option<CloseFrame>) {
        Outbox::close(self, frame);
    }

    fn silent_for(&self) -> std::time::Duration {
        Outbox::silent_for(self)
    }

    fn dropped(&self) -> u64 {
        Outbox::dropped(self)
    }
}

struct Room<S> {
    id: Arc<str>,
    generation: u64,
    core: RoomCore<S, Arc<Outbox>>,
    /// Room time zero: timer deadlines are offsets from it.
    epoch: Instant,
    /// The room is ending: free it as soon as it is empty.
    shutting_down: bool,
    shared: Arc<Shared>,
    info: Arc<RoomInfo>,
}

/// Starts the task of room `id`; called by the registry under its lock.
pub(crate) fn spawn<S: SimpleStateroomService>(
    shared: Arc<Shared>,
    id: Arc<str>,
    generation: u64,
    info: Arc<RoomInfo>,
    events: mpsc::Receiver<RoomEvent>,
) {
    let span = info_span!("room", room = %id);
    tokio::spawn(run::<S>(shared, id, generation, info, events).instrument(span));
}

async fn run<S: SimpleStateroomService>(
    shared: Arc<Shared>,
    id: Arc<str>,
    generation: u64,
    info: Arc<RoomInfo>,
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
            if let Some(metrics) = &shared.metrics {
                metrics.panicked();
            }
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
        info,
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
                    let started = self.shared.metrics.as_ref().map(|_| std::time::Instant::now());
                    self.handle(event)?;
                    if let (Some(metrics), Some(started)) = (&self.shared.metrics, started) {
                        metrics.event_handled(started.elapsed());
                    }
                }
                () = sleep_until(timer.unwrap_or_else(Instant::now)), if timer.is_some() => {
                    let now = self.now();
                    let metrics = self.shared.metrics.as_ref();
                    self.core.fire_due(now, &mut |_, deadline| {
                        if let Some(metrics) = metrics {
                            metrics.timer_fired(now.saturating_sub(deadline));
                        }
                    })?;
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
            if let Some(metrics) = &self.shared.metrics {
                metrics.absorb(self.core.stats());
            }
            self.info.touch(self.core.client_count());
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
            RoomEvent::End { reason } => {
                self.shutting_down = true;
                self.core.end(&close_frame(CloseCode::Away, reason), now)
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
        if let Some(metrics) = &self.shared.metrics {
            metrics.panicked();
            metrics.absorb(self.core.stats());
        }
        self.shared.rooms.remove(&self.id, self.generation);
        self.core.close_all(&failed_frame());
        // Clients already on their way in hold this room's queue: close them too.
        close_pending(events);
    }
}
