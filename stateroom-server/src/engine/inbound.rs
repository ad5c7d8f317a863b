//! Client messages applied exactly once. A client that numbers its messages
//! (`next=M` on a connection of a session: the frames it sends there are
//! numbered M, M+1, …) gets each applied once: the session keeps the last
//! number applied, in the same snapshot as the state those messages
//! changed, so it survives restarts and failover; a frame numbered at or
//! below it is a resend of one already applied and never reaches a hook.
//! The room tells the client what it applied in a small control frame,
//! `{"stateroom":{"applied":N}}`, batched (after [`ACK_EVERY`] messages or
//! [`ACK_DELAY`], whichever comes first) and released, like every output,
//! only once the state it reveals is durable. Unnumbered connections keep
//! at-most-once delivery, as before.

use std::time::Duration;

/// Messages applied before a client is told at once.
pub(crate) const ACK_EVERY: u32 = 32;

/// The longest a client waits to be told what was applied.
pub(crate) const ACK_DELAY: Duration = Duration::from_millis(20);

/// The inbound side of a numbered session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Inbound {
    /// The highest message number applied.
    pub(crate) applied: u64,
    /// The number the next frame on the current connection carries; `None`
    /// while the connection does not number its messages (or none is open).
    pub(crate) next: Option<u64>,
    /// Applied since the client was last told.
    pub(crate) unacked: u32,
}

/// What to do with a frame from a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrived {
    /// Apply it: no numbering, nothing to acknowledge.
    Unnumbered,
    /// Apply it: a new numbered message, to acknowledge.
    Apply,
    /// A resend of a message already applied: drop it.
    Duplicate,
}

impl Inbound {
    /// A session restored from a snapshot that had applied up to `applied`.
    pub(crate) fn restored(applied: u64) -> Self {
        Inbound {
            applied,
            next: None,
            unacked: 0,
        }
    }

    /// A session that had applied up to `applied`, on a connection that
    /// numbers from `next` (or does not number).
    pub(crate) fn numbered(applied: u64, next: Option<u64>) -> Self {
        Inbound {
            applied,
            next,
            unacked: 0,
        }
    }

    /// A connection opens on this session, numbering from `next` (or not).
    pub(crate) fn connected(&mut self, next: Option<u64>) {
        self.next = next;
    }

    /// A frame arrived on the current connection.
    pub(crate) fn arrive(&mut self) -> Arrived {
        let Some(number) = self.next else {
            return Arrived::Unnumbered;
        };
        self.next = Some(number.saturating_add(1));
        if number <= self.applied {
            return Arrived::Duplicate;
        }
        // A gap (numbers skipped) can only follow a state that rolled back
        // (debounced durability): the numbering carries on from here.
        self.applied = number;
        self.unacked = self.unacked.saturating_add(1);
        Arrived::Apply
    }

    /// Whether the client is owed an ack at once.
    pub(crate) fn ack_now(&self) -> bool {
        self.unacked >= ACK_EVERY
    }

    /// The ack to send now (clearing what is owed), if anything is owed.
    pub(crate) fn take_ack(&mut self) -> Option<u64> {
        (self.unacked > 0).then(|| {
            self.unacked = 0;
            self.applied
        })
    }
}

/// The control frame that tells a client what was applied.
pub(crate) fn ack_frame(applied: u64) -> String {
    format!(r#"{{"stateroom":{{"applied":{applied}}}}}"#)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn numbered_frames_apply_once_and_resends_are_dropped() {
        let mut inbound = Inbound::default();
        inbound.connected(Some(1));
        assert_eq!(inbound.arrive(), Arrived::Apply);
        assert_eq!(inbound.arrive(), Arrived::Apply);
        assert_eq!(inbound.applied, 2);
        // The connection drops; the client resends from 2.
        inbound.connected(Some(2));
        assert_eq!(inbound.arrive(), Arrived::Duplicate);
        assert_eq!(inbound.arrive(), Arrived::Apply);
        assert_eq!(inbound.applied, 3);
        assert_eq!(inbound.take_ack(), Some(3));
        assert_eq!(inbound.take_ack(), None);
    }

    #[test]
    fn unnumbered_connections_apply_everything() {
        let mut inbound = Inbound::restored(5);
        inbound.connected(None);
        for _ in 0..3 {
            assert_eq!(inbound.arrive(), Arrived::Unnumbered);
        }
        assert_eq!(inbound.applied, 5);
        assert_eq!(inbound.take_ack(), None);
    }

    #[test]
    fn an_ack_is_owed_at_once_after_a_batch() {
        let mut inbound = Inbound::default();
        inbound.connected(Some(1));
        for _ in 1..ACK_EVERY {
            inbound.arrive();
            assert!(!inbound.ack_now());
        }
        inbound.arrive();
        assert!(inbound.ack_now());
        assert_eq!(ack_frame(7), r#"{"stateroom":{"applied":7}}"#);
    }
}
