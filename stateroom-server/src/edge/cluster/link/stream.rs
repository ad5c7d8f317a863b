//! One forwarded connection on a link: [`LinkStream`], a byte stream with
//! TCP's shape (reads, writes, a write shutdown, a close) and a window of
//! credit per direction.

use super::Link;
use super::frame::{Kind, MAX_PAYLOAD};
use bytes::{Buf, Bytes};
use std::collections::VecDeque;
use std::io;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bytes a side may send on a stream before the other side has taken
/// them: what a client that stops reading can hold up on the link, beyond
/// what its own socket holds.
pub(crate) const WINDOW: usize = 256 * 1024;
/// Taken bytes are reported as credit once this many have gathered.
const REPORT: usize = WINDOW / 4;

/// A stream's half that both the link's reader and the stream's owner
/// reach.
pub(crate) struct Shared {
    pub(crate) id: u32,
    state: Mutex<State>,
}

#[derive(Default)]
pub(super) struct State {
    /// Bytes the peer sent that nobody has taken yet.
    pub(super) inbound: VecDeque<Bytes>,
    /// The peer writes nothing more (its `End` or `Close`, or the link
    /// broke).
    pub(super) eof: bool,
    /// Writing fails: the peer's end is gone, or the link is.
    pub(super) gone: bool,
    /// The peer sent `Close`: nothing need be sent when this end drops.
    pub(super) peer_closed: bool,
    /// This end sent `End`.
    pub(super) ended: bool,
    /// Who waits for inbound bytes.
    pub(super) reader: Option<Waker>,
    /// Who waits for credit.
    pub(super) writer: Option<Waker>,
    /// Bytes this end may still send.
    pub(super) credit: usize,
    /// Bytes taken here and not yet reported to the peer.
    pub(super) taken: usize,
    /// On the forwarding node: the client's TCP stream, written at once by
    /// the link's reader while nothing waits before it (see `relay`).
    pub(super) client: Option<TcpStream>,
    /// The client's bytes are on the link reader's list to flush: more
    /// from the same read join them without a copy.
    pub(super) flushing: bool,
}

