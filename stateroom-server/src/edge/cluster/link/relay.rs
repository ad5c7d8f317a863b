//! The forwarding node's side of a forwarded connection: the client's TCP
//! stream joined to its stream on the link.
//!
//! The client's stream sits in the link stream's shared state, so the
//! link's reader writes the owner's bytes straight to it while nothing is
//! queued before them (no wake-up of this task, no copy). What the
//! client's socket cannot take yet is queued and written here when it can;
//! the client's bytes are read here and sent on the link as credit allows.

use super::stream::{LinkStream, took};
use bytes::{Buf, Bytes};
use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Bytes read from a client at most per call, into the thread's scratch
/// buffer.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    static BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH].into_boxed_slice());
}

/// Relays `client` and `stream` until both directions have ended (each
/// end passed on: the owner's as the client's write shutdown, the
/// client's as `End`) or either side fails. `early` is what the owner sent
/// past its `101`, `late` what the client sent past its request.
pub(crate) async fn relay(
    client: TcpStream,
    mut stream: LinkStream,
    early: Vec<u8>,
    late: Vec<u8>,
) {
    if !late.is_empty() && stream.write_all(&late).await.is_err() {
        return;
    }
    stream.attach(client, early);
    let mut rest = Vec::new();
    let (mut down, mut up) = (false, false);
    std::future::poll_fn(|cx| {
        if !down {
            match stream.poll_to_client(cx) {
                Poll::Ready(Ok(())) => down = true,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => {}
            }
        }
        if !up {
            match stream.poll_to_owner(cx, &mut rest) {
                Poll::Ready(Ok(())) => up = true,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => {}
            }
        }
        if down && up {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

impl LinkStream {
    /// Puts the client's stream where the link's reader writes to it,
    /// behind `early` and whatever came after it.
    fn attach(&self, client: TcpStream, early: Vec<u8>) {
        let mut state = self.shared.lock();
        if !early.is_empty() {
            state.inbound.push_front(Bytes::from(early));
        }
        state.client = Some(client);
    }

    /// Writes what is queued for the client; ready once the owner's end
    /// has been passed on as the client's write shutdown.
    fn poll_to_client(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut guard = self.shared.lock();
        let state = &mut *guard;
        let Some(client) = state.client.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        loop {
            match state.inbound.front_mut() {
                Some(front) => {
                    let n = ready!(Pin::new(&mut *client).poll_write(cx, front))?;
                    front.advance(n);
                    if front.is_empty() {
                        state.inbound.pop_front();
                    }
                    took(&mut state.taken, &self.link, self.shared.id, n);
                }
                None if state.eof => {
                    return match ready!(Pin::new(client).poll_shutdown(cx)) {
                        Err(error) if error.kind() != io::ErrorKind::NotConnected => {
                            Poll::Ready(Err(error))
                        }
                        _ => Poll::Ready(Ok(())),
                    };
                }
                None => {
                    state.reader = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }

    /// Reads the client and sends what it sent; ready once its end has
    /// been sent on as `End`. `rest` is what credit did not let through
    /// yet (nothing more is read until it is sent).
    fn poll_to_owner(&self, cx: &mut Context<'_>, rest: &mut Vec<u8>) -> Poll<io::Result<()>> {
        loop {
            if !rest.is_empty() {
                let n = ready!(self.poll_send(cx, &[&rest[..]]))?;
                rest.drain(..n);
                if rest.is_empty() {
                    // Taken, so that an idle relay holds no buffer.
                    *rest = Vec::new();
                }
                continue;
            }
            let read = BUFFER.with(|buffer| {
                let mut buffer = buffer.borrow_mut();
                let n = {
                    let mut state = self.shared.lock();
                    let Some(client) = state.client.as_mut() else {
                        return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
                    };
                    let mut read = ReadBuf::new(&mut buffer);
                    ready!(Pin::new(client).poll_read(cx, &mut read))?;
                    read.filled().len()
                };
                if n == 0 {
                    self.end();
                    return Poll::Ready(Ok(None));
                }
                let sent = match self.poll_send(cx, &[&buffer[..n]]) {
                    Poll::Ready(Ok(sent)) => sent,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => 0,
                };
                Poll::Ready(Ok(Some(buffer[sent..n].to_vec())))
            });
            match ready!(read)? {
                Some(left) => *rest = left,
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}
