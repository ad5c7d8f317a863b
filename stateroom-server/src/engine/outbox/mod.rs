//! One client's bounded outbound queue, shared by the room (which fills it) and
//! the client's connection task (which drains it into the socket).
//!
//! The queue's bound is soft. Past it, the outbox tells the two reasons a queue
//! grows apart:
//! - the client stopped reading: its socket refuses bytes (the writer is
//!   blocked) and has for [`Limits::slow_reader_grace`]: the client is cut
//!   (1008) and the queue emptied;
//! - the server is behind: the socket takes bytes, but the room produces
//!   faster than the connection tasks flush. The frame is queued and
//!   [`Push::Behind`] tells the room, which stops taking events until the
//!   queue drains (its clients' reads pause, and TCP pushes back on the
//!   senders). Nobody is cut.
//!
//! [`Limits::hard_queue_multiple`] times the bound is a hard limit either
//! way: memory stays bounded.

use crate::config::Limits;
use crate::engine::outlet::Outlet;
pub(crate) use crate::engine::outlet::{Backlog, Push};
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// Milliseconds since the first call, on a clock shared by every connection
/// and room.
pub(crate) fn clock_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One outbox's bounds, from [`Limits`], stored small: every connection
/// holds one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bound {
    frames: u32,
    bytes: u32,
    /// [`Limits::slow_reader_grace`], milliseconds.
    grace_ms: u32,
    /// [`Limits::hard_queue_multiple`].
    hard: u32,
}

impl Bound {
    pub(crate) fn of(limits: &Limits) -> Self {
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).max(1);
        Bound {
            frames: small(limits.max_queued_messages),
            bytes: small(limits.max_queued_bytes),
            grace_ms: u32::try_from(limits.slow_reader_grace.as_millis()).unwrap_or(u32::MAX),
            hard: small(limits.hard_queue_multiple),
        }
    }

    fn over(self, frames: usize, bytes: usize, multiple: u32) -> bool {
        let times = |bound: u32| (bound as usize).saturating_mul(multiple as usize);
        frames > times(self.frames) || bytes > times(self.bytes)
    }

    fn drained(self, frames: usize, bytes: usize) -> bool {
        frames <= self.frames as usize / 2 && bytes <= self.bytes as usize / 2
    }
}

/// What [`Outbox::take`] moved into the writer's batch.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Batch {
    /// Nothing to write.
    Empty,
    /// Frames to write.
    Frames,
    /// The outbox is closing: write the frames moved (if any), then the close
    /// frame (if any), then nothing more.
    Last(Option<Box<CloseFrame>>),
}

#[derive(Default)]
struct State {
    frames: VecDeque<Message>,
    bytes: usize,
    /// Set once: the close frame to send after the queued frames.
    close: Option<Box<CloseFrame>>,
    closing: bool,
    /// [`Push::Behind`] was said and the queue has not drained since.
    behind: bool,
    /// Frames discarded by an overflow (saturating: stored small, every
    /// connection has one).
    dropped: u32,
    /// The connection task, while it waits for frames or a close. Under the
    /// queue's lock: a writer that finds the queue empty registers in the
    /// same critical section, so no push falls between its look and its
    /// registration, and a push reads it without atomics of its own.
    writer: Option<Waker>,
    /// The writer waits for frames with nothing of its own to write and its
    /// WebSocket open: the shard's flusher may write a frame pushed now.
    idle: bool,
    /// The client's TCP stream, under shards (see `direct`): the connection's
    /// task reads and writes it through here, and the shard's flusher
    /// writes into it while the writer is idle.
    socket: Option<tokio::net::TcpStream>,
    /// What the socket did not take of a direct write: written first.
    tail: Box<[u8]>,
    /// In the shard's flush list.
    dirty: bool,
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    bound: Bound,
    /// When the client last sent anything (data, ping, pong), per [`clock_ms`].
    last_seen_ms: AtomicU64,
    /// Since when the socket has refused bytes ([`clock_ms`] + 1), or 0
    /// while it takes them.
    blocked_since: AtomicU64,
}

impl Outbox {
    /// The client sent a frame: it is alive.
    pub(crate) fn touch(&self) {
        self.last_seen_ms.store(clock_ms(), Ordering::Relaxed);
    }

    /// How long since the client last sent anything.
    pub(crate) fn silent_for(&self) -> Duration {
        Duration::from_millis(clock_ms().saturating_sub(self.last_seen_ms.load(Ordering::Relaxed)))
    }

