//! The task that owns one room. It drives the room's [`RoomCore`] with real
//! time: events arrive on one queue and are handled one at a time, in arrival
//! order, so user code never needs a lock; one sleep serves every timer.

mod dispatch;
mod failure;
mod open;
mod shared;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
mod turn;

use crate::engine::Engine;
use crate::engine::event::RoomEvent;
use crate::engine::kinds::Kind;
use crate::engine::metrics::KindCounters;
use crate::engine::outbox::close_frame;
use crate::engine::persistence::{OpenFailed, SaveFailed, Saver};
use crate::engine::registry::Activity;
use crate::engine::shards::Place;
use failure::close_pending;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use open::{Opened, open};
pub(crate) use shared::Turns;
use shared::{Idle, Shared, Slot, WIDE};
use stateroom_core::SimpleStateroomService;
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{Instrument, info, info_span};

struct RoomTask<S> {
    /// The room's id, services, and state, shared with its connections.
    shared: Arc<Shared<S>>,
    generation: u64,
    /// Its connections may take its turns (it runs on a shard, and is
    /// neither persisted nor in a cluster; see `shared`).
    turns: bool,
    /// The room is ending: free it as soon as it is empty.
    shutting_down: bool,
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
/// Returns the room's [`Turns`] when its connections may take them.
pub(crate) fn spawn<S: SimpleStateroomService>(
    engine: Arc<Engine>,
    kind: Arc<Kind>,
    id: Arc<str>,
    generation: u64,
    info: Arc<Activity>,
    (sender, events): (mpsc::Sender<RoomEvent>, mpsc::Receiver<RoomEvent>),
    place: &Place,
) -> Option<Arc<dyn Turns>> {
    // A root span: the room outlives the request that created it, so its
    // lines carry the room, not that client's address.
    let span = info_span!(parent: None, "room", room = %id);
    let counters = engine
        .metrics
        .as_ref()
        .map(|metrics| metrics.kind_counters(&kind.name))
        .unwrap_or_default();
    // On a shard a room's connections share its thread; persisted rooms
    // (a save between a message and its frames) and clustered ones (a
    // lease) keep every event on the queue.
    let persisted = S::PERSIST.is_some() && engine.persistence.is_some();
    let slot = (place.handle().is_some() && !persisted && engine.leases.is_none()).then(|| {
        Arc::new(Slot::<S> {
            events: sender,
            shared: OnceLock::new(),
        })
    });
    let started = Started {
        engine,
        counters,
        id,
        generation,
        info,
        slot: slot.clone(),
    };
    place.spawn_room(run::<S>(started, events).instrument(span));
    slot.map(|slot| slot as Arc<dyn Turns>)
}

/// What a room's task starts with.
struct Started<S> {
    engine: Arc<Engine>,
    counters: KindCounters,
    id: Arc<str>,
    generation: u64,
    info: Arc<Activity>,
    /// Filled once the room has opened, when its connections may take turns.
    slot: Option<Arc<Slot<S>>>,
}

async fn run<S: SimpleStateroomService>(
    started: Started<S>,
    mut events: mpsc::Receiver<RoomEvent>,
) {
    let Started {
        engine,
        counters,
        id,
        generation,
        info,
        slot,
    } = started;
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
    let shared = Arc::new(Shared::new(id, counters, engine, info, epoch, core));
    let turns = slot.is_some_and(|slot| slot.shared.set(shared.clone()).is_ok());
    let mut room = RoomTask {
        shared,
        generation,
        turns,
        shutting_down: false,
        saver,
        force_save: false,
        suspended: false,
        fenced,
    };
    let result = room.event_loop(&mut events).await;
    // Whatever ended the loop, its connections queue from now on.
    room.shared.lock().idle = false;
    let (engine, id) = (room.shared.engine.clone(), room.shared.id.clone());
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
        self.shared.now()
    }

