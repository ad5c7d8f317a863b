//! [`Stream`]: the bytes under a WebSocket, and moving them to another
//! runtime.

use crate::edge::cluster::link::LinkStream;
use crate::engine::outbox::Outbox;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The byte stream under a client's WebSocket.
pub(crate) enum Stream {
    /// Our own listener's TCP stream, taken back from hyper after the
    /// upgrade: no boxed stream per connection, and it can move to another
    /// runtime's reactor ([`move_to`](Self::move_to)).
    Tcp(TcpStream),
    /// The TCP stream, kept in the connection's outbox under shards so
    /// that the shard's flusher can write into it (`engine::outbox::direct`).
    Shared(Arc<Outbox>),
    /// A stream on a cluster link: a join another node forwarded here
    /// (`edge::cluster::link`).
    Link(LinkStream),
    /// Whatever an embedding server upgraded (another stream type, TLS):
    /// kept as hyper hands it over, and it stays where it is. Boxed, so
    /// that the common case stays small (see the connection task's size).
    Upgraded(Box<TokioIo<Upgraded>>),
    /// A move to another runtime failed half-way: every call fails.
    Lost,
}

impl Stream {
    /// Re-registers a TCP stream with `runtime`'s reactor, so that the task
    /// that reads it there is woken by that runtime's own driver. A link's
    /// stream needs no reactor; an upgraded stream of another type stays put (`Ok`: it still works,
    /// woken across threads). On an error the stream is lost.
    pub(crate) fn move_to(&mut self, runtime: &tokio::runtime::Handle) -> io::Result<()> {
        match std::mem::replace(self, Stream::Lost) {
            Stream::Tcp(tcp) => {
                let tcp = tcp.into_std()?;
                let _inside = runtime.enter();
                *self = Stream::Tcp(TcpStream::from_std(tcp)?);
            }
            other => *self = other,
        }
        Ok(())
    }

    /// Moves a TCP stream into `outbox` (see [`Stream::Shared`]); another
    /// kind stays here.
    pub(crate) fn share(&mut self, outbox: &Arc<Outbox>) {
        if let Stream::Tcp(_) = self
            && let Stream::Tcp(tcp) = std::mem::replace(self, Stream::Shared(outbox.clone()))
        {
            outbox.attach(tcp);
        }
    }
}

/// The shared stream's `io`, or an error once the connection detached it.
fn shared<T>(
    outbox: &Outbox,
    io: impl FnOnce(Pin<&mut TcpStream>) -> Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    outbox
        .with_socket(|tcp| io(Pin::new(tcp)))
        .unwrap_or_else(|| Poll::Ready(Err(io::ErrorKind::NotConnected.into())))
}

fn lost() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was lost moving to its room's shard",
    )
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Shared(outbox) => shared(outbox, |tcp| tcp.poll_read(cx, buf)),
            Stream::Link(link) => Pin::new(link).poll_read(cx, buf),
            Stream::Upgraded(io) => Pin::new(&mut **io).poll_read(cx, buf),
            Stream::Lost => Poll::Ready(Err(lost())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Shared(outbox) => shared(outbox, |tcp| tcp.poll_write(cx, buf)),
            Stream::Link(link) => Pin::new(link).poll_write(cx, buf),
            Stream::Upgraded(io) => Pin::new(&mut **io).poll_write(cx, buf),
            Stream::Lost => Poll::Ready(Err(lost())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Stream::Shared(outbox) => shared(outbox, |tcp| tcp.poll_write_vectored(cx, bufs)),
            Stream::Link(link) => Pin::new(link).poll_write_vectored(cx, bufs),
            Stream::Upgraded(io) => Pin::new(&mut **io).poll_write_vectored(cx, bufs),
            Stream::Lost => Poll::Ready(Err(lost())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(tcp) => tcp.is_write_vectored(),
            Stream::Shared(_) | Stream::Link(_) => true,
            Stream::Upgraded(io) => io.is_write_vectored(),
            Stream::Lost => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Shared(outbox) => shared(outbox, |tcp| tcp.poll_flush(cx)),
            Stream::Link(link) => Pin::new(link).poll_flush(cx),
            Stream::Upgraded(io) => Pin::new(&mut **io).poll_flush(cx),
            Stream::Lost => Poll::Ready(Err(lost())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Shared(outbox) => shared(outbox, |tcp| tcp.poll_shutdown(cx)),
            Stream::Link(link) => Pin::new(link).poll_shutdown(cx),
            Stream::Upgraded(io) => Pin::new(&mut **io).poll_shutdown(cx),
            Stream::Lost => Poll::Ready(Err(lost())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A stream moved to another runtime keeps working there after the
    /// runtime it came from is gone (a stream still registered with a dead
    /// runtime's reactor fails).
    #[test]
    fn a_moved_stream_works_on_its_new_runtime_alone() {
        let (from, to) = (runtime(), runtime());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let accepted = listener.accept().unwrap().0;
        accepted.set_nonblocking(true).unwrap();
        let mut stream =
            from.block_on(async { Stream::Tcp(TcpStream::from_std(accepted).unwrap()) });
        stream.move_to(to.handle()).unwrap();
        let peer_side = std::thread::spawn(move || {
            use std::io::{Read, Write};
            peer.write_all(b"ping").unwrap();
            let mut got = [0u8; 4];
            peer.read_exact(&mut got).unwrap();
            got
        });
        drop(from);
        let got = to.block_on(async {
            let mut got = [0u8; 4];
            stream.read_exact(&mut got).await.unwrap();
            stream.write_all(b"pong").await.unwrap();
            got
        });
        assert_eq!(&got, b"ping");
        assert_eq!(&peer_side.join().unwrap(), b"pong");
    }

    #[test]
    fn a_lost_stream_fails_every_call() {
        let rt = runtime();
        rt.block_on(async {
            let mut stream = Stream::Lost;
            let mut buf = [0u8; 1];
            let read = stream.read(&mut buf).await.unwrap_err();
            assert_eq!(read.kind(), io::ErrorKind::NotConnected);
            let write = stream.write(b"x").await.unwrap_err();
            assert_eq!(write.kind(), io::ErrorKind::NotConnected);
        });
    }
}
