//! The task that owns one room. It drives the room's [`RoomCore`] with real
//! time: events arrive on one queue and are handled one at a time, in arrival
//! order, so user code never needs a lock; one sleep serves every timer.

mod dispatch;
mod open;

use crate::engine::Engine;
use crate::engine::event::RoomEvent;
use crate::engine::kinds::Kind;
use crate::engine::members::Outlet;
use crate::engine::outbox::{Outbox, close_frame, failed_frame};
use crate::engine::persistence::{OpenFailed, SaveFailed, Saver};
use crate::engine::registry::Activity;
use crate::engine::room_core::{Panicked, RoomCore};
use crate::engine::shards::Place;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use open::{Opened, open};
use stateroom_core::SimpleStateroomService;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, error, info, info_span, warn};

struct RoomTask<S> {
    /// The room's key (`{room_id}` or `{kind}/{room_id}`).
    id: Arc<str>,
    /// Its kind's name (`""` on a server of one service), for the metrics.
    kind: Arc<str>,
    generation: u64,
    core: RoomCore<S, Arc<Outbox>>,
    /// Room time zero: timer deadlines are offsets from it.
    epoch: Instant,
    /// The room is ending: free it as soon as it is empty.
    shutting_down: bool,
    engine: Arc<Engine>,
    info: Arc<Activity>,
    /// Persisted rooms: when and how the state is saved.
    saver: Option<Saver>,
    /// Save now whatever the durability (the room is ending).
    force_save: bool,
    /// The server is restarting and the room's sessions are saved for the
    /// next process: it is done once that save is durable.
    suspended: bool,
    /// In a cluster: becomes true when the room's lease is lost or lapsed.
    fenced: Option<tokio::sync::watch::Receiver<bool>>,
}

/// Most frames a persisted room holds for a save before it stops taking events.
const MAX_HELD: usize = 65_536;

/// How often a room that is behind on its clients' queues looks again.
const BEHIND_CHECK: std::time::Duration = std::time::Duration::from_millis(2);

/// How many events a room handles before it saves (persisted rooms save once
/// per batch of events drained from the queue).
const BATCH: usize = 64;

/// Starts the task of room `id`; called by the registry under its lock.
pub(crate) fn spawn<S: SimpleStateroomService>(
    engine: Arc<Engine>,
    kind: Arc<Kind>,
    id: Arc<str>,
    generation: u64,
    info: Arc<Activity>,
    events: mpsc::Receiver<RoomEvent>,
    place: &Place,
) {
    // A root span: the room outlives the request that created it, so its
    // lines carry the room, not that client's address.
    let span = info_span!(parent: None, "room", room = %id);
    let kind = kind.name.clone();
    place.spawn_room(run::<S>(engine, kind, id, generation, info, events).instrument(span));
}

async fn run<S: SimpleStateroomService>(
    engine: Arc<Engine>,
    kind: Arc<str>,
    id: Arc<str>,
    generation: u64,
    info: Arc<Activity>,
    mut events: mpsc::Receiver<RoomEvent>,
) {
    let epoch = Instant::now();
    let Opened {
        core,
        saver,
        fenced,
    } = match open::<S>(&engine, &id, epoch).await {
        Ok(opened) => opened,
        Err(failed) => {
            engine.rooms.remove(&id, generation);
            close_pending(&mut events, matches!(failed, OpenFailed::Unavailable));
            return;
        }
    };
    let mut room = RoomTask {
        id,
        kind,
        generation,
        core,
        epoch,
        shutting_down: false,
        engine,
        info,
        saver,
        force_save: false,
        suspended: false,
        fenced,
    };
    let result = room.event_loop(&mut events).await;
    let (engine, id) = (room.engine.clone(), room.id.clone());
    match result {
        Ok(()) => info!("room freed"),
        Err(failure) => room.fail(&failure, &mut events),
    }
    // Unloaded (its last save durable) or failed: another node may have it,
    // unless a join here has started it again meanwhile.
    if let Some(cluster) = &engine.leases
        && engine.rooms.events(&id).is_none()
    {
        cluster.release(&id).await;
    }
}

