//! `Idempotency-Key` on `POST /rooms/{id}`: the first response for a key is
//! stored with the room's state (in its snapshot, so a restart or a
//! failover keeps it) and replayed, byte for byte and without running the
//! hook again, for a repeat within [`WINDOW`]; a repeat with another body
//! gets 422. A room keeps at most [`MAX_KEYS`] keys, the oldest going first.

use serde::{Deserialize, Serialize};
use stateroom_core::RoomResponse;
use std::collections::VecDeque;
use std::time::Duration;

/// How long a key is remembered.
pub(crate) const WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Most keys a room remembers.
pub(crate) const MAX_KEYS: usize = 1_000;

/// Longest key accepted, in bytes.
pub(crate) const MAX_KEY_LEN: usize = 255;

/// One remembered response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Remembered {
    key: String,
    /// The request's fingerprint (FNV-1a of its body).
    fingerprint: u64,
    status: u16,
    json: bool,
    body: String,
    /// When it was stored, in milliseconds since the Unix epoch.
    at_ms: u64,
}

/// What a request with a key is.
#[derive(Debug)]
pub(crate) enum Seen {
    /// The first with this key: run the hook, then remember the response.
    New,
    /// A repeat: this is the stored response.
    Repeat(RoomResponse),
    /// The key was used for another request.
    Conflict,
}

/// A room's remembered responses, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Idempotency {
    entries: VecDeque<Remembered>,
}

/// Whether `key` is a usable key: 1 to 255 visible ASCII characters.
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The fingerprint of a request's body (FNV-1a, 64 bits: stable across
/// builds, which a snapshot needs).
pub(crate) fn fingerprint(body: &[u8]) -> u64 {
    body.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Idempotency {
    fn forget_before(&mut self, unix_now: u64) {
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        let oldest = unix_now.saturating_sub(window);
        self.entries.retain(|entry| entry.at_ms >= oldest);
    }

    /// What a request with `key` and `fingerprint` is, at `unix_now`.
    pub(crate) fn seen(&mut self, key: &str, fingerprint: u64, unix_now: u64) -> Seen {
        self.forget_before(unix_now);
        match self.entries.iter().find(|entry| entry.key == key) {
            None => Seen::New,
            Some(entry) if entry.fingerprint != fingerprint => Seen::Conflict,
            Some(entry) => Seen::Repeat(RoomResponse::from_stored(
                entry.status,
                entry.json,
                entry.body.clone().into_bytes(),
            )),
        }
    }

    /// Remembers `response` for `key` (a body that is not UTF-8 is not kept:
    /// a repeat then runs the hook again).
    pub(crate) fn remember(
        &mut self,
        key: String,
        fingerprint: u64,
        response: &RoomResponse,
        unix_now: u64,
    ) {
        let Ok(body) = String::from_utf8(response.body().to_vec()) else {
            return;
        };
        self.entries.push_back(Remembered {
            key,
            fingerprint,
            status: response.status().as_u16(),
            json: response.content_type() == "application/json",
            body,
            at_ms: unix_now,
        });
        while self.entries.len() > MAX_KEYS {
            self.entries.pop_front();
        }
    }

    /// For the snapshot.
    pub(crate) fn export(&self) -> Vec<Remembered> {
        self.entries.iter().cloned().collect()
    }

    /// From a snapshot.
    pub(crate) fn restore(entries: Vec<Remembered>) -> Self {
        Idempotency {
            entries: entries.into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_replays_a_conflict_is_refused_and_old_keys_go() {
        let mut store = Idempotency::default();
        let body = fingerprint(br#"{"amount":5}"#);
        assert!(matches!(store.seen("k1", body, 1_000), Seen::New));
        store.remember("k1".into(), body, &RoomResponse::text("5"), 1_000);
        match store.seen("k1", body, 2_000) {
            Seen::Repeat(response) => assert_eq!(response.body(), b"5"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            store.seen("k1", fingerprint(b"other"), 2_000),
            Seen::Conflict
        ));
        let later = 1_000 + u64::try_from(WINDOW.as_millis()).unwrap() + 1;
        assert!(matches!(store.seen("k1", body, later), Seen::New));
    }

    #[test]
    fn keys_are_bounded_and_checked() {
        let mut store = Idempotency::default();
        for n in 0..=MAX_KEYS {
            store.remember(format!("k{n}"), 1, &RoomResponse::text("x"), 5);
        }
        assert_eq!(store.export().len(), MAX_KEYS);
        assert!(matches!(store.seen("k0", 1, 5), Seen::New));
        assert!(valid_key("a-b_c.1"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"x".repeat(MAX_KEY_LEN + 1)));
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }
}
