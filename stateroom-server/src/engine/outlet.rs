//! Where a client's frames go: the `Outlet` a room pushes into (an
//! `Outbox` on the server, a recorder in the test kit), and what a push
//! tells the room back.

use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use std::time::Duration;

/// Where a client's frames go.
pub(crate) trait Outlet: Clone {
    /// Queues a frame. [`Push::Overflowed`]: the client's queue overflowed
    /// (the outlet then closes and the room removes the client).
    fn push(&self, frame: Message) -> Push;
    /// Sends `frame` (or nothing) after what is queued, then nothing more.
    fn close(&self, frame: Option<CloseFrame>);
    /// How long since the client last sent anything.
    fn silent_for(&self) -> Duration {
        Duration::ZERO
    }
    /// How many frames an overflow discarded.
    fn dropped(&self) -> u64 {
        0
    }
    /// Where a queue that said [`Push::Behind`] stands now.
    fn backlog(&self) -> Backlog {
        Backlog::Clear
    }
}

/// What a push into an outlet did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// The frame is queued (behind others the writer has not taken yet).
    Queued,
    /// The frame is queued, and the push woke the client's writer, which
    /// was waiting for frames (counted: frames out per wake-up shows how
    /// many frames a writer takes per turn).
    Woke,
    /// The frame is queued for the shard's flusher, which writes it into
    /// the client's socket (the writer was idle): no wake-up.
    Direct,
    /// The frame is queued, past the queue's bound, on a socket that takes
    /// bytes: the server is behind. Said once until the writer takes the
    /// queue, or the room sees it drain ([`Outlet::backlog`]).
    Behind,
    /// The outbox is already closing; the frame was discarded.
    Discarded,
    /// The client stopped reading (or the queue reached the hard limit): the
    /// queue was emptied and the outbox is now closing with the given close
    /// frame.
    Overflowed,
}

/// A behind queue, as the room sees it when it checks again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backlog {
    /// Drained to half the bound, or closing, or its socket refuses bytes (a
    /// slow reader: the outbox cuts it if that lasts): nothing to wait for.
    Clear,
    /// Still past half the bound on a socket that takes bytes: wait.
    Behind,
}
