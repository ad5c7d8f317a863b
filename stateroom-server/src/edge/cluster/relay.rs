//! The forwarded connection's byte relay: the client's TCP stream on this
//! node and the owner's, joined byte for byte until either side ends.
//!
//! Both streams are read into one scratch buffer per thread and written on
//! at once, so an idle relay holds no buffer of its own, and a busy one reads
//! every frame that has arrived in one call (up to [`SCRATCH`] bytes). A
//! write the other side cannot take whole keeps only the rest, and that
//! direction reads nothing more until it is written: a client that stops
//! reading stalls its own direction only, and the owner's overload rule sees
//! it as it would see a direct client.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};

/// Bytes read at most per call, into the thread's scratch buffer.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    static BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH].into_boxed_slice());
}

/// Relays bytes both ways between `client` and `owner` until both
/// directions have ended (each end's close is passed on as a write
/// shutdown) or either side fails.
pub(crate) async fn relay(client: &mut TcpStream, owner: &mut TcpStream) {
    let (mut from_client, mut to_client) = client.split();
    let (mut from_owner, mut to_owner) = owner.split();
    let _ = tokio::try_join!(
        one_way(&mut from_client, &mut to_owner),
        one_way(&mut from_owner, &mut to_client)
    );
}

/// Copies what `from` sends to `to` until `from` ends (then shuts `to`'s
/// write side) or either fails.
///
/// Reads and writes go through tokio's `poll_read`/`poll_write`, which
/// take a short read or write as the socket's readiness spent: one system
/// call per wake-up where `try_read` would make a second that finds
/// nothing.
async fn one_way(from: &mut ReadHalf<'_>, to: &mut WriteHalf<'_>) -> io::Result<()> {
    let mut rest: Vec<u8> = Vec::new();
    loop {
        if !rest.is_empty() {
            // Taken, so that its buffer is freed once written: an idle
            // relay holds none.
            to.write_all(&std::mem::take(&mut rest)).await?;
        }
        let read = std::future::poll_fn(|cx| {
            BUFFER.with(|buffer| {
                let mut buffer = buffer.borrow_mut();
                let mut read = ReadBuf::new(&mut buffer);
                if let Err(error) = ready!(Pin::new(&mut *from).poll_read(cx, &mut read)) {
                    return Poll::Ready(Err(error));
                }
                let n = read.filled().len();
                if n == 0 {
                    return Poll::Ready(Ok(None));
                }
                // Write at once what the other side takes; keep the rest.
                let written = match Pin::new(&mut *to).poll_write(cx, &buffer[..n]) {
                    Poll::Ready(Ok(written)) => written,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => 0,
                };
                Poll::Ready(Ok(Some(buffer[written..n].to_vec())))
            })
        })
        .await?;
        match read {
            Some(left) => rest = left,
            None => return shutdown(to).await,
        }
    }
}

/// Passes an end of stream on: no more bytes will be written to `to`.
async fn shutdown(to: &mut WriteHalf<'_>) -> io::Result<()> {
    match to.shutdown().await {
        Err(error) if error.kind() != io::ErrorKind::NotConnected => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A connected pair of TCP streams on loopback; the connecting side's
    /// receive buffer is `receive` bytes when given.
    async fn pair(receive: Option<u32>) -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(receive) = receive {
            socket.set_recv_buffer_size(receive).unwrap();
        }
        let connect = socket.connect(listener.local_addr().unwrap());
        let (connected, accepted) = tokio::join!(connect, listener.accept());
        (connected.unwrap(), accepted.unwrap().0)
    }

    /// Bytes go both ways in order, even past a client that reads nothing
    /// for a while (more than its socket's buffers hold, so the relay must
    /// keep what the client cannot take yet), and each side's close
    /// reaches the other.
    #[tokio::test]
    async fn bytes_go_both_ways_in_order_and_each_close_is_passed_on() {
        let (mut client, mut client_here) = pair(Some(4096)).await;
        let (mut owner_here, mut owner) = pair(None).await;
        let relayed = tokio::spawn(async move { relay(&mut client_here, &mut owner_here).await });
        // Past the client's 4 KiB and the relay's send buffer (4 MiB at most).
        let big: Vec<u8> = (0..(8 << 20) + 123).map(|i| (i % 251) as u8).collect();
        let sent = big.clone();
        // The owner writes a lot while the client reads slowly.
        let owner_side = tokio::spawn(async move {
            owner.write_all(&sent).await.unwrap();
            owner.shutdown().await.unwrap();
            let mut got = Vec::new();
            owner.read_to_end(&mut got).await.unwrap();
            got
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), big.len());
        assert!(
            got == big,
            "the owner's bytes arrived changed or out of order"
        );
        client.write_all(b"from the client").await.unwrap();
        client.shutdown().await.unwrap();
        assert_eq!(owner_side.await.unwrap(), b"from the client");
        relayed.await.unwrap();
    }

    /// A side that resets ends the relay (it does not spin or hang).
    #[tokio::test]
    async fn a_reset_ends_the_relay() {
        let (client, mut client_here) = pair(None).await;
        let (mut owner_here, _owner) = pair(None).await;
        let relayed = tokio::spawn(async move { relay(&mut client_here, &mut owner_here).await });
        client.set_zero_linger().unwrap();
        drop(client);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), relayed).await;
        assert!(ended.is_ok(), "the relay outlived a reset");
    }
}
