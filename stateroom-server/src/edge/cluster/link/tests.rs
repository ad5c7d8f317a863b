//! The link over real loopback TCP: a forwarding end and an owner end
//! whose streams are echoed or written by the test.

#![allow(clippy::unwrap_used)]

use super::stream::WINDOW;
use super::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A link over loopback: the forwarding end, and the owner's streams as
/// they are opened.
async fn linked() -> (Arc<Link>, tokio::sync::mpsc::UnboundedReceiver<LinkStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (opened, streams) = tokio::sync::mpsc::unbounded_channel();
    let connect = TcpStream::connect(listener.local_addr().unwrap());
    let (forwarding, owner) = tokio::join!(connect, listener.accept());
    let opened = std::sync::Mutex::new(opened);
    start(
        owner.unwrap().0,
        BytesMut::new(),
        Some(Arc::new(move |stream| {
            let _ = opened.lock().unwrap().send(stream);
        })),
    );
    (start(forwarding.unwrap(), BytesMut::new(), None), streams)
}

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

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + seed) % 251) as u8).collect()
}

/// Many streams at once, each far past its window both ways: every
/// stream's bytes arrive whole, in order and on their own stream, and
/// each end's shutdown reaches the other as the end of its reads.
#[tokio::test]
async fn many_streams_carry_their_own_bytes_past_the_window_both_ways() {
    let (link, mut opened) = linked().await;
    let owner = tokio::spawn(async move {
        let mut served = Vec::new();
        for _ in 0..8 {
            let mut stream = opened.recv().await.unwrap();
            served.push(tokio::spawn(async move {
                let mut got = Vec::new();
                stream.read_to_end(&mut got).await.unwrap();
                // Echo it back reversed, then end.
                got.reverse();
                stream.write_all(&got).await.unwrap();
                stream.shutdown().await.unwrap();
                got.len()
            }));
        }
        let mut lens = Vec::new();
        for one in served {
            lens.push(one.await.unwrap());
        }
        lens
    });
    let mut clients = Vec::new();
    for i in 0..8 {
        let mut stream = link.open().unwrap();
        clients.push(tokio::spawn(async move {
            let sent = pattern(3 * WINDOW + 1000 * i, i);
            stream.write_all(&sent).await.unwrap();
            stream.shutdown().await.unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            got.reverse();
            assert!(got == sent, "stream {i} came back changed");
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    assert_eq!(owner.await.unwrap().len(), 8);
}

/// A relayed client that stops reading stalls its own stream only: the
/// owner's writes to it stop once its socket and window are full, while
/// another stream on the same link keeps flowing; once it reads again,
/// everything arrives in order.
#[tokio::test]
async fn a_client_that_stops_reading_holds_up_its_own_stream_only() {
    let (link, mut opened) = linked().await;
    let (mut slow, slow_here) = pair(Some(4096)).await;
    let (mut quick, quick_here) = pair(None).await;
    let slow_stream = link.open().unwrap();
    let mut slow_owner = opened.recv().await.unwrap();
    let quick_stream = link.open().unwrap();
    let mut quick_owner = opened.recv().await.unwrap();
    tokio::spawn(relay(
        slow_here,
        slow_stream,
        b"early ".to_vec(),
        Vec::new(),
    ));
    tokio::spawn(relay(
        quick_here,
        quick_stream,
        Vec::new(),
        b"late".to_vec(),
    ));
    // The owner writes far more than the slow client's socket, the relay's
    // socket and the window hold: the write stalls.
    let big = pattern(32 << 20, 3);
    let sent = big.clone();
    let writing = tokio::spawn(async move {
        slow_owner.write_all(&sent).await.unwrap();
        slow_owner.shutdown().await.unwrap();
        slow_owner
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!writing.is_finished(), "the owner's writes never stalled");
    // The other stream flows meanwhile, both ways.
    let mut late = [0u8; 4];
    quick_owner.read_exact(&mut late).await.unwrap();
    assert_eq!(&late, b"late");
    quick.write_all(b"ping").await.unwrap();
    let mut ping = [0u8; 4];
    quick_owner.read_exact(&mut ping).await.unwrap();
    assert_eq!(&ping, b"ping");
    quick_owner.write_all(b"pong").await.unwrap();
    quick.read_exact(&mut ping).await.unwrap();
    assert_eq!(&ping, b"pong");
    // The slow client reads it all, in order, behind the early bytes.
    let mut got = Vec::new();
    slow.read_to_end(&mut got).await.unwrap();
    assert_eq!(&got[..6], b"early ");
    assert!(
        got[6..] == big[..],
        "the slow stream's bytes arrived changed"
    );
    let _owner = writing.await.unwrap();
}

/// When the link breaks, every stream ends: the owner's reads end, its
/// writes fail, and a relayed client's connection is closed.
#[tokio::test]
async fn a_broken_link_ends_every_stream() {
    let (link, mut opened) = linked().await;
    let (mut client, client_here) = pair(None).await;
    let stream = link.open().unwrap();
    let mut owner = opened.recv().await.unwrap();
    tokio::spawn(relay(client_here, stream, Vec::new(), Vec::new()));
    client.write_all(b"x").await.unwrap();
    let mut x = [0u8; 1];
    owner.read_exact(&mut x).await.unwrap();
    link.broke();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the client was not closed"
    );
    let ended = tokio::time::timeout(Duration::from_secs(10), owner.read(&mut x)).await;
    assert!(
        matches!(ended, Ok(Ok(0)) | Ok(Err(_))),
        "the owner's read did not end"
    );
    assert!(owner.write_all(b"more").await.is_err());
    assert!(link.open().is_none(), "a broken link opened a stream");
}

/// A stream closed at one end (dropped) fails the other end's writes and
/// ends its reads, and is forgotten at both ends.
#[tokio::test]
async fn a_closed_end_is_seen_and_forgotten() {
    let (link, mut opened) = linked().await;
    let mut stream = link.open().unwrap();
    let owner = opened.recv().await.unwrap();
    drop(owner);
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    assert!(matches!(read, Ok(Ok(0))));
    assert!(stream.write_all(b"x").await.is_err());
    drop(stream);
    assert!(link.streams().is_empty());
}
