//! [`Wire`]: one WebSocket, read and written by the one task that owns it.
//!
//! tokio-tungstenite adapts tungstenite's blocking-style API to any task
//! layout, including a stream split in halves polled by two tasks. For that
//! it keeps two waker proxies per stream and registers the caller's waker in
//! them on every read, flush and readiness check: the hottest user-space
//! function of a many-rooms run (`docs/benchmarks-notes.md`), and 128 bytes
//! per connection. A connection here is one task, so the context handed to
//! each poll is the only waker there is, and [`Wire`] reads the socket
//! itself: the common data frame is parsed in place (`inbound`), and
//! tungstenite's `WebSocketContext` is handed every other frame whole, from
//! memory, never the socket. The reading side is in `wire_read`.
//!
//! Writes skip tungstenite's buffer. A server's frames are unmasked, so a data
//! frame is a header of 2 to 10 bytes before the message's own bytes, and a
//! batch goes out in one write: a short one (up to 4 KiB, the usual case)
//! copied into a buffer on the stack, a long one vectored straight from the
//! messages' shared bytes. No write buffer is kept for the connection's life
//! (tungstenite's keeps the capacity of the largest frame ever sent). Only
//! the unwritten tail of a frame the socket took in part is copied, into
//! `out`, which is freed once written. Control frames that tungstenite makes itself
//! (pongs, the close handshake) go into `out` too, in order.

use super::inbound::Feeding;
use crate::engine::outbox::frame::{self, MAX_HEAD, data, encode_head};
use bytes::BytesMut;
use hyper_tungstenite::tungstenite::protocol::{
    CloseFrame, Role, WebSocketConfig, WebSocketContext,
};
use hyper_tungstenite::tungstenite::{Error as WsError, Message};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Frames per vectored write (two slices each; Linux takes up to 1,024).
const FRAMES_PER_WRITE: usize = 64;

/// Batches up to this long are copied into one buffer on the stack and
/// written with one plain write (the batch's frames fill it; it is not
/// zeroed).
const COPY_UP_TO: usize = 4096;

/// tungstenite's protocol state, made now if this is the first frame that
/// needs it (a close, a fragment, a control frame other than a ping or
/// pong, a frame that breaks a rule). It starts open: every frame before it
/// was a whole data, ping or pong frame, which leave no state behind.
pub(super) fn context<'a>(
    ws: &'a mut Option<Box<WebSocketContext>>,
    config: &WebSocketConfig,
) -> &'a mut WebSocketContext {
    ws.get_or_insert_with(|| Box::new(WebSocketContext::new(Role::Server, Some(*config))))
}

/// A server's WebSocket over `S`.
pub(crate) struct Wire<S> {
    io: S,
    /// tungstenite's protocol state (256 bytes), made the first time a
    /// frame needs it (see [`context`]): an idle connection, or one that
    /// only sends and reads whole data frames, pings and pongs, never has
    /// one.
    ws: Option<Box<WebSocketContext>>,
    /// What tungstenite is made with (shared by the server's connections).
    config: Arc<WebSocketConfig>,
    /// Encoded bytes for the socket, in order, from `sent` on; unallocated
    /// when everything went out.
    out: Vec<u8>,
    sent: usize,
    /// Bytes read from the socket and not yet taken (the start of a frame,
    /// or frames after the one a read returned; taking one from the front
    /// moves no bytes); unallocated when empty.
    inbound: BytesMut,
    /// The stream is over (the close handshake finished, or reading failed):
    /// once `out` is written, there is nothing more to read.
    ended: bool,
    /// tungstenite holds the first frames of a fragmented message: every
    /// data frame goes to it until the message ends.
    fragmented: bool,
    /// Write calls since [`take_writes`](Self::take_writes) last asked
    /// (room for it in the padding after the flags).
    writes: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    /// Over `io`, with `read` (bytes already read from it) first.
    pub(crate) fn after(io: S, config: impl Into<Arc<WebSocketConfig>>, read: &[u8]) -> Self {
        Wire {
            io,
            ws: None,
            config: config.into(),
            out: Vec::new(),
            sent: 0,
            inbound: BytesMut::from(read),
            ended: false,
            fragmented: false,
            writes: 0,
        }
    }

    /// How many write calls went to the socket since the last time this
    /// was asked (for `stateroom_socket_writes_total`).
    pub(crate) fn take_writes(&mut self) -> u32 {
        std::mem::take(&mut self.writes)
    }

    /// The stream underneath.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Whether data frames may still be written (the close handshake has
    /// not begun).
    pub(crate) fn can_write(&self) -> bool {
        self.ws.as_ref().is_none_or(|ws| ws.can_write())
    }

    /// Queues bytes already encoded, after what waits.
    pub(crate) fn queue_raw(&mut self, bytes: Vec<u8>) {
        if self.has_unwritten() {
            self.out.extend_from_slice(&bytes);
        } else {
            self.out = bytes;
            self.sent = 0;
        }
    }

    /// Whether encoded bytes wait for the socket.
    pub(crate) fn has_unwritten(&self) -> bool {
        self.sent < self.out.len()
    }

