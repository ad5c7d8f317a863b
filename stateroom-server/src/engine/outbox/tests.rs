//! The outbox's queueing, wake-up and overload rules.

use super::*;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Bounds of `frames` and `bytes`, a 100 ms grace, the default multiple.
fn bound(frames: usize, bytes: usize) -> Bound {
    Bound::of(&Limits {
        max_queued_messages: frames,
        max_queued_bytes: bytes,
        slow_reader_grace: GRACE,
        ..Limits::default()
    })
}

const GRACE: Duration = Duration::from_millis(100);

fn overflow() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Policy,
        reason: "overflow".into(),
    }
}

/// Counts its wake-ups.
struct Count(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn counted() -> (Arc<Count>, Waker) {
    let woken = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
    (woken.clone(), Waker::from(woken))
}

/// A push wakes the writer only while it waits (it found the queue empty
/// since it last took frames); frames pushed before it runs again ride on
/// that one wake-up, and a writer that took frames is not woken for more
/// (it takes again before it waits).
#[test]
fn only_the_push_that_finds_the_writer_waiting_wakes_it() {
    let (woken, writer) = counted();
    let outbox = Arc::new(Outbox::new(bound(10, 1000)));
    let mut batch = VecDeque::new();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), &writer, true),
        Batch::Empty
    );
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Woke);
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Queued);
    assert_eq!(woken.0.load(Ordering::Relaxed), 1);
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), &writer, true),
        Batch::Frames
    );
    assert_eq!(outbox.push(Message::text("c"), overflow), Push::Queued);
    assert_eq!(woken.0.load(Ordering::Relaxed), 1);
    batch.clear();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), &writer, true),
        Batch::Frames
    );
    assert_eq!(
        outbox.take(&mut VecDeque::new(), &mut Vec::new(), &writer, true),
        Batch::Empty
    );
    assert_eq!(outbox.push(Message::text("d"), overflow), Push::Woke);
    assert_eq!(woken.0.load(Ordering::Relaxed), 2);
}

/// A writer waiting on its full socket is woken by a close (an overflow's
/// too), and told the outbox is closing.
#[test]
fn a_writer_blocked_on_its_socket_is_woken_by_a_close() {
    let (woken, writer) = counted();
    let outbox = Arc::new(Outbox::new(bound(10, 1000)));
    assert!(!outbox.register(&writer));
    outbox.close(None);
    assert_eq!(woken.0.load(Ordering::Relaxed), 1);
    assert!(outbox.register(&writer));
    let (woken, writer) = counted();
    let outbox = Arc::new(Outbox::new(bound(1, 1000)));
    outbox.push(Message::text("a"), overflow);
    assert!(!outbox.register(&writer));
    outbox.blocked();
    std::thread::sleep(GRACE + Duration::from_millis(20));
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Overflowed);
    assert_eq!(woken.0.load(Ordering::Relaxed), 1);
}

#[test]
fn drains_in_order_then_closes() {
    let outbox = Arc::new(Outbox::new(bound(10, 1000)));
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Queued);
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Queued);
    let mut batch = VecDeque::new();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), Waker::noop(), true),
        Batch::Frames
    );
    assert_eq!(
        Vec::from(batch.clone()),
        vec![Message::text("a"), Message::text("b")]
    );
    batch.clear();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), Waker::noop(), true),
        Batch::Empty
    );
    outbox.push(Message::text("c"), overflow);
    outbox.close(None);
    assert_eq!(outbox.push(Message::text("d"), overflow), Push::Discarded);
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), Waker::noop(), true),
        Batch::Last(None)
    );
    assert_eq!(Vec::from(batch), vec![Message::text("c")]);
}

