//! [`Wire`] against tungstenite's own client (tokio-tungstenite) as the
//! independent reader: frames of every header size, written whole, in part
//! and through a stream without vectored writes; pongs, and the close
//! handshake from either side.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use futures_util::{SinkExt, StreamExt};
use hyper_tungstenite::tungstenite::error::ProtocolError;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio::io::DuplexStream;
use tokio_tungstenite::WebSocketStream;

/// A stream that takes at most `limit` bytes per write, says `Pending` to
/// every other write (waking at once), and, if `vectored`, takes several
/// slices per call: partial and refused writes on every frame.
struct Trickle {
    inner: DuplexStream,
    limit: usize,
    vectored: bool,
    refuse: bool,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Trickle {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.refuse = !self.refuse;
        if self.refuse {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut chunk = Vec::new();
        for buf in bufs {
            let room = self.limit - chunk.len();
            chunk.extend_from_slice(&buf[..buf.len().min(room)]);
            if !self.vectored || chunk.len() == self.limit {
                break;
            }
        }
        Pin::new(&mut self.inner).poll_write(cx, &chunk)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A server wire over a trickling stream, and a tungstenite client on the
/// other end.
async fn pair(limit: usize, vectored: bool) -> (Wire<Trickle>, WebSocketStream<DuplexStream>) {
    let (server, client) = tokio::io::duplex(4096);
    let server = Trickle {
        inner: server,
        limit,
        vectored,
        refuse: false,
    };
    let wire = Wire::after(server, WebSocketConfig::default(), &[]);
    let client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    (wire, client)
}

/// Messages across every header size (7-bit, 16-bit and 64-bit lengths).
fn messages() -> Vec<Message> {
    let mut messages = Vec::new();
    for (i, len) in [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]
        .into_iter()
        .enumerate()
    {
        let byte = b'a' + i as u8;
        messages.push(Message::text(String::from_utf8(vec![byte; len]).unwrap()));
        messages.push(Message::binary(vec![byte; len]));
    }
    messages
}

#[tokio::test]
async fn frames_of_every_size_arrive_whole_and_in_order() {
    for (limit, vectored) in [(7, true), (1000, true), (7, false), (100_000, true)] {
        let (mut wire, mut client) = pair(limit, vectored).await;
        let sent = messages();
        let mut batch: VecDeque<Message> = sent.iter().cloned().collect();
        let writer = async {
            poll_fn(|cx| wire.poll_send(cx, &mut batch)).await.unwrap();
            wire
        };
        let reader = async {
            let mut got = Vec::new();
            while got.len() < sent.len() {
                got.push(client.next().await.unwrap().unwrap());
            }
            (got, client)
        };
        let (wire, (got, _client)) = tokio::join!(writer, reader);
        assert_eq!(got, sent, "limit {limit}, vectored {vectored}");
        assert!(!wire.has_unwritten());
        assert_eq!(wire.out.capacity(), 0, "nothing held once written");
    }
}

#[tokio::test]
async fn a_ping_is_answered_while_the_server_sends_nothing() {
    let (mut wire, mut client) = pair(3, true).await;
    client.send(Message::Ping("hi".into())).await.unwrap();
    client.send(Message::text("after")).await.unwrap();
    // The server reads as its connection task does, until the stream ends.
    let server = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(message) = wire.next().await {
            got.push(message.unwrap());
        }
        got
    });
    let pong = client.next().await.unwrap().unwrap();
    assert_eq!(pong, Message::Pong("hi".into()));
    client.close(None).await.unwrap();
    assert_eq!(
        server.await.unwrap(),
        vec![
            Message::Ping("hi".into()),
            Message::text("after"),
            Message::Close(None)
        ]
    );
}

#[tokio::test]
async fn the_peers_close_is_answered_before_the_end_and_later_frames_are_dropped() {
    let (mut wire, mut client) = pair(5, true).await;
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    };
    client.close(Some(frame.clone())).await.unwrap();
    let got = wire.next().await.unwrap().unwrap();
    assert_eq!(got, Message::Close(Some(frame.clone())));
    // Frames the room still had for the client go nowhere.
    wire.send(Message::text("too late")).await.unwrap();
    assert!(wire.next().await.is_none(), "the stream ended");
    drop(wire);
    let answer = client.next().await.unwrap().unwrap();
    assert_eq!(answer, Message::Close(Some(frame)));
    assert!(client.next().await.is_none());
}

