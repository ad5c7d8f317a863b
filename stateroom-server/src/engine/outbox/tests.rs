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

/// A push wakes the writer only while it waits (registered since it last
/// ran); frames pushed before it runs again ride on that one wake-up.
#[test]
fn only_the_push_that_finds_the_writer_waiting_wakes_it() {
    use std::sync::atomic::AtomicUsize;
    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let woken = Arc::new(Count(AtomicUsize::new(0)));
    let writer = Waker::from(woken.clone());
    let outbox = Outbox::new(bound(10, 1000));
    outbox.register(&writer);
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Woke);
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Queued);
    assert_eq!(woken.0.load(Ordering::Relaxed), 1);
    let mut batch = VecDeque::new();
    assert_eq!(outbox.take(&mut batch), Batch::Frames);
    outbox.register(&writer);
    assert_eq!(outbox.push(Message::text("c"), overflow), Push::Woke);
    assert_eq!(woken.0.load(Ordering::Relaxed), 2);
}

#[test]
fn drains_in_order_then_closes() {
    let outbox = Outbox::new(bound(10, 1000));
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Queued);
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Queued);
    let mut batch = VecDeque::new();
    assert_eq!(outbox.take(&mut batch), Batch::Frames);
    assert_eq!(
        Vec::from(batch.clone()),
        vec![Message::text("a"), Message::text("b")]
    );
    batch.clear();
    assert_eq!(outbox.take(&mut batch), Batch::Empty);
    outbox.push(Message::text("c"), overflow);
    outbox.close(None);
    assert_eq!(outbox.push(Message::text("d"), overflow), Push::Discarded);
    assert_eq!(outbox.take(&mut batch), Batch::Last(None));
    assert_eq!(Vec::from(batch), vec![Message::text("c")]);
}

#[test]
fn past_the_bound_a_blocked_socket_is_cut_after_the_stall() {
    let outbox = Outbox::new(bound(2, 1000));
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
    assert_eq!(outbox.take(&mut batch), Batch::Last(Some(overflow())));
    assert!(batch.is_empty());
    assert_eq!(outbox.dropped(), 5);
    // A flush in between would have reset the clock.
    let outbox = Outbox::new(bound(1, 1000));
    outbox.push(Message::text("a"), overflow);
    outbox.blocked();
    std::thread::sleep(GRACE + Duration::from_millis(20));
    outbox.writable();
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Behind);
}

#[test]
fn past_the_bound_a_writable_socket_means_the_server_is_behind() {
    let outbox = Outbox::new(bound(4, 1000));
    for _ in 0..4 {
        assert_eq!(outbox.push(Message::text("a"), overflow), Push::Queued);
    }
    assert_eq!(outbox.push(Message::text("b"), overflow), Push::Behind);
    // Said once.
    assert_eq!(outbox.push(Message::text("c"), overflow), Push::Queued);
    assert_eq!(outbox.backlog(), Backlog::Behind);
    let mut batch = VecDeque::new();
    assert_eq!(outbox.take(&mut batch), Batch::Frames);
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
    let outbox = Outbox::new(bound(2, 1000));
    for _ in 0..2 * Limits::default().hard_queue_multiple {
        assert_ne!(outbox.push(Message::text("a"), overflow), Push::Overflowed);
    }
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Overflowed);

    let outbox = Outbox::new(bound(100, 5));
    assert_eq!(outbox.push(Message::text("abcd"), overflow), Push::Queued);
    assert_eq!(outbox.push(Message::text("ef"), overflow), Push::Behind);
    assert_eq!(
        outbox.push(Message::text("x".repeat(20)), overflow),
        Push::Overflowed
    );

    // The multiple is the operator's: at 1, past the bound is the end.
    let outbox = Outbox::new(Bound::of(&Limits {
        max_queued_messages: 2,
        hard_queue_multiple: 1,
        ..Limits::default()
    }));
    outbox.push(Message::text("a"), overflow);
    outbox.push(Message::text("a"), overflow);
    assert_eq!(outbox.push(Message::text("a"), overflow), Push::Overflowed);
}