#[test]
fn past_the_bound_a_blocked_socket_is_cut_after_the_stall() {
    let outbox = Arc::new(Outbox::new(bound(2, 1000)));
    outbox.push(Message::text("a"), overflow);
    outbox.push(Message::text("b"), overflow);
    outbox.blocked();
    // Blocked, but not for long yet: queued, and the room is not held back.
    assert_eq!(outbox.push(Message::text("c"), overflow), Push::Queued);
    assert_eq!(outbox.backlog(), Backlog::Clear);
    std::thread::sleep(GRACE / 2);
    assert_eq!(outbox.push(Message::text("c2"), overflow), Push::Queued);
    std::thread::sleep(GRACE / 2 + Duration::from_millis(20));
    assert_eq!(outbox.push(Message::text("d"), overflow), Push::Overflowed);
    let mut batch = VecDeque::new();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), Waker::noop(), true),
        Batch::Last(Some(Box::new(overflow())))
    );
    assert!(batch.is_empty());
    assert_eq!(outbox.dropped(), 5);
    // A flush in between would have reset the clock.
    let outbox = Arc::new(Outbox::new(bound(1, 1000)));
    outbox.push(Message::text("a"), overflow);
    outbox.blocked();
    std::thread::sleep(GRACE + Duration::from_millis(20));
    outbox.writable();
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Behind);
}

#[test]
fn past_the_bound_a_writable_socket_means_the_server_is_behind() {
    let outbox = Arc::new(Outbox::new(bound(4, 1000)));
    for _ in 0..4 {
        assert_eq!(outbox.push(Message::text("a"), overflow), Push::Queued);
    }
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Behind);
    // Said once.
    assert_eq!(outbox.push(Message::text("c"), overflow), Push::Queued);
    assert_eq!(outbox.backlog(), Backlog::Behind);
    let mut batch = VecDeque::new();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), Waker::noop(), true),
        Batch::Frames
    );
    assert_eq!(batch.len(), 6, "nothing was dropped");
    assert_eq!(outbox.backlog(), Backlog::Clear);
    // Behind again once it is past the bound again.
    for _ in 0..4 {
        outbox.push(Message::text("a"), overflow);
    }
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Behind);
    // A socket that refuses bytes holds nobody back.
    outbox.blocked();
    assert_eq!(outbox.backlog(), Backlog::Clear);
    outbox.writable();
    assert_eq!(outbox.backlog(), Backlog::Behind);
}

#[test]
fn the_hard_limit_cuts_whatever_the_reason() {
    let outbox = Arc::new(Outbox::new(bound(2, 1000)));
    for _ in 0..2 * Limits::default().hard_queue_multiple {
        assert_ne!(outbox.push(Message::text("a"), overflow), Push::Overflowed);
    }
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Overflowed);

    let outbox = Arc::new(Outbox::new(bound(100, 5)));
    assert_eq!(outbox.push(Message::text("abcd"), overflow), Push::Queued);
    assert_eq!(outbox.push(Message::text("ef"), overflow), Push::Behind);
    assert_eq!(
        outbox.push(Message::text("x".repeat(20)), overflow),
        Push::Overflowed
    );

    // The multiple is the operator's: at 1, past the bound is the end.
    let outbox = Arc::new(Outbox::new(Bound::of(&Limits {
        max_queued_messages: 2,
        hard_queue_multiple: 1,
        ..Limits::default()
    })));
    outbox.push(Message::text("a"), overflow);
    outbox.push(Message::text("a"), overflow);
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Overflowed);
}

/// An outbox holding the server's side of a real TCP connection (as under
/// shards), its writer idle; and the client's side.
async fn attached() -> (Arc<Outbox>, tokio::net::TcpStream, Arc<Count>, Waker) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let outbox = Arc::new(Outbox::new(bound(100, 1 << 20)));
    outbox.attach(server);
    let (woken, writer) = counted();
    assert_eq!(
        outbox.take(&mut VecDeque::new(), &mut Vec::new(), &writer, true),
        Batch::Empty
    );
    (outbox, client, woken, writer)
}

/// Reads exactly `n` bytes.
async fn read_n(client: &mut tokio::net::TcpStream, n: usize) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = vec![0; n];
    client.read_exact(&mut got).await.unwrap();
    got
}