    /// Writes the frames of `batch` after whatever waits: ready once the
    /// batch is empty and the socket has taken every byte. Pending keeps in
    /// `batch` what the socket has not taken (nothing of it is copied), so
    /// call again with the same batch. Data frames queued after the close
    /// handshake began are dropped: the peer could not take them.
    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut VecDeque<Message>,
    ) -> Poll<Result<(), WsError>> {
        loop {
            if self.has_unwritten() {
                ready!(self.poll_flush(cx))?;
            }
            let Some(first) = batch.front() else {
                return Poll::Ready(Ok(()));
            };
            if !self.can_write() {
                batch.clear();
                continue;
            }
            if data(first).is_none() || !self.io.is_write_vectored() {
                // Control frames, and a stream that writes one slice a call:
                // through `out`, one write for the lot.
                while let Some(message) = batch.pop_front() {
                    self.queue(message)?;
                    if batch.front().and_then(data).is_some() && self.io.is_write_vectored() {
                        break;
                    }
                }
                continue;
            }
            ready!(self.poll_write_data(cx, batch))?;
        }
    }

    /// One write of the data frames at the front of `batch` (up to
    /// [`FRAMES_PER_WRITE`]), each a header and the message's own bytes:
    /// copied on the stack and written plainly if short, vectored if long.
    /// What the socket took leaves the batch; so does a frame it took in
    /// part, whose unwritten tail goes into `out`, to be written first.
    fn poll_write_data(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut VecDeque<Message>,
    ) -> Poll<Result<(), WsError>> {
        let mut heads = [[0u8; MAX_HEAD]; FRAMES_PER_WRITE];
        let mut frames = 0;
        let mut slices = [IoSlice::new(&[]); 2 * FRAMES_PER_WRITE];
        for (message, head) in batch.iter().zip(heads.iter_mut()) {
            let Some((opcode, payload)) = data(message) else {
                break;
            };
            let len = encode_head(opcode, payload.len(), head);
            slices[2 * frames] = IoSlice::new(&head[..len]);
            slices[2 * frames + 1] = IoSlice::new(payload);
            frames += 1;
        }
        let slices = &slices[..2 * frames];
        let len: usize = slices.iter().map(|slice| slice.len()).sum();
        let io = Pin::new(&mut self.io);
        let written = if len > COPY_UP_TO {
            ready!(io.poll_write_vectored(cx, slices))?
        } else {
            // Short: one copy and a plain write (`send`), which costs the
            // kernel less than a `writev` of the pieces. The buffer is
            // filled, not zeroed first.
            let mut copy = [MaybeUninit::<u8>::uninit(); COPY_UP_TO];
            let mut copy = ReadBuf::uninit(&mut copy);
            for slice in slices {
                copy.put_slice(slice);
            }
            ready!(io.poll_write(cx, copy.filled()))?
        };
        if written == 0 {
            return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
        }
        self.writes = self.writes.wrapping_add(1);
        let mut left = written;
        let mut taken = 0;
        for pair in slices.chunks_exact(2) {
            let (head, payload) = (&pair[0][..], &pair[1][..]);
            taken += 1;
            if left < head.len() + payload.len() {
                // Taken in part: the rest goes first.
                if left < head.len() {
                    self.out.extend_from_slice(&head[left..]);
                    self.out.extend_from_slice(payload);
                } else {
                    self.out.extend_from_slice(&payload[left - head.len()..]);
                }
                break;
            }
            left -= head.len() + payload.len();
            if left == 0 {
                break;
            }
        }
        batch.drain(..taken);
        Poll::Ready(Ok(()))
    }

    /// Encodes `message` into `out`.
    fn queue(&mut self, message: Message) -> Result<(), WsError> {
        if let Some((opcode, payload)) = data(&message) {
            frame::extend(&mut self.out, opcode, payload);
            return Ok(());
        }
        let ws = context(&mut self.ws, &self.config);
        let mut io = Feeding::nothing(&mut self.out);
        ws.write(&mut io, message)?;
        ws.flush(&mut io)
    }

    /// Queues our close frame after what waits; no frame follows it. Once
    /// the peer has closed, there is nothing to send.
    pub(crate) fn queue_close(&mut self, frame: Option<CloseFrame>) -> Result<(), WsError> {
        let ws = context(&mut self.ws, &self.config);
        match ws.close(&mut Feeding::nothing(&mut self.out), frame) {
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => Ok(()),
            done => done,
        }
    }

    /// Writes what waits in `out`; ready once the socket took all of it.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        while self.has_unwritten() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
            }
            self.sent += n;
            self.writes = self.writes.wrapping_add(1);
        }
        if self.sent > 0 {
            // Give the memory back: an idle connection holds none.
            self.out = Vec::new();
            self.sent = 0;
        }
        Poll::Ready(ready!(Pin::new(&mut self.io).poll_flush(cx)).map_err(WsError::Io))
    }

    /// Sends one message and waits until the socket took it.
    pub(crate) async fn send(&mut self, message: Message) -> Result<(), WsError> {
        let mut batch = VecDeque::from([message]);
        poll_fn(|cx| self.poll_send(cx, &mut batch)).await
    }

    /// Sends our close frame and waits until the socket took it.
    pub(crate) async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), WsError> {
        self.queue_close(frame)?;
        poll_fn(|cx| self.poll_flush(cx)).await
    }
}

#[path = "wire_read.rs"]
mod read;

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