#[tokio::test]
async fn our_close_follows_the_queued_frames_and_ends_with_the_peers_answer() {
    let (mut wire, mut client) = pair(4, true).await;
    wire.send(Message::text("last words")).await.unwrap();
    let frame = CloseFrame {
        code: CloseCode::Away,
        reason: "shutting down".into(),
    };
    wire.close(Some(frame.clone())).await.unwrap();
    // Nothing after our close.
    wire.send(Message::text("never")).await.unwrap();
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::text("last words")
    );
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Close(Some(frame.clone()))
    );
    // The client's answer (tungstenite sends it as it reads our close).
    let client = tokio::spawn(async move {
        let mut client = client;
        while client.next().await.is_some() {}
    });
    assert_eq!(
        wire.next().await.unwrap().unwrap(),
        Message::Close(Some(frame))
    );
    assert!(wire.next().await.is_none());
    // The client's stream ends when the server lets go of the socket.
    drop(wire);
    client.await.unwrap();
}

/// The client's frames, written back to back in one flush (so one read
/// brings many, and a long one arrives over many reads): every size, a
/// fragmented message with a ping inside it, and text after it.
#[tokio::test]
async fn the_clients_frames_are_read_whole_and_in_order_however_they_arrive() {
    use hyper_tungstenite::tungstenite::protocol::frame::Frame;
    use hyper_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let (mut wire, mut client) = pair(64, true).await;
    let mut sent = messages();
    sent.push(Message::text("before the fragments"));
    let fragment = |data: Data, payload: &'static str, fin: bool| {
        Message::Frame(Frame::message(payload, OpCode::Data(data), fin))
    };
    let mut frames = sent.clone();
    frames.extend([
        fragment(Data::Text, "frag", false),
        Message::Ping("inside".into()),
        fragment(Data::Continue, "men", false),
        fragment(Data::Continue, "ted", true),
        Message::text("after"),
    ]);
    // Fed, not sent: tungstenite writes them back to back, flushing only
    // when its buffer fills.
    let writer = tokio::spawn(async move {
        for frame in frames {
            client.feed(frame).await.unwrap();
        }
        client.flush().await.unwrap();
        client
    });
    let mut got = Vec::new();
    while got.len() < sent.len() + 3 {
        got.push(wire.next().await.unwrap().unwrap());
    }
    let mut want = sent;
    want.push(Message::Ping("inside".into()));
    want.push(Message::text("fragmented"));
    want.push(Message::text("after"));
    assert_eq!(got, want);
    assert_eq!(wire.inbound.capacity(), 0, "nothing held once read");
    let mut client = writer.await.unwrap();
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Pong("inside".into())
    );
}

/// Many small frames in one read (a bursty or hostile client): each is
/// taken from the front of what waits, in order, and nothing is held after.
#[tokio::test]
async fn a_thousand_small_frames_in_one_write_are_read_in_order() {
    use tokio::io::AsyncWriteExt;
    let (server, mut client) = tokio::io::duplex(64 * 1024);
    let mut wire = Wire::after(server, WebSocketConfig::default(), &[]);
    let mut burst = Vec::new();
    for i in 0..1000u32 {
        let digit = b'0' + (i % 10) as u8;
        // Masked with a zero key: the payload is as written.
        burst.extend_from_slice(&[0x81, 0x81, 0, 0, 0, 0, digit]);
    }
    client.write_all(&burst).await.unwrap();
    for i in 0..1000u32 {
        let want = char::from(b'0' + (i % 10) as u8).to_string();
        assert_eq!(wire.next().await.unwrap().unwrap(), Message::text(want));
    }
    assert_eq!(wire.inbound.capacity(), 0, "nothing held once read");
}

