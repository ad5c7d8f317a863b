//! The task that owns one room. It drives the room's [`RoomCore`] with real
//! time: events arrive on one queue and are handled one at a time, in arrival
//! order, so user code never needs a lock; one sleep serves every timer.

mod dispatch;
mod failure;
mod open;

use crate::engine::Engine;
use crate::engine::event::RoomEvent;
use crate::engine::kinds::Kind;
use crate::engine::metrics::KindCounters;
use crate::engine::outbox::{Outbox, close_frame};
use crate::engine::persistence::{OpenFailed, SaveFailed, Saver};
use crate::engine::registry::Activity;
use crate::engine::room_core::{Panicked, RoomCore};
use crate::engine::shards::Place;
use failure::close_pending;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use open::{Opened, open};
use stateroom_core::SimpleStateroomService;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span};

struct RoomTask<S> {
    /// The room's key (`{room_id}` or `{kind}/{room_id}`).
    id: Arc<str>,
    /// Its kind's counters in the metrics (`stateroom_kind_*`; unused
    /// without metrics).
    counters: KindCounters,
    /// The client count last published to the room's [`Activity`]: the
    /// entry is locked only when that or the directory entry changed.
    published: Option<usize>,
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
    let counters = engine
        .metrics
        .as_ref()
        .map(|metrics| metrics.kind_counters(&kind.name))
        .unwrap_or_default();
    place.spawn_room(run::<S>(engine, counters, id, generation, info, events).instrument(span));
}

async fn run<S: SimpleStateroomService>(
    engine: Arc<Engine>,
    counters: KindCounters,
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
        counters,
        published: None,
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
    fn publish(&mut self) {
        let listing = self.core.take_listing(self.now());
        let clients = self.core.client_count();
        if listing.is_none() && self.published == Some(clients) {
            return;
        }
        self.published = Some(clients);
        if self.info.publish(listing, clients) {
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
        let heartbeat_interval = config.heartbeat_interval;
        // One heartbeat for the whole room, not one per connection: the
        // next sweep, while the room has clients.
        let mut next_beat = Instant::now() + heartbeat_interval;
        let silent = close_frame(CloseCode::Away, "heartbeat timeout");
        let mut empty_since = Some(Instant::now());
        // While the room is behind on its clients' queues: when it looks again.
        let mut recheck_at: Option<Instant> = None;
        // One sleep for every deadline the room has (its timers, a save,
        // the heartbeat, a recheck, its end), kept across turns and reset
        // only when the earliest changes: a turn that handles an event
        // neither builds nor registers a timer.
        let sleep = tokio::time::sleep_until(Instant::now());
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
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
            recheck_at = if behind {
                recheck_at.or_else(|| Some(Instant::now() + BEHIND_CHECK))
            } else {
                None
            };
            let beat = empty_since.is_none().then_some(next_beat);
            let open = held_open && !behind;
            let in_flight = self.saver.as_ref().is_some_and(Saver::in_flight);
            let wake_at = [timer, free_at, due, recheck_at, beat]
                .into_iter()
                .flatten()
                .min();
            if wake_at != armed {
                if let Some(at) = wake_at {
                    sleep.as_mut().reset(at);
                }
                armed = wake_at;
            }
            // Biased: the lease, a save's answer and the deadlines are
            // looked at before the queue, so a busy queue cannot starve them.
            tokio::select! {
                biased;
                () = fenced(&mut self.fenced) => return Err(SaveFailed::Fenced),
                answer = answer_of(&mut self.saver), if in_flight => {
                    let now = self.now();
                    if let Some(saver) = self.saver.as_mut() {
                        saver.on_answer(&mut self.core, answer, now)?;
                    }
                }
                () = &mut sleep, if armed.is_some() => {
                    // Spent: the next turn arms it again, at whatever is next.
                    armed = None;
                    let now = Instant::now();
                    let passed = |at: Option<Instant>| at.is_some_and(|at| at <= now);
                    if passed(due) {
                        let now = self.now();
                        if let Some(saver) = self.saver.as_mut() {
                            saver.on_due(&mut self.core, now)?;
                        }
                    }
                    if passed(timer) {
                        self.fire_timers()?;
                    }
                    if passed(recheck_at) {
                        recheck_at = None;
                        self.core.recheck_behind();
                    }
                    if passed(beat) {
                        next_beat = now + heartbeat_interval;
                        self.core.sweep(heartbeat_timeout, &silent, self.now())?;
                    }
                    if passed(free_at) {
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
            }
            self.after_batch().await?;
            if let Some(metrics) = &self.engine.metrics {
                metrics.absorb(self.core.stats(), &self.counters);
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
}
