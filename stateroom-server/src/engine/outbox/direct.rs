//! Direct writes: under shards a room and its clients' connections run on one
//! thread, and a frame pushed for a client whose writer is idle need not wake
//! the connection's task. The outbox queues it and puts itself on the
//! thread's flush list; the shard's flusher, a task queued behind whatever
//! was ready when the first such frame came, writes each listed outbox's
//! frames into its socket with one `send`. So a delivery costs no wake-up
//! and no poll of the connection's task, and under load the frames a client
//! gets while the flusher waits its turn leave together (as a woken writer's
//! would). What the flusher cannot finish (a full socket, a partial write's
//! rest, a batch longer than [`DIRECT_UP_TO`], a control frame) goes to the
//! writer, woken for it. Measured in docs/benchmarks-notes.md.
//!
//! The client's TCP stream lives in its outbox under shards, so that the
//! flusher can reach it: the connection's task reads and writes it there
//! too, one uncontended lock per call (the three run on one thread).

use super::frame::{MAX_HEAD, data, encode_head};
use super::{Outbox, State};
use std::cell::RefCell;
use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, Waker};
use tokio::io::ReadBuf;

/// Batches up to this long are written by the flusher, copied into a
/// buffer on the stack; longer ones by the connection's own task.
const DIRECT_UP_TO: usize = 4096;

/// This thread's outboxes with frames for the flusher, and the flusher's
/// waker while it waits for some.
#[derive(Default)]
struct Flush {
    dirty: Vec<Arc<Outbox>>,
    flusher: Option<Waker>,
}

thread_local! {
    static FLUSH: RefCell<Flush> = RefCell::default();
}

/// Puts `outbox` on this thread's flush list (once until it is flushed).
pub(super) fn defer(outbox: &Arc<Outbox>) {
    let flusher = FLUSH.with(|flush| {
        let mut flush = flush.borrow_mut();
        flush.dirty.push(outbox.clone());
        flush.flusher.take()
    });
    if let Some(flusher) = flusher {
        flusher.wake();
    }
}

/// The flusher of the thread it runs on (a shard's): never ends. Adds its
/// write calls to `writes`.
pub(crate) async fn run(writes: Arc<AtomicU64>) {
    let mut list = Vec::new();
    poll_fn(|cx| {
        FLUSH.with(|flush| std::mem::swap(&mut flush.borrow_mut().dirty, &mut list));
        let written: u64 = list.drain(..).map(|outbox| u64::from(outbox.flush())).sum();
        if written > 0 {
            writes.fetch_add(written, Ordering::Relaxed);
        }
        FLUSH.with(|flush| {
            let mut flush = flush.borrow_mut();
            if flush.dirty.is_empty() {
                flush.flusher = Some(cx.waker().clone());
            } else {
                // Listed while this turn flushed (nothing here pushes, but
                // a list left unflushed would wait for the next push): go
                // again, after what else is ready.
                cx.waker().wake_by_ref();
            }
        });
        Poll::<()>::Pending
    })
    .await;
}

impl Outbox {
    /// Writes the queued frames into the socket if the writer is still
    /// idle; what the socket does not take goes to the writer, woken for
    /// it. Says whether it made a write call.
    fn flush(&self) -> bool {
        let mut state = self.lock();
        state.dirty = false;
        if !state.idle || state.closing || state.frames.is_empty() {
            // The writer took the frames, or was woken for them.
            return false;
        }
        let Some(stream) = &state.socket else {
            return false;
        };
        let written = match send(stream, &state) {
            Some(Sent::All) => {
                state.clear();
                return true;
            }
            Some(Sent::Part(rest)) => {
                // The rest of what the socket took in part goes first.
                state.tail = rest;
                state.clear();
                true
            }
            // A full socket: the writer waits for it to drain.
            Some(Sent::Refused) => true,
            None => false,
        };
        state.idle = false;
        let writer = state.writer.take();
        drop(state);
        if let Some(writer) = writer {
            writer.wake();
        }
        written
    }
}

impl State {
    /// The queue was written.
    fn clear(&mut self) {
        self.frames.clear();
        self.bytes = 0;
        self.behind = false;
    }
}

/// What one `send` of the queued frames did.
enum Sent {
    All,
    /// The socket took part: the encoded bytes it did not take.
    Part(Box<[u8]>),
    /// The socket took nothing (full, or failed: the writer finds out).
    Refused,
}

/// One `send` of the queued frames, copied into a buffer on the stack;
/// `None` if they are longer than [`DIRECT_UP_TO`] or one is not a data
/// frame.
fn send(stream: &tokio::net::TcpStream, state: &State) -> Option<Sent> {
    let mut copy = [MaybeUninit::<u8>::uninit(); DIRECT_UP_TO];
    let mut copy = ReadBuf::uninit(&mut copy);
    for frame in &state.frames {
        let (opcode, payload) = data(frame)?;
        if copy.remaining() < MAX_HEAD + payload.len() {
            return None;
        }
        let mut head = [0u8; MAX_HEAD];
        let len = encode_head(opcode, payload.len(), &mut head);
        copy.put_slice(&head[..len]);
        copy.put_slice(payload);
    }
    let encoded = copy.filled();
    // A plain `send`, not tokio's `try_write`: an idle writer's socket is not
    // known to be full, and asking tokio first reads the socket's readiness,
    // a cold line per delivery. A refusal goes to the writer, whose write
    // finds the socket full and waits on tokio's readiness as before.
    Some(match socket2::SockRef::from(stream).send(encoded) {
        Ok(written) if written == encoded.len() => Sent::All,
        Ok(written) if written > 0 => Sent::Part(encoded[written..].into()),
        _ => Sent::Refused,
    })
}