    async fn event_loop(
        &mut self,
        events: &mut mpsc::Receiver<RoomEvent>,
    ) -> Result<(), SaveFailed> {
        let config = &self.shared.engine.config;
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
            let (timer, held_open, behind) = {
                let state = self.shared.lock();
                (
                    state
                        .core
                        .next_deadline()
                        .map(|deadline| self.shared.epoch + deadline),
                    // A gated room whose store is behind stops taking events
                    // (its clients' reads pause) rather than hold frames
                    // without bound.
                    state.core.held() < MAX_HELD,
                    // A room whose clients' queues are behind (the server
                    // is, not they) stops taking events too, until they drain.
                    state.core.is_behind(),
                )
            };
            let free_at = empty_since.map(|since| {
                if self.shutting_down {
                    since
                } else {
                    since + grace
                }
            });
            let due = self.saver.as_ref().and_then(Saver::due);
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
            // While the task waits with nothing queued, its connections
            // may take its turns; it is idle until the wait ends.
            let idle = Idle::begin(&self.shared, self.turns && open && !self.shutting_down);
            // Biased: the lease, a save's answer and the deadlines are
            // looked at before the queue, so a busy queue cannot starve them.
            tokio::select! {
                biased;
                () = fenced(&mut self.fenced) => return Err(SaveFailed::Fenced),
                failed = self.shared.attention(), if self.turns => {
                    // A connection's turn changed something watched here
                    // (the turn's bookkeeping below looks again), or failed.
                    if let Some(failure) = failed {
                        return Err(failure);
                    }
                }
                answer = answer_of(&mut self.saver), if in_flight => {
                    let now = self.now();
                    if let Some(saver) = self.saver.as_mut() {
                        saver.on_answer(&mut self.shared.lock().core, answer, now)?;
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
                            saver.on_due(&mut self.shared.lock().core, now)?;
                        }
                    }
                    if passed(timer) {
                        self.fire_timers()?;
                    }
                    if passed(recheck_at) {
                        recheck_at = None;
                        self.shared.lock().core.recheck_behind();
                    }
                    if passed(beat) {
                        next_beat = now + heartbeat_interval;
                        let now = self.now();
                        self.shared.lock().core.sweep(heartbeat_timeout, &silent, now)?;
                    }
                    if passed(free_at) {
                        // A persisted room is unloaded only once its last save is durable.
                        let settled = self.saver.as_ref().is_none_or(Saver::settled);
                        if settled && self.shared.engine.rooms.free_if_empty(&self.shared.id, self.generation) {
                            return Ok(());
                        }
                        // A client is on its way in (its Connect event is next),
                        // or a save is still in flight.
                        empty_since = Some(Instant::now());
                    }
                }
                event = events.recv(), if open => {
                    let Some(event) = event else { return Ok(()) };
                    let out = self.shared.lock().core.stats().messages_out.get();
                    self.timed(event)?;
                    let mut handled = 1;
                    // A batch: whatever else is already queued, up to a bound.
                    for _ in 1..BATCH {
                        if self.shared.lock().core.is_behind() {
                            break;
                        }
                        let Ok(event) = events.try_recv() else { break };
                        self.timed(event)?;
                        handled += 1;
                    }
                    let mut state = self.shared.lock();
                    if state.core.is_behind() {
                        state.core.pausing();
                    }
                    // Whether its connections take its next turns.
                    let sent = state.core.stats().messages_out.get().saturating_sub(out);
                    state.wide = sent > WIDE * handled;
                    drop(state);
                }
            }
            drop(idle);
            self.after_batch().await?;
            let now = self.now();
            let occupied = {
                let state = self.shared.lock();
                self.shared.account(&state);
                // Seats held for clients on their way keep a room, unless it
                // is ending: a reservation does not outlive its room.
                let held = !self.shutting_down && state.core.holds_seats(now);
                (state.core.has_clients() || held) && !self.suspended
            };
            empty_since = match (occupied, empty_since) {
                (false, None) => Some(Instant::now()),
                (false, since) => since,
                (true, _) => None,
            };
        }
    }
}
