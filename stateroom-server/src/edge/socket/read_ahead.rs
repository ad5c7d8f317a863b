//! [`ReadAhead`]: large socket reads under a small read buffer (see the
//! parent module).

use bytes::{Buf, BytesMut};
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much one socket read takes, on the stack.
const READ_CHUNK: usize = 8 * 1024;

/// A byte stream that reads [`READ_CHUNK`] bytes at a time whatever the
/// reader asks for, and keeps the surplus only until it is taken.
pub(crate) struct ReadAhead<S> {
    io: S,
    /// Bytes read from `io` and not yet taken; unallocated when empty.
    ahead: BytesMut,
}

impl<S> ReadAhead<S> {
    pub(crate) fn new(io: S) -> Self {
        ReadAhead {
            io,
            ahead: BytesMut::new(),
        }
    }

    /// Over `io`, with `read` (bytes already read from it) first.
    pub(crate) fn after(io: S, read: &[u8]) -> Self {
        ReadAhead {
            io,
            ahead: BytesMut::from(read),
        }
    }

    /// The stream underneath.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadAhead<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ahead.is_empty() {
            let n = buf.remaining().min(this.ahead.len());
            buf.put_slice(&this.ahead[..n]);
            this.ahead.advance(n);
            if this.ahead.is_empty() {
                // Give the memory back: an idle connection holds none.
                this.ahead = BytesMut::new();
            }
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() >= READ_CHUNK {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut read = ReadBuf::uninit(&mut chunk);
        ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
        let got = read.filled();
        let n = buf.remaining().min(got.len());
        buf.put_slice(&got[..n]);
        if n < got.len() {
            this.ahead = BytesMut::from(&got[n..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ReadAhead<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn small_reads_take_a_large_write_in_order_and_free_the_surplus() {
        let (mut writer, reader) = tokio::io::duplex(64 * 1024);
        let sent: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        writer.write_all(&sent).await.unwrap();
        drop(writer);
        let mut reader = ReadAhead::new(reader);
        let mut got = Vec::new();
        let mut small = [0u8; 100];
        loop {
            let n = reader.read(&mut small).await.unwrap();
            if n == 0 {
                break;
            }
            assert!(reader.ahead.len() < READ_CHUNK);
            got.extend_from_slice(&small[..n]);
        }
        assert_eq!(got, sent);
        assert_eq!(reader.ahead.capacity(), 0, "nothing held once drained");
    }

    #[tokio::test]
    async fn a_large_read_goes_straight_to_the_stream() {
        let (mut writer, reader) = tokio::io::duplex(64 * 1024);
        writer.write_all(&[7u8; 10_000]).await.unwrap();
        let mut reader = ReadAhead::new(reader);
        let mut big = vec![0u8; READ_CHUNK + 10];
        let n = reader.read(&mut big).await.unwrap();
        assert!(n > 0 && big[..n].iter().all(|&b| b == 7));
        assert_eq!(reader.ahead.capacity(), 0);
    }
}