/// Frames pushed for an idle writer are written by the thread's flusher,
/// together, in order, as WebSocket frames; the writer is not woken.
#[tokio::test]
async fn the_flusher_writes_an_idle_writers_frames_without_waking_it() {
    tokio::spawn(super::flusher(Arc::new(AtomicU64::new(0))));
    let (outbox, mut client, woken, _writer) = attached().await;
    assert_eq!(outbox.push(Message::text("ab"), overflow), Push::Direct);
    assert_eq!(
        outbox.push(Message::binary(vec![7u8; 200]), overflow),
        Push::Direct
    );
    let got = read_n(&mut client, 4 + 4 + 200).await;
    assert_eq!(&got[..4], &[0x81, 2, b'a', b'b']);
    assert_eq!(&got[4..8], &[0x82, 126, 0, 200]);
    assert!(got[8..].iter().all(|&byte| byte == 7));
    assert_eq!(woken.0.load(Ordering::Relaxed), 0);
    // Still idle: the next frame goes the same way.
    assert_eq!(outbox.push(Message::text("c"), overflow), Push::Direct);
    assert_eq!(read_n(&mut client, 3).await, [0x81, 1, b'c']);
    assert_eq!(woken.0.load(Ordering::Relaxed), 0);
}

/// What the flusher cannot write goes to the writer, woken for it: a batch
/// longer than the flusher's buffer, or a socket that takes nothing.
#[tokio::test]
async fn what_the_flusher_cannot_write_goes_to_the_writer() {
    tokio::spawn(super::flusher(Arc::new(AtomicU64::new(0))));
    let (outbox, _client, woken, writer) = attached().await;
    assert_eq!(
        outbox.push(Message::binary(vec![1u8; 5000]), overflow),
        Push::Direct
    );
    while woken.0.load(Ordering::Relaxed) == 0 {
        tokio::task::yield_now().await;
    }
    let mut batch = VecDeque::new();
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), &writer, true),
        Batch::Frames
    );
    assert_eq!(batch.len(), 1);
    // A socket filled until it refuses bytes (the client reads nothing).
    assert_eq!(
        outbox.take(&mut VecDeque::new(), &mut Vec::new(), &writer, true),
        Batch::Empty
    );
    let chunk = vec![0u8; 1 << 16];
    while outbox
        .with_socket(|tcp| tcp.try_write(&chunk).is_ok())
        .unwrap()
    {}
    assert_eq!(outbox.push(Message::text("late"), overflow), Push::Direct);
    while woken.0.load(Ordering::Relaxed) == 1 {
        tokio::task::yield_now().await;
    }
    let mut tail = Vec::new();
    assert_eq!(
        outbox.take(&mut batch, &mut tail, &writer, true),
        Batch::Frames
    );
    assert_eq!(batch.back(), Some(&Message::text("late")));
}

/// The rest of a frame the socket took in part goes to the writer before
/// any frame queued after it.
#[test]
fn a_partial_writes_rest_is_taken_first() {
    let outbox = Arc::new(Outbox::new(bound(10, 1000)));
    outbox.lock().tail = b"rest".as_slice().into();
    outbox.push(Message::text("next"), overflow);
    let (mut batch, mut tail) = (VecDeque::new(), Vec::new());
    assert_eq!(
        outbox.take(&mut batch, &mut tail, Waker::noop(), true),
        Batch::Frames
    );
    assert_eq!(tail, b"rest");
    assert_eq!(Vec::from(batch), vec![Message::text("next")]);
}

/// A writer whose WebSocket is closing (or that has bytes of its own) is
/// never idle: no frame of the room's goes around it.
#[tokio::test]
async fn no_direct_write_past_a_closing_or_busy_writer() {
    let (outbox, _client, woken, writer) = attached().await;
    outbox.busy();
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Woke);
    let mut batch = VecDeque::new();
    outbox.take(&mut batch, &mut Vec::new(), &writer, true);
    assert_eq!(
        outbox.take(&mut batch, &mut Vec::new(), &writer, false),
        Batch::Empty
    );
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Woke);
    assert_eq!(woken.0.load(Ordering::Relaxed), 2);
}

/// Every connection holds an outbox: it stays small. With its `Arc`'s two
/// counts it is one 192-byte allocation; 8 bytes more would make it 208.
/// Boxing the rare close frame, and storing the overflow count and a
/// partial write's rest small, paid for the TCP stream it holds under
/// shards (idle RSS per connection, side by side: docs/benchmarks-notes.md).
#[test]
fn an_outbox_stays_small() {
    let size = std::mem::size_of::<Outbox>();
    assert!(size <= 168, "an outbox is {size} bytes");
}
