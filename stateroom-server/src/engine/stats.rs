//! A room's own counters: plain cells the room's task bumps as it works (no
//! atomics on the hot path), handed to the server's metrics after each event.

use std::cell::Cell;

/// Why a client left a room: the `reason` label of
/// `stateroom_disconnects_total`. The final cause counts (a dropped client
/// held for a resume that never came counts as `reconnect_expired`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Reason {
    /// The client sent a close frame.
    ClientClose,
    /// The connection dropped (no close frame) and reconnection is off.
    Dropped,
    /// Silent past the heartbeat timeout (reconnection off).
    HeartbeatTimeout,
    /// Its outbound queue overflowed (1008).
    Backpressure,
    /// It sent a message over the size limit (1009).
    Limit,
    /// It broke the protocol (1002, 1007).
    ProtocolError,
    /// The service closed it (`ctx.close`).
    Kick,
    /// The server shut down, or an operator closed the room.
    Shutdown,
    /// Its seat was held and the reconnection window passed.
    ReconnectExpired,
    /// Its held session could not continue: frames it never saw were let go,
    /// or its resume was refused after its token checked out.
    ResumeFailed,
}

impl Reason {
    pub(crate) const ALL: [Reason; 10] = [
        Reason::ClientClose,
        Reason::Dropped,
        Reason::HeartbeatTimeout,
        Reason::Backpressure,
        Reason::Limit,
        Reason::ProtocolError,
        Reason::Kick,
        Reason::Shutdown,
        Reason::ReconnectExpired,
        Reason::ResumeFailed,
    ];

    /// The label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Reason::ClientClose => "client_close",
            Reason::Dropped => "dropped",
            Reason::HeartbeatTimeout => "heartbeat_timeout",
            Reason::Backpressure => "backpressure",
            Reason::Limit => "limit",
            Reason::ProtocolError => "protocol_error",
            Reason::Kick => "kick",
            Reason::Shutdown => "shutdown",
            Reason::ReconnectExpired => "reconnect_expired",
            Reason::ResumeFailed => "resume_failed",
        }
    }

    fn index(self) -> usize {
        Reason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// The decode error codes the runtime itself sends, in label order.
pub(crate) const DECODE_CODES: [&str; 3] = ["invalid_json", "invalid_message", "unsupported_frame"];

/// Counters of one room since they were last taken.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) messages_in: Cell<u64>,
    pub(crate) bytes_in: Cell<u64>,
    pub(crate) messages_out: Cell<u64>,
    pub(crate) bytes_out: Cell<u64>,
    /// Pushes that woke a client's writer (see [`Push::Woke`](crate::engine::outlet::Push::Woke)).
    pub(crate) writer_wakeups: Cell<u64>,
    /// Messages handled in their connection's task, their room idle (see
    /// `engine::room::shared`).
    pub(crate) connection_turns: Cell<u64>,
    pub(crate) connects: Cell<u64>,
    pub(crate) resumes: Cell<u64>,
    pub(crate) resumes_refused: Cell<u64>,
    pub(crate) backpressure_dropped: Cell<u64>,
    /// Times the room stopped taking events because the server was behind
    /// on its clients' queues.
    pub(crate) backpressure_pauses: Cell<u64>,
    pub(crate) service_bugs: Cell<u64>,
    /// Numbered messages dropped as resends of ones already applied.
    pub(crate) duplicates: Cell<u64>,
    /// State sync: patch frames queued (one per client per document).
    pub(crate) sync_patches: Cell<u64>,
    /// State sync: snapshot frames queued.
    pub(crate) sync_snapshots: Cell<u64>,
    /// Presence frames (patches and snapshots) pushed.
    pub(crate) presence_frames: Cell<u64>,
    disconnects: [Cell<u64>; Reason::ALL.len()],
    decode_errors: [Cell<u64>; DECODE_CODES.len()],
}

pub(crate) fn bump(cell: &Cell<u64>, by: u64) {
    cell.set(cell.get().wrapping_add(by));
}

impl Stats {
    pub(crate) fn disconnect(&self, reason: Reason) {
        bump(&self.disconnects[reason.index()], 1);
    }

    /// Counts a decode error by its code (the runtime's own codes only).
    pub(crate) fn decode_error(&self, code: &str) {
        if let Some(i) = DECODE_CODES.iter().position(|c| *c == code) {
            bump(&self.decode_errors[i], 1);
        }
    }

    /// The disconnects counted since the last take, by reason; resets them.
    pub(crate) fn take_disconnects(&self) -> impl Iterator<Item = (Reason, u64)> + '_ {
        Reason::ALL
            .iter()
            .zip(&self.disconnects)
            .map(|(reason, cell)| (*reason, cell.take()))
            .filter(|(_, n)| *n > 0)
    }

    /// The decode errors counted since the last take, by code index; resets them.
    pub(crate) fn take_decode_errors(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.decode_errors
            .iter()
            .enumerate()
            .map(|(i, cell)| (i, cell.take()))
            .filter(|(_, n)| *n > 0)
    }
}
