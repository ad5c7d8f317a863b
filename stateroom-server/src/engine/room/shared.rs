//! The room's state, shared by its task and, on a shard, its connections'
//! tasks: a message whose room is idle is handled in the task that read it.
//!
//! A small room's message otherwise costs three task turns (the connection
//! reads it, the room handles it, the flusher writes) where uWebSockets runs
//! one callback, and the queue and the room's turn between them were a tenth
//! of the CPU of 1,000 rooms × 4 (docs/benchmarks-notes.md). Under shards a
//! room and its connections run on one thread, so a connection that finds
//! its room idle (its task waiting with nothing queued, nothing held for a
//! save, nobody behind) can take the room's turn itself, exactly as the room
//! would have, and in the same order: nothing was queued before it. The room's
//! task is woken only when the message changed something it watches (a
//! timer, the clients, a pause, a failure). Persisted and clustered rooms,
//! and rooms not on a shard, always use the queue.

use crate::engine::Engine;
use crate::engine::event::RoomEvent;
use crate::engine::metrics::KindCounters;
use crate::engine::outbox::Outbox;
use crate::engine::persistence::SaveFailed;
use crate::engine::registry::Activity;
use crate::engine::room_core::RoomCore;
use stateroom_core::SimpleStateroomService;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Poll, Waker};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Frames per message past which a room's messages go through its queue
/// (see [`State::wide`]). 1 × 100 fan-out, in connections' turns: 14.6
/// frames per write against 16.0 through the queue, and 1.05-1.09x the
/// CPU per delivery (docs/benchmarks-notes.md).
pub(super) const WIDE: u64 = 32;

/// What a room's task and its connections share.
pub(super) struct Shared<S> {
    /// The room's key (`{room_id}` or `{kind}/{room_id}`).
    pub(super) id: Arc<str>,
    /// Its kind's counters in the metrics (`stateroom_kind_*`; unused
    /// without metrics).
    pub(super) counters: KindCounters,
    pub(super) engine: Arc<Engine>,
    pub(super) info: Arc<Activity>,
    /// Room time zero: timer deadlines are offsets from it.
    pub(super) epoch: Instant,
    state: Mutex<State<S>>,
}

/// The room's state proper, behind a lock that is never contended: only
/// tasks on the room's own thread take it, one at a time.
pub(super) struct State<S> {
    pub(super) core: RoomCore<S, Arc<Outbox>>,
    /// The client count last published to the room's [`Activity`]: the
    /// entry is locked only when that or the directory entry changed.
    published: Option<usize>,
    /// The room's task waits for events with nothing else to do, and lets
    /// its connections handle their messages (see the module's comment).
    pub(super) idle: bool,
    /// A message handled by a connection changed something the room's task
    /// watches: it takes a turn.
    attention: bool,
    /// The room's messages fan out wide (more than [`WIDE`] frames each, as
    /// of its last turn): they go through its queue, where a batch of them
    /// coalesces into fewer writes, and the hop to the task is small
    /// against their deliveries.
    pub(super) wide: bool,
    /// A hook panicked (or syncing failed) in a connection's turn.
    failed: Option<SaveFailed>,
    /// The room's task, while it waits.
    waker: Option<Waker>,
}