/// Sleeps until `deadline`; never without one. The timer is made at the
/// first poll: `select!` builds every branch's future on each turn of the
/// loop, disabled ones too, and a `sleep_until` built for nothing read the
/// clock and cloned the runtime's handle (three of them per event batch).
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Resolves when the room's lease is gone (never outside a cluster).
async fn fenced(fenced: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    match fenced {
        Some(receiver) => {
            if receiver.wait_for(|fenced| *fenced).await.is_err() {
                // The lease was dropped without fencing: nothing to wait for.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

/// The store's answer to a persisted room's save in flight.
async fn answer_of(
    saver: &mut Option<Saver>,
) -> Result<crate::engine::store::SaveOutcome, crate::engine::store::StoreError> {
    match saver {
        Some(saver) => saver.answer().await,
        None => std::future::pending().await,
    }
}

/// The reason rooms are told to end at shutdown.
pub(crate) const SHUTDOWN: &str = "server shutting down";

/// Closes the clients whose joins are still queued for a room that failed.
/// Answers what waits in a room's queue when it stops: with `retry` (its
/// store is unreachable, or it moved to another node) a queued join gets
/// 503 and comes back; else dropping its reply tells its HTTP request the
/// room failed (500). A queued connection's outbox is closed with 1011.
fn close_pending(events: &mut mpsc::Receiver<RoomEvent>, retry: bool) {
    events.close();
    while let Ok(event) = events.try_recv() {
        match event {
            RoomEvent::Connect(arrival) => arrival.outbox.close(Some(failed_frame())),
            RoomEvent::Join { reply, .. } if retry => {
                let _ = reply.send(Err(stateroom_core::Reject::unavailable(
                    "the room's store is unavailable; retry",
                )));
            }
            _ => {}
        }
    }
}

impl<S: SimpleStateroomService> RoomTask<S> {
    fn now(&self) -> std::time::Duration {
        self.epoch.elapsed()
    }

    /// Handles one event, timed for the metrics.
    fn timed(&mut self, event: RoomEvent) -> Result<(), Panicked> {
        let started = self
            .engine
            .metrics
            .as_ref()
            .map(|_| std::time::Instant::now());
        self.handle(event)?;
        if let (Some(metrics), Some(started)) = (&self.engine.metrics, started) {
            metrics.event_handled(started.elapsed());
        }
        Ok(())
    }

    /// Fires every timer that is due.
    fn fire_timers(&mut self) -> Result<(), Panicked> {
        let now = self.now();
        let metrics = self.engine.metrics.as_ref();
        self.core.fire_due(now, &mut |_, deadline| {
            if let Some(metrics) = metrics {
                metrics.timer_fired(now.saturating_sub(deadline));
            }
        })
    }

    /// Publishes the room's directory entry and client count, if either
    /// changed.
    fn publish(&self) {
        let listing = self.core.take_listing(self.now());
        if self.info.publish(listing, self.core.client_count()) {
            self.engine.rooms.directory_changed();
        }
    }

    /// After a batch of events (or a timer, or a heartbeat): persisted rooms
    /// save, or schedule a save, or are destroyed.
    async fn after_batch(&mut self) -> Result<(), SaveFailed> {
        let now = self.now();
        // The patches this batch's events made, before the save that covers them.
        self.core.sync(now)?;
        self.publish();
        if self.core.destroy_requested() && !self.shutting_down {
            // `ctx.destroy()`: the room ends and its stored state goes.
            self.engine.rooms.evict(&self.id);
            self.shutting_down = true;
            if let Some(mut saver) = self.saver.take()
                && let Err(error) = saver.destroy().await
            {
                error!(%error, "could not delete the destroyed room's stored state");
            }
            // Nothing is saved any more: what the room said before goes out,
            // then the close.
            let held = self.core.held();
            self.core.release(held, now)?;
            self.core.open_gate();
            self.core
                .end(&close_frame(CloseCode::Normal, "room destroyed"), now)?;
            return Ok(());
        }
        let Some(saver) = self.saver.as_mut() else {
            return Ok(());
        };
        if std::mem::take(&mut self.force_save) {
            saver.save(&mut self.core, now)
        } else {
            saver.after_batch(&mut self.core, now)
        }
    }

    async fn event_loop(
        &mut self,
        events: &mut mpsc::Receiver<RoomEvent>,
    ) -> Result<(), SaveFailed> {
        let config = &self.engine.config;
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
        // A restored room's overdue timers fire as it opens, before any
        // event (a join queued meanwhile sees what they did).
        self.fire_timers()?;
        self.after_batch().await?;
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
            let due = self.saver.as_ref().and_then(Saver::due);
            // A gated room whose store is behind stops taking events (its
            // clients' reads pause) rather than hold frames without bound.
            let held_open = self.core.held() < MAX_HELD;
            // A room whose clients' queues are behind (the server is, not
            // they) stops taking events too, until they drain.
            let behind = self.core.is_behind();
            let open = held_open && !behind;
            let in_flight = self.saver.as_ref().is_some_and(Saver::in_flight);
            tokio::select! {
                event = events.recv(), if open => {
                    let Some(event) = event else { return Ok(()) };
                    self.timed(event)?;
                    // A batch: whatever else is already queued, up to a bound.
                    for _ in 1..BATCH {
                        if self.core.is_behind() {
                            break;
                        }
                        let Ok(event) = events.try_recv() else { break };
                        self.timed(event)?;
                    }
                    if self.core.is_behind() {
                        self.core.pausing();
                    }
                }
                answer = answer_of(&mut self.saver), if in_flight => {
                    let now = self.now();
                    if let Some(saver) = self.saver.as_mut() {
                        saver.on_answer(&mut self.core, answer, now)?;
                    }
                }
                () = until(due), if due.is_some() => {
                    let now = self.now();
                    if let Some(saver) = self.saver.as_mut() {
                        saver.on_due(&mut self.core, now)?;
                    }
                }
                () = until(timer), if timer.is_some() => {
                    self.fire_timers()?;
                }
                () = async { tokio::time::sleep(BEHIND_CHECK).await }, if behind => {
                    self.core.recheck_behind();
                }
                _ = heartbeat.tick(), if empty_since.is_none() => {
                    self.core.sweep(heartbeat_timeout, &silent, self.now())?;
                }
                () = fenced(&mut self.fenced) => return Err(SaveFailed::Fenced),
                () = until(free_at), if free_at.is_some() => {
                    // A persisted room is unloaded only once its last save is durable.
                    let settled = self.saver.as_ref().is_none_or(Saver::settled);
                    if settled && self.engine.rooms.free_if_empty(&self.id, self.generation) {
                        return Ok(());
                    }
                    // A client is on its way in (its Connect event is next),
                    // or a save is still in flight.
                    empty_since = Some(Instant::now());
                }
            }
            self.after_batch().await?;
            if let Some(metrics) = &self.engine.metrics {
                metrics.absorb(self.core.stats(), &self.kind);
            }
            self.info.touch(self.core.client_count());
            // Seats held for clients on their way keep a room, unless it is
            // ending: a reservation does not outlive its room.
            let held = !self.shutting_down && self.core.holds_seats(self.now());
            let occupied = (self.core.has_clients() || held) && !self.suspended;
            empty_since = match (occupied, empty_since) {
                (false, None) => Some(Instant::now()),
                (false, since) => since,
                (true, _) => None,
            };
        }
    }

    /// A hook panicked, or a save failed: close every client with 1011 and
    /// drop the room (held frames never leave), so that the next join builds
    /// a fresh instance, or loads the last durable snapshot.
    fn fail(self, failure: &SaveFailed, events: &mut mpsc::Receiver<RoomEvent>) {
        match failure {
            SaveFailed::Panicked(panicked) => error!(
                room = %self.id,
                panic = panicked.message(),
                "a hook panicked; closing the room's clients with 1011 and removing the room"
            ),
            SaveFailed::Fenced | SaveFailed::StaleFence => warn!(
                room = %self.id,
                error = %failure,
                "fenced: dropping the frames it held, closing the room's clients with 1012 so that they reconnect to the room's new node"
            ),
            other => error!(
                room = %self.id,
                error = %other,
                "a save failed; dropping the frames it held, closing the room's clients with 1011 and removing the room"
            ),
        }
        self.core.discard_held();
        if let Some(metrics) = &self.engine.metrics {
            match failure {
                SaveFailed::Panicked(_) => metrics.panicked(),
                _ => metrics.save_failed(),
            }
            metrics.absorb(self.core.stats(), &self.kind);
        }
        self.engine.rooms.remove(&self.id, self.generation);
        let frame = match failure {
            // Another node has (or will have) the room: come back there.
            SaveFailed::Fenced | SaveFailed::StaleFence if self.engine.leases.is_some() => {
                close_frame(CloseCode::Restart, "service restart")
            }
            _ => failed_frame(),
        };
        self.core.close_all(&frame);
        // Clients already on their way in hold this room's queue: close them too.
        let moved = matches!(failure, SaveFailed::Fenced | SaveFailed::StaleFence)
            && self.engine.leases.is_some();
        close_pending(events, moved);
    }
}