    pub(crate) fn new(bound: Bound) -> Self {
        Outbox {
            state: Mutex::default(),
            bound,
            last_seen_ms: AtomicU64::new(clock_ms()),
            blocked_since: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; recover the data if it ever did.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writer found the socket full (its write is pending).
    pub(crate) fn blocked(&self) {
        let _ = self.blocked_since.compare_exchange(
            0,
            clock_ms() + 1,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// The writer flushed: the socket takes bytes.
    pub(crate) fn writable(&self) {
        self.blocked_since.store(0, Ordering::Relaxed);
    }

    /// How long the socket has refused bytes, if it does.
    fn blocked_for(&self) -> Option<Duration> {
        match self.blocked_since.load(Ordering::Relaxed) {
            0 => None,
            since => Some(Duration::from_millis(
                (clock_ms() + 1).saturating_sub(since),
            )),
        }
    }

    /// Queues `frame`, or closes the outbox with `overflow` if the client
    /// stopped reading (see the module's docs).
    pub(crate) fn push(
        self: &Arc<Self>,
        frame: Message,
        overflow: impl FnOnce() -> CloseFrame,
    ) -> Push {
        let len = frame.len();
        let mut state = self.lock();
        if state.closing {
            return Push::Discarded;
        }
        let (frames, bytes) = (state.frames.len() + 1, state.bytes + len);
        let mut pushed = Push::Queued;
        if self.bound.over(frames, bytes, 1) {
            let hard = self.bound.over(frames, bytes, self.bound.hard);
            let blocked = self.blocked_for();
            let grace = Duration::from_millis(u64::from(self.bound.grace_ms));
            if hard || blocked.is_some_and(|blocked| blocked >= grace) {
                state.dropped = u32::try_from(frames).unwrap_or(u32::MAX);
                state.frames = VecDeque::new();
                state.bytes = 0;
                state.close = Some(Box::new(overflow()));
                state.closing = true;
                let writer = state.writer.take();
                drop(state);
                if let Some(writer) = writer {
                    writer.wake();
                }
                return Push::Overflowed;
            }
            if blocked.is_none() && !state.behind {
                state.behind = true;
                pushed = Push::Behind;
            }
        }
        state.bytes = bytes;
        state.frames.push_back(frame);
        if state.idle && state.socket.is_some() {
            // The writer has nothing of its own: the shard's flusher writes
            // this (and whatever joins it first) into the socket, with no
            // wake-up of the connection's task.
            let listed = std::mem::replace(&mut state.dirty, true);
            drop(state);
            if !listed {
                direct::defer(self);
            }
            return if pushed == Push::Behind {
                pushed
            } else {
                Push::Direct
            };
        }
        state.idle = false;
        let writer = state.writer.take();
        drop(state);
        match writer {
            Some(writer) => {
                writer.wake();
                if pushed == Push::Queued {
                    Push::Woke
                } else {
                    pushed
                }
            }
            None => pushed,
        }
    }

    /// Where a queue that was [`Push::Behind`] stands now.
    pub(crate) fn backlog(&self) -> Backlog {
        let mut state = self.lock();
        let drained = self.bound.drained(state.frames.len(), state.bytes);
        if state.closing || drained || self.blocked_for().is_some() {
            state.behind = false;
            Backlog::Clear
        } else {
            Backlog::Behind
        }
    }

    /// Sends `frame` after whatever is already queued, then nothing more. Only the
    /// first close counts.
    pub(crate) fn close(&self, frame: Option<CloseFrame>) {
        let mut state = self.lock();
        if state.closing {
            return;
        }
        state.closing = true;
        state.close = frame.map(Box::new);
        state.idle = false;
        let writer = state.writer.take();
        drop(state);
        if let Some(writer) = writer {
            writer.wake();
        }
    }

    /// Takes the client's TCP stream in, for the connection's task to use
    /// through [`with_socket`](Self::with_socket) and the shard's flusher to
    /// write into (under shards only: the three must run on one thread).
    pub(crate) fn attach(&self, socket: tokio::net::TcpStream) {
        self.lock().socket = Some(socket);
    }

    /// Runs `io` on the attached stream; `None` once it is detached.
    pub(crate) fn with_socket<T>(
        &self,
        io: impl FnOnce(&mut tokio::net::TcpStream) -> T,
    ) -> Option<T> {
        self.lock().socket.as_mut().map(io)
    }

    /// The writer has bytes of its own to write (a pong): no direct writes
    /// until it finds the queue empty again.
    pub(crate) fn busy(&self) {
        self.lock().idle = false;
    }

    /// The connection is over: its stream closes now, not when the room
    /// lets go of the outbox.
    pub(crate) fn detach(&self) {
        let mut state = self.lock();
        state.idle = false;
        state.socket = None;
    }

    /// How many frames an overflow discarded (the queued ones and the one
    /// that did not fit).
    pub(crate) fn dropped(&self) -> u64 {
        u64::from(self.lock().dropped)
    }

    /// Wakes `writer` when frames or a close arrive, for a writer that
    /// waits on its socket rather than on the queue; says whether the outbox
    /// is closing already.
    pub(crate) fn register(&self, writer: &Waker) -> bool {
        let mut state = self.lock();
        state.idle = false;
        Self::keep(&mut state, writer);
        state.closing
    }

    fn keep(state: &mut State, writer: &Waker) {
        if !state
            .writer
            .as_ref()
            .is_some_and(|kept| kept.will_wake(writer))
        {
            state.writer = Some(writer.clone());
        }
    }

    /// Moves the queued frames into `batch` (empty), and says whether the
    /// outbox is closing (after which it has nothing new). Finding nothing,
    /// it registers `writer`, to be woken when frames or a close arrive.
    pub(crate) fn take(
        &self,
        batch: &mut VecDeque<Message>,
        tail: &mut Vec<u8>,
        writer: &Waker,
        open: bool,
    ) -> Batch {
        let mut state = self.lock();
        if !state.tail.is_empty() {
            *tail = std::mem::take(&mut state.tail).into_vec();
        }
        if !state.frames.is_empty() || state.closing {
            state.idle = false;
            std::mem::swap(&mut state.frames, batch);
            state.bytes = 0;
            state.behind = false;
            return if state.closing {
                Batch::Last(state.close.take())
            } else {
                Batch::Frames
            };
        }
        if !tail.is_empty() {
            return Batch::Frames;
        }
        state.idle = open;
        Self::keep(&mut state, writer);
        Batch::Empty
    }
}

/// A room pushes frames for a connected client into its outbox.
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

    fn backlog(&self) -> Backlog {
        Outbox::backlog(self)
    }
}

pub(crate) fn close_frame(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// The frame a failed room's clients get.
pub(crate) fn failed_frame() -> CloseFrame {
    close_frame(CloseCode::Error, "the room failed")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

mod direct;
pub(crate) mod frame;

pub(crate) use direct::run as flusher;