impl<S: SimpleStateroomService> Shared<S> {
    pub(super) fn new(
        id: Arc<str>,
        counters: KindCounters,
        engine: Arc<Engine>,
        info: Arc<Activity>,
        epoch: Instant,
        core: RoomCore<S, Arc<Outbox>>,
    ) -> Self {
        Shared {
            id,
            counters,
            engine,
            info,
            epoch,
            state: Mutex::new(State {
                core,
                published: None,
                idle: false,
                wide: false,
                attention: false,
                failed: None,
                waker: None,
            }),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Room time.
    pub(super) fn now(&self) -> std::time::Duration {
        self.epoch.elapsed()
    }

    /// Publishes the room's directory entry and client count, if either
    /// changed.
    pub(super) fn publish(&self, state: &mut State<S>) {
        let listing = state.core.take_listing(self.now());
        let clients = state.core.client_count();
        if listing.is_none() && state.published == Some(clients) {
            return;
        }
        state.published = Some(clients);
        if self.info.publish(listing, clients) {
            self.engine.rooms.directory_changed();
        }
    }

    /// After a turn: the room's counts go to the metrics, and its activity
    /// (when it last handled something, and its clients) to the registry.
    pub(super) fn account(&self, state: &State<S>) {
        if let Some(metrics) = &self.engine.metrics {
            metrics.absorb(state.core.stats(), &self.counters);
        }
        self.info.touch(state.core.client_count());
    }

    /// Resolves when a connection's turn needs the room's task: with the
    /// failure, if that turn failed.
    pub(super) async fn attention(&self) -> Option<SaveFailed> {
        poll_fn(|cx| {
            let mut state = self.lock();
            if std::mem::take(&mut state.attention) {
                return Poll::Ready(state.failed.take());
            }
            if !state
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                state.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// A connection's turn: `event` (a message) handled now, as the room's
    /// task would have, if the room is idle and nothing waits in its queue.
    fn take_turn(
        &self,
        events: &mpsc::Sender<RoomEvent>,
        event: RoomEvent,
    ) -> Result<(), RoomEvent> {
        let Ok(mut state) = self.state.try_lock() else {
            return Err(event);
        };
        // Anything queued (or a sender holding a place in the queue) goes
        // first: the room's task takes it, and this message after it.
        if !state.idle || events.capacity() != events.max_capacity() {
            return Err(event);
        }
        let now = self.now();
        let (deadline, clients) = (state.core.next_deadline(), state.core.client_count());
        // A timer that fell due fires first, in the room's task.
        if deadline.is_some_and(|deadline| deadline <= now) {
            return Err(event);
        }
        let metrics = self.engine.metrics.as_ref();
        let started = metrics.map(|_| std::time::Instant::now());
        let out = state.core.stats().messages_out.get();
        let handled = match event {
            RoomEvent::Text { client, conn, text } => state.core.text(client, conn, &text, now),
            RoomEvent::Binary { client, conn, data } => state.core.binary(client, conn, &data, now),
            other => return Err(other),
        };
        if let (Some(metrics), Some(started)) = (metrics, started) {
            metrics.event_handled(started.elapsed());
        }
        crate::engine::stats::bump(&state.core.stats().connection_turns, 1);
        if state.core.stats().messages_out.get().saturating_sub(out) > WIDE {
            // The next messages queue; the room's task decides again.
            state.wide = true;
            state.idle = false;
        }
        // The rest of the room's turn: the patches the message made, the
        // directory, the metrics, the room's activity.
        let synced = handled
            .map_err(SaveFailed::from)
            .and_then(|()| state.core.sync(now).map_err(SaveFailed::from));
        if let Err(failure) = synced {
            state.failed = Some(failure);
            state.wake();
            return Ok(());
        }
        self.publish(&mut state);
        self.account(&state);
        let behind = state.core.is_behind();
        if behind {
            state.core.pausing();
        }
        if behind
            || state.core.next_deadline() != deadline
            || state.core.client_count() != clients
            || state.core.destroy_requested()
            || state.core.held() > 0
        {
            state.wake();
        }
        Ok(())
    }
}

impl<S> State<S> {
    /// The room's task takes a turn; until it is idle again, messages queue.
    fn wake(&mut self) {
        self.idle = false;
        self.attention = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// A room whose connections may handle their messages themselves; what a
/// [`Membership`](crate::engine::registry::Membership) holds, since the
/// connection does not know the room's type.
pub(crate) trait Turns: Send + Sync {
    /// The room's event queue.
    fn events(&self) -> &mpsc::Sender<RoomEvent>;

    /// Handles `event` (a message from a connection on the room's thread)
    /// now if the room is idle and its queue empty; else gives it back, to
    /// be queued.
    fn take_turn(&self, event: RoomEvent) -> Result<(), RoomEvent>;
}

/// The room's [`Turns`], made when it is spawned; its state is filled in
/// once it has opened.
pub(super) struct Slot<S> {
    pub(super) events: mpsc::Sender<RoomEvent>,
    pub(super) shared: OnceLock<Arc<Shared<S>>>,
}

impl<S: SimpleStateroomService> Turns for Slot<S> {
    fn events(&self) -> &mpsc::Sender<RoomEvent> {
        &self.events
    }

    fn take_turn(&self, event: RoomEvent) -> Result<(), RoomEvent> {
        match self.shared.get() {
            Some(shared) => shared.take_turn(&self.events, event),
            None => Err(event),
        }
    }
}

/// The room's task waiting with nothing to do: its connections may take its
/// turns until this is dropped, which the task does as soon as its wait ends
/// (or its loop returns), before it touches the room.
pub(super) struct Idle<S: SimpleStateroomService>(Option<Arc<Shared<S>>>);

impl<S: SimpleStateroomService> Idle<S> {
    pub(super) fn begin(shared: &Arc<Shared<S>>, open: bool) -> Self {
        if !open {
            return Idle(None);
        }
        let mut state = shared.lock();
        if state.wide {
            return Idle(None);
        }
        state.idle = true;
        drop(state);
        Idle(Some(shared.clone()))
    }
}

impl<S: SimpleStateroomService> Drop for Idle<S> {
    fn drop(&mut self) {
        if let Some(shared) = &self.0 {
            shared.lock().idle = false;
        }
    }
}