impl Shared {
    pub(super) fn new(id: u32) -> Arc<Shared> {
        Arc::new(Shared {
            id,
            state: Mutex::new(State {
                credit: WINDOW,
                ..State::default()
            }),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the peer's next bytes. On a forwarding node's relayed stream
    /// they are written to the client by the link's reader once it has
    /// handed out everything its read brought ([`flush`](Self::flush)):
    /// true when this stream must go on the reader's list to flush (its
    /// first bytes since it was last flushed, with nothing waiting before
    /// them); else its relay or reader is woken if it waits.
    pub(super) fn data(&self, bytes: Bytes) -> bool {
        let mut state = self.lock();
        if state.eof {
            return false;
        }
        if state.client.is_some() {
            if state.flushing {
                state.inbound.push_back(bytes);
                return false;
            }
            if state.inbound.is_empty() {
                state.inbound.push_back(bytes);
                state.flushing = true;
                return true;
            }
            // Behind bytes the client's socket has not taken: they wait,
            // without pinning the link's read buffer they came in.
            state.inbound.push_back(Bytes::copy_from_slice(&bytes));
            return false;
        }
        state.inbound.push_back(bytes);
        if let Some(reader) = state.reader.take() {
            reader.wake();
        }
        false
    }

    /// Writes what is queued for the client, in one call, as far as its
    /// socket takes it; the rest is copied out of the link's read buffer and
    /// left to the relay, which is woken for it.
    pub(super) fn flush(&self, link: &Link) {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.flushing = false;
        let Some(client) = &state.client else {
            return;
        };
        if state.inbound.is_empty() {
            return;
        }
        let mut slices = [io::IoSlice::new(&[]); 64];
        let count = state.inbound.len().min(slices.len());
        for (slice, bytes) in slices.iter_mut().zip(&state.inbound) {
            *slice = io::IoSlice::new(bytes);
        }
        // An error is left to the relay's own write, which sees it.
        let mut written = client.try_write_vectored(&slices[..count]).unwrap_or(0);
        took(&mut state.taken, link, self.id, written);
        while let Some(front) = state.inbound.front_mut() {
            if written >= front.len() {
                written -= front.len();
                state.inbound.pop_front();
            } else {
                front.advance(written);
                break;
            }
        }
        if state.inbound.is_empty() {
            return;
        }
        for bytes in state.inbound.iter_mut() {
            *bytes = Bytes::copy_from_slice(bytes);
        }
        if let Some(reader) = state.reader.take() {
            reader.wake();
        }
    }

    /// The peer sent `End` (`close` false) or `Close` (true), or the link
    /// broke (true).
    pub(super) fn ended(&self, close: bool) {
        let mut state = self.lock();
        state.eof = true;
        if close {
            state.gone = true;
            state.peer_closed = true;
        }
        for waker in [state.reader.take(), state.writer.take()]
            .into_iter()
            .flatten()
        {
            waker.wake();
        }
    }

    /// The peer took `n` more bytes.
    pub(super) fn credit(&self, n: usize) {
        let mut state = self.lock();
        state.credit = state.credit.saturating_add(n);
        if let Some(writer) = state.writer.take() {
            writer.wake();
        }
    }
}

/// Counts `n` more bytes as taken on stream `id`, and reports them to the
/// peer once enough have gathered.
pub(super) fn took(taken: &mut usize, link: &Link, id: u32, n: usize) {
    *taken += n;
    if *taken >= REPORT {
        let report = std::mem::take(taken) as u32;
        link.send(Kind::Credit, id, 4, &[&report.to_be_bytes()[..]]);
    }
}

/// One end of a stream on a link. Dropping it closes that end (the peer's
/// writes then fail and its reads end).
pub(crate) struct LinkStream {
    pub(super) shared: Arc<Shared>,
    pub(super) link: Arc<Link>,
}

impl LinkStream {
    /// Writes what credit allows of `bufs` as one frame: how many bytes.
    pub(super) fn poll_send<B: Deref<Target = [u8]>>(
        &self,
        cx: &mut Context<'_>,
        bufs: &[B],
    ) -> Poll<io::Result<usize>> {
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        if want == 0 {
            return Poll::Ready(Ok(0));
        }
        let mut state = self.shared.lock();
        if state.gone || state.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if state.credit == 0 {
            state.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = want.min(state.credit).min(MAX_PAYLOAD);
        state.credit -= n;
        // Under the stream's lock, so that an `End` never passes its data.
        if self.link.send(Kind::Data, self.shared.id, n, bufs) {
            Poll::Ready(Ok(n))
        } else {
            Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()))
        }
    }

    /// Sends `End` once: this end writes nothing more.
    pub(super) fn end(&self) {
        let mut state = self.shared.lock();
        if !state.ended && !state.gone {
            state.ended = true;
            self.link.signal(Kind::End, self.shared.id);
        }
    }

    /// Queued bytes first, then the peer's next bytes as they come; `Ok`
    /// with nothing once the peer ends.
    fn poll_take(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut state = self.shared.lock();
        let state = &mut *state;
        let mut n = 0;
        while buf.remaining() > 0
            && let Some(front) = state.inbound.front_mut()
        {
            let take = front.len().min(buf.remaining());
            buf.put_slice(&front[..take]);
            front.advance(take);
            n += take;
            if front.is_empty() {
                state.inbound.pop_front();
            }
        }
        if n > 0 {
            took(&mut state.taken, &self.link, self.shared.id, n);
            return Poll::Ready(Ok(()));
        }
        if state.eof {
            return Poll::Ready(Ok(()));
        }
        state.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for LinkStream {
    fn drop(&mut self) {
        let client = {
            let mut state = self.shared.lock();
            if !state.peer_closed {
                state.peer_closed = true;
                self.link.signal(Kind::Close, self.shared.id);
            }
            state.client.take()
        };
        drop(client);
        self.link.forget(self.shared.id);
    }
}

impl AsyncRead for LinkStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_take(cx, buf)
    }
}

impl AsyncWrite for LinkStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_send(cx, &[buf])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_send(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.end();
        Poll::Ready(Ok(()))
    }
}
