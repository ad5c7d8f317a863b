//! One client's bounded outbound queue, shared by the room (which fills it) and
//! the client's connection task (which drains it into the socket).

use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Milliseconds since the first call, on a clock shared by every connection
/// and room.
pub(crate) fn clock_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// What [`Outbox::push`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// The frame is queued.
    Queued,
    /// The outbox is already closing; the frame was discarded.
    Discarded,
    /// The frame would have exceeded the queue's bounds: the queue was emptied and
    /// the outbox is now closing with the given close frame.
    Overflowed,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Message>,
    bytes: usize,
    /// Set once: the close frame to send after the queued frames.
    close: Option<CloseFrame>,
    closing: bool,
    /// Frames discarded by an overflow.
    dropped: u64,
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    /// Wakes the writer: frames or a close are waiting.
    ready: Notify,
    /// Wakes whoever waits for the outbox to start closing.
    closing: Notify,
    max_frames: usize,
    max_bytes: usize,
    /// When the client last sent anything (data, ping, pong), per [`clock_ms`].
    last_seen_ms: AtomicU64,
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

    pub(crate) fn new(max_frames: usize, max_bytes: usize) -> Self {
        Outbox {
            state: Mutex::default(),
            ready: Notify::new(),
            closing: Notify::new(),
            max_frames: max_frames.max(1),
            max_bytes: max_bytes.max(1),
            last_seen_ms: AtomicU64::new(clock_ms()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; recover the data if it ever did.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `frame`, or closes the outbox with `overflow` if the frame does not fit.
    pub(crate) fn push(&self, frame: Message, overflow: impl FnOnce() -> CloseFrame) -> Push {
        let len = frame.len();
        let mut state = self.lock();
        if state.closing {
            return Push::Discarded;
        }
        if state.frames.len() >= self.max_frames || state.bytes + len > self.max_bytes {
            state.dropped = state.frames.len() as u64 + 1;
            state.frames.clear();
            state.bytes = 0;
            state.close = Some(overflow());
            state.closing = true;
            drop(state);
            self.wake_all();
            return Push::Overflowed;
        }
        state.bytes += len;
        state.frames.push_back(frame);
        drop(state);
        self.ready.notify_one();
        Push::Queued
    }

    /// Sends `frame` after whatever is already queued, then nothing more. Only the
    /// first close counts.
    pub(crate) fn close(&self, frame: Option<CloseFrame>) {
        let mut state = self.lock();
        if state.closing {
            return;
        }
        state.closing = true;
        state.close = frame;
        drop(state);
        self.wake_all();
    }

    fn wake_all(&self) {
        self.ready.notify_one();
        self.closing.notify_waiters();
    }

    /// How many frames an overflow discarded (the queued ones and the one
    /// that did not fit).
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.lock().closing
    }

    /// Waits until there is something to write, moves the queued frames into
    /// `batch`, and returns `Some(close)` once the outbox is closing (after which
    /// it returns nothing new).
    pub(crate) async fn next_batch(
        &self,
        batch: &mut VecDeque<Message>,
    ) -> Option<Option<CloseFrame>> {
        loop {
            {
                let mut state = self.lock();
                if !state.frames.is_empty() || state.closing {
                    std::mem::swap(&mut state.frames, batch);
                    state.bytes = 0;
                    return state.closing.then(|| state.close.take());
                }
            }
            self.ready.notified().await;
        }
    }

    /// Resolves once the outbox has started closing.
    pub(crate) async fn closed(&self) {
        loop {
            let mut notified = pin!(self.closing.notified());
            notified.as_mut().enable();
            if self.is_closing() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    fn overflow() -> CloseFrame {
        CloseFrame {
            code: CloseCode::Policy,
            reason: "overflow".into(),
        }
    }

    #[tokio::test]
    async fn drains_in_order_then_closes() {
        let outbox = Outbox::new(10, 1000);
        assert_eq!(outbox.push(Message::text("a"), overflow), Push::Queued);
        assert_eq!(outbox.push(Message::text("b"), overflow), Push::Queued);
        let mut batch = VecDeque::new();
        assert_eq!(outbox.next_batch(&mut batch).await, None);
        assert_eq!(
            Vec::from(batch.clone()),
            vec![Message::text("a"), Message::text("b")]
        );
        batch.clear();
        outbox.push(Message::text("c"), overflow);
        outbox.close(None);
        assert_eq!(outbox.push(Message::text("d"), overflow), Push::Discarded);
        assert_eq!(outbox.next_batch(&mut batch).await, Some(None));
        assert_eq!(Vec::from(batch), vec![Message::text("c")]);
    }

    #[tokio::test]
    async fn overflow_by_count_or_bytes_closes() {
        let outbox = Outbox::new(2, 1000);
        outbox.push(Message::text("a"), overflow);
        outbox.push(Message::text("b"), overflow);
        assert_eq!(outbox.push(Message::text("c"), overflow), Push::Overflowed);
        outbox.closed().await;
        let mut batch = VecDeque::new();
        assert_eq!(outbox.next_batch(&mut batch).await, Some(Some(overflow())));
        assert!(batch.is_empty());

        let outbox = Outbox::new(100, 5);
        assert_eq!(outbox.push(Message::text("abcd"), overflow), Push::Queued);
        assert_eq!(outbox.push(Message::text("ef"), overflow), Push::Overflowed);
    }
}