/// A frame past the limit is refused at its header, with nothing of it
/// buffered; a broken frame after good ones is refused once it is whole.
#[tokio::test]
async fn an_oversized_or_broken_frame_is_refused_after_what_came_before() {
    use tokio::io::AsyncWriteExt;
    let config = WebSocketConfig::default()
        .max_message_size(Some(1000))
        .max_frame_size(Some(1000));
    // Masked client frames: text "ok", then a header claiming 1 MiB.
    let ok = [0x81, 0x82, 0, 0, 0, 0, b'o', b'k'];
    let mut huge = vec![0x82, 0xff];
    huge.extend_from_slice(&(1u64 << 20).to_be_bytes());
    let (server, mut client) = tokio::io::duplex(4096);
    let mut wire = Wire::after(server, config, &ok[..3]);
    client.write_all(&ok[3..]).await.unwrap();
    client.write_all(&huge).await.unwrap();
    assert_eq!(wire.next().await.unwrap().unwrap(), Message::text("ok"));
    let refused = wire.next().await.unwrap().unwrap_err();
    assert!(matches!(refused, WsError::Capacity(_)), "{refused:?}");
    assert!(wire.next().await.is_none(), "nothing after a refusal");
    assert!(
        wire.inbound.len() < 64,
        "the claimed length was not reserved"
    );
    // Reserved bits set: tungstenite's protocol error.
    let (server, mut client) = tokio::io::duplex(4096);
    let mut wire = Wire::after(server, WebSocketConfig::default(), &[]);
    client
        .write_all(&[0x81, 0x80, 0, 0, 0, 0, 0xc1, 0x81, 0, 0, 0, 0, b'x'])
        .await
        .unwrap();
    assert_eq!(wire.next().await.unwrap().unwrap(), Message::text(""));
    let refused = wire.next().await.unwrap().unwrap_err();
    assert!(
        matches!(
            refused,
            WsError::Protocol(ProtocolError::NonZeroReservedBits)
        ),
        "{refused:?}"
    );
}

#[test]
fn headers_take_the_shortest_length_field() {
    let mut head = [0u8; MAX_HEAD];
    assert_eq!(encode_head(0x1, 125, &mut head), 2);
    assert_eq!(head[..2], [0x81, 125]);
    assert_eq!(encode_head(0x2, 126, &mut head), 4);
    assert_eq!(head[..4], [0x82, 126, 0, 126]);
    assert_eq!(encode_head(0x2, 65_536, &mut head), 10);
    assert_eq!(head[..10], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
}

/// A client's pings are answered without tungstenite: the connection makes
/// no protocol state for them (nor for data frames, nor for pongs), and only
/// a close makes it, which then runs the handshake as before.
#[tokio::test]
async fn pings_are_answered_without_tungstenite_until_a_close() {
    let (mut wire, mut client) = pair(1000, true).await;
    client
        .send(Message::Ping(b"one".to_vec().into()))
        .await
        .unwrap();
    client.send(Message::text("hello")).await.unwrap();
    client
        .send(Message::Pong(b"unasked".to_vec().into()))
        .await
        .unwrap();
    client
        .send(Message::Ping(b"two".to_vec().into()))
        .await
        .unwrap();
    let mut read = Vec::new();
    for _ in 0..4 {
        read.push(wire.next().await.unwrap().unwrap());
    }
    assert_eq!(read[1], Message::text("hello"));
    assert!(matches!(&read[2], Message::Pong(payload) if &payload[..] == b"unasked"));
    assert!(wire.ws.is_none(), "tungstenite's state was made");
    // Both pongs reach the client, in order.
    poll_fn(|cx| wire.poll_flush(cx)).await.unwrap();
    let mut pongs = Vec::new();
    while pongs.len() < 2 {
        if let Message::Pong(payload) = client.next().await.unwrap().unwrap() {
            pongs.push(payload.to_vec());
        }
    }
    assert_eq!(pongs, [b"one".to_vec(), b"two".to_vec()]);
    // A close: the handshake is tungstenite's.
    client.close(None).await.unwrap();
    assert!(wire.next().await.unwrap().unwrap().is_close());
    assert!(wire.ws.is_some());
    assert!(!wire.can_write());
}
