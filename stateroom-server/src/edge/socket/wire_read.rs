//! `Wire`'s reading side: the socket read into a stack buffer, the frames
//! parsed there (`inbound`), and what tungstenite is handed.

use super::{Wire, context};
use crate::edge::socket::inbound::{Feeding, Limits, Parsed, parse};
use crate::engine::outbox::frame;
use bytes::{Buf, BytesMut};
use hyper_tungstenite::tungstenite::{Error as WsError, Message};
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much one socket read takes, on the stack.
const READ_CHUNK: usize = 8 * 1024;

/// The most of a long frame one socket read takes, straight into its buffer.
const LONG_WINDOW: usize = 256 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    /// The next message from the peer; `None` once the stream has ended.
    /// Pings are answered and a close is acknowledged here (as tungstenite
    /// does), and the answer goes out before the end is said.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, WsError>>> {
        while !self.ended {
            let read = self.poll_read_frame(cx);
            if self.has_unwritten() {
                // A pong the read queued (or the rest of one) leaves now,
                // not with the next frame. A write error shows on the next
                // read.
                let _ = self.poll_flush(cx);
            }
            match ready!(read) {
                Ok(message) => return Poll::Ready(Some(Ok(message))),
                // tungstenite kept a fragment: read on.
                Err(WsError::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => self.ended = true,
                Err(error) => {
                    self.ended = true;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
        // The stream is over whether or not the answer can be written.
        let _ = ready!(self.poll_flush(cx));
        Poll::Ready(None)
    }

    /// The next frame's message, read from the buffered bytes or the socket
    /// (see `inbound`): `WouldBlock` when tungstenite took a frame that
    /// ends no message.
    fn poll_read_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, WsError>> {
        if !self.can_write() {
            // The close handshake has begun: tungstenite may have an answer
            // to send or an end to say before any byte is read.
            match self.feed(&[], false) {
                Err(WsError::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
        loop {
            let limits = Limits::of(&self.config);
            let plain = !self.fragmented && self.can_write();
            let mut want = 0;
            if !self.inbound.is_empty() {
                match parse(&self.inbound, limits, plain) {
                    Parsed::More(need) => want = need - self.inbound.len(),
                    parsed => {
                        let inbound = std::mem::take(&mut self.inbound);
                        let (read, used) = self.take(parsed, &inbound);
                        self.keep(inbound, used);
                        return Poll::Ready(read);
                    }
                }
            }
            if want > READ_CHUNK {
                // A long frame under way: read into its buffer directly.
                if ready!(self.poll_read_long(cx, want))? == 0 {
                    return Poll::Ready(self.feed(&[], true));
                }
                continue;
            }
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut chunk = ReadBuf::uninit(&mut chunk);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut chunk))?;
            let got = chunk.filled();
            if got.is_empty() {
                // The stream ended: tungstenite says whether cleanly.
                return Poll::Ready(self.feed(&[], true));
            }
            if self.inbound.is_empty() {
                // The usual case: frames straight from the read.
                match parse(got, limits, plain) {
                    Parsed::More(_) => self.inbound = BytesMut::from(got),
                    parsed => {
                        let (read, used) = self.take(parsed, got);
                        if used < got.len() {
                            self.inbound = BytesMut::from(&got[used..]);
                        }
                        return Poll::Ready(read);
                    }
                }
            } else {
                self.inbound.extend_from_slice(got);
            }
        }
    }

    /// Reads up to `want` more bytes of a long frame into `inbound`, a
    /// bounded window at a time (the window is zeroed first); says how many
    /// came (0 at the stream's end).
    fn poll_read_long(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        let have = self.inbound.len();
        self.inbound.reserve(want);
        self.inbound.resize(have + want.min(LONG_WINDOW), 0);
        let mut window = ReadBuf::new(&mut self.inbound[have..]);
        let read = Pin::new(&mut self.io).poll_read(cx, &mut window);
        let got = window.filled().len();
        self.inbound.truncate(have + got);
        ready!(read)?;
        Poll::Ready(Ok(got))
    }

    /// What a parsed frame at the front of `bytes` gives, and how many of
    /// the bytes it took.
    fn take(&mut self, parsed: Parsed, bytes: &[u8]) -> (Result<Message, WsError>, usize) {
        match parsed {
            Parsed::Message(message, used) => {
                if let Message::Ping(payload) = &message {
                    // Its pong, as tungstenite would queue it: after what
                    // waits, before any frame the room writes next.
                    frame::extend(&mut self.out, 0xA, payload);
                }
                (Ok(message), used)
            }
            Parsed::Frame { len, fin } => {
                let read = self.feed(&bytes[..len], false);
                if fin == Some(false) {
                    // tungstenite keeps the fragment until its message ends.
                    self.fragmented = true;
                }
                if matches!(read, Ok(Message::Text(_) | Message::Binary(_))) {
                    self.fragmented = false;
                }
                (read, len)
            }
            Parsed::Refused(error) => (Err(error), bytes.len()),
            Parsed::More(_) => (Err(io::Error::from(io::ErrorKind::WouldBlock).into()), 0),
        }
    }

    /// Keeps what follows the first `used` bytes of `inbound` for the next
    /// read (and no memory when nothing does).
    fn keep(&mut self, mut inbound: BytesMut, used: usize) {
        if used < inbound.len() {
            inbound.advance(used);
            self.inbound = inbound;
        }
    }

    /// Hands tungstenite one whole frame (or nothing, or the stream's end),
    /// then lets it queue its answers (a pong, a close's) in `out`.
    fn feed(&mut self, bytes: &[u8], end: bool) -> Result<Message, WsError> {
        let ws = context(&mut self.ws, &self.config);
        let mut feeding = Feeding {
            bytes,
            end,
            out: &mut self.out,
        };
        let read = ws.read(&mut feeding);
        // An answer the read left pending is queued too (tungstenite sends
        // it on its next call, which may not come soon).
        let _ = ws.flush(&mut Feeding::nothing(&mut self.out));
        read
    }

    /// The next message from the peer (cancel-safe: a message is returned
    /// or stays unread).
    pub(crate) async fn next(&mut self) -> Option<Result<Message, WsError>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }
}
