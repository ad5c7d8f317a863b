//! Reconnection: a held client's resume token and the frames kept for it, so a
//! resumed connection gets exactly the frames it had not seen, in order.
//!
//! Every data frame a room sends a client (with reconnection on) gets the next
//! sequence number, counting from 1; the client acknowledges the count it has
//! received when it resumes (`ack`). The replay buffer keeps the most recent
//! frames, bounded by count and bytes: a resume whose `ack` falls before what
//! is kept is refused ([`ResumeRefused::FramesLost`]).

use crate::engine::inbound::Inbound;
use hyper_tungstenite::tungstenite::Message;
use stateroom_core::{ClientId, JoinRequest, ResumeRefused};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

/// Reconnection settings of one room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ResumeSettings {
    /// How long a dropped client's seat is held.
    pub(crate) window: Duration,
    /// Most frames kept for a client.
    pub(crate) max_frames: usize,
    /// Most bytes kept for a client.
    pub(crate) max_bytes: usize,
}

/// What a new connection presented about its session: a token to continue
/// one (`?resume=TOKEN&ack=N`), and the number of the first message it
/// will send, if it numbers its messages (`next=M`; `docs/protocol.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResumeRequest {
    /// `None` for a new session.
    pub(crate) token: Option<String>,
    /// `None` when the `ack` parameter is missing or not a number.
    pub(crate) ack: Option<u64>,
    /// `Some` when the connection numbers the messages it sends.
    pub(crate) next: Option<u64>,
}

impl ResumeRequest {
    /// The `resume`, `ack` and `next` query parameters, if a resume token or
    /// a numbering is presented.
    pub(crate) fn from_query(join: &JoinRequest) -> Option<Self> {
        let token = join.query_param("resume").map(|token| token.into_owned());
        let next = join
            .query_param("next")
            .and_then(|next| next.parse().ok())
            .filter(|next| *next > 0);
        if token.is_none() && next.is_none() {
            return None;
        }
        let ack = join.query_param("ack").and_then(|ack| ack.parse().ok());
        Some(ResumeRequest { token, ack, next })
    }
}

/// A resume token's secret: 128 bits from the operating system's generator.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Secret([u8; 16]);

impl Secret {
    pub(crate) fn random() -> Self {
        let mut bytes = [0u8; 16];
        // The OS generator failing is not recoverable and never happens on
        // the platforms tokio supports; a zero secret would be guessable, so
        // refuse to go on without one.
        if let Err(error) = getrandom::fill(&mut bytes) {
            panic!("the operating system's random generator failed: {error}");
        }
        Secret(bytes)
    }

    /// The token a client presents: `{client}.{32 hex digits}`.
    pub(crate) fn token(&self, client: ClientId) -> String {
        format!("{client}.{}", self.hex())
    }

    /// The secret as 32 hex digits.
    pub(crate) fn hex(&self) -> String {
        let mut hex = String::with_capacity(32);
        for byte in self.0 {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }

    /// Compares in constant time (no early exit on the first differing byte).
    fn matches(&self, other: &[u8; 16]) -> bool {
        self.0
            .iter()
            .zip(other)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

/// Splits a token into the client it names and its secret bytes.
pub(crate) fn parse_token(token: &str) -> Result<(ClientId, [u8; 16]), ResumeRefused> {
    let malformed = ResumeRefused::MalformedToken;
    let (client, hex) = token.split_once('.').ok_or(malformed)?;
    let client = client.parse::<u32>().map_err(|_| malformed)?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed);
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| malformed)?;
    }
    Ok((ClientId::from(client), bytes))
}

/// One client's session: its current secret and the frames kept for a resume.
pub(crate) struct Replay {
    secret: Secret,
    /// The secret the client last resumed with: still honoured until the
    /// session is resumed with the newer one, so that a resume whose session
    /// frame (and new token) was lost to a cut can be tried again.
    previous: Option<Secret>,
    /// Data frames sent so far (the last one's sequence number).
    sent: u64,
    frames: VecDeque<Message>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
    /// While the client is away: `sent` when it went away. Frames after that
    /// were certainly not received, so letting one go ends the session.
    away_at: Option<u64>,
    /// A session whose client numbers its messages: what was applied.
    pub(crate) inbound: Option<Inbound>,
}

impl Replay {
    pub(crate) fn new(settings: &ResumeSettings) -> Self {
        Replay {
            secret: Secret::random(),
            previous: None,
            sent: 0,
            frames: VecDeque::new(),
            bytes: 0,
            max_frames: settings.max_frames.max(1),
            max_bytes: settings.max_bytes.max(1),
            away_at: None,
            inbound: None,
        }
    }

    /// The session as a snapshot keeps it: the secret (hex) and the count of
    /// frames sent, plus `pending` frames about to be sent.
    pub(crate) fn export(&self, pending: u64) -> (String, u64) {
        (self.secret.hex(), self.sent + pending)
    }

    /// The previous secret (hex), still honoured, if any.
    pub(crate) fn export_previous(&self) -> Option<String> {
        self.previous.as_ref().map(Secret::hex)
    }

    /// A session restored from a snapshot: no frames kept, so only a client
    /// that saw all `sent` frames can resume it.
    pub(crate) fn restored(
        settings: &ResumeSettings,
        secret_hex: &str,
        previous_hex: Option<&str>,
        sent: u64,
    ) -> Option<Self> {
        let parse = |hex: &str| {
            parse_token(&format!("0.{hex}"))
                .ok()
                .map(|(_, s)| Secret(s))
        };
        let mut replay = Replay::new(settings);
        replay.secret = parse(secret_hex)?;
        replay.previous = previous_hex.and_then(parse);
        replay.sent = sent;
        replay.hold();
        Some(replay)
    }

    /// The seat is taken over by a new connection of the same principal: a
    /// new secret, and a frame count that starts again with nothing kept
    /// (the new connection saw none of the old one's frames).
    pub(crate) fn take_over(&mut self) {
        self.secret = Secret::random();
        self.previous = None;
        self.sent = 0;
        self.frames.clear();
        self.bytes = 0;
        self.away_at = None;
    }

    /// The client's connection dropped: from now on, frames are only kept.
    pub(crate) fn hold(&mut self) {
        self.away_at = Some(self.sent);
    }

    pub(crate) fn token(&self, client: ClientId) -> String {
        self.secret.token(client)
    }

    /// Keeps `frame` as the next one sent, letting the oldest go to stay
    /// within bounds. Returns `false` if the client is away and a frame sent
    /// since it went away had to go: a resume can no longer be complete.
    pub(crate) fn record(&mut self, frame: &Message) -> bool {
        self.sent += 1;
        self.bytes += frame.len();
        self.frames.push_back(frame.clone());
        let mut complete = true;
        while self.frames.len() > self.max_frames || self.bytes > self.max_bytes {
            let seq = self.sent - self.frames.len() as u64 + 1;
            let Some(old) = self.frames.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            if self.away_at.is_some_and(|away_at| seq > away_at) {
                complete = false;
            }
        }
        complete
    }

    /// Whether `secret` resumes this session: its current secret, or the
    /// one it was last resumed with (nothing changes).
    pub(crate) fn holds(&self, secret: &[u8; 16]) -> bool {
        self.secret.matches(secret)
            || self
                .previous
                .as_ref()
                .is_some_and(|previous| previous.matches(secret))
    }

    /// Checks a resume against this session and, if it holds, issues a new
    /// secret (the old token is spent) and returns the frames after `ack`.
    pub(crate) fn resume(
        &mut self,
        secret: &[u8; 16],
        ack: Option<u64>,
    ) -> Result<Vec<Message>, ResumeRefused> {
        if !self.holds(secret) {
            return Err(ResumeRefused::InvalidToken);
        }
        let ack = ack
            .filter(|ack| *ack <= self.sent)
            .ok_or(ResumeRefused::BadAck)?;
        let first_kept = self.sent - self.frames.len() as u64 + 1;
        if ack + 1 < first_kept {
            return Err(ResumeRefused::FramesLost);
        }
        // The client surely holds the secret it presented; the new one may
        // be lost with this connection's session frame.
        self.previous = Some(Secret(*secret));
        self.secret = Secret::random();
        self.away_at = None;
        let skip = usize::try_from(ack + 1 - first_kept).unwrap_or(usize::MAX);
        Ok(self.frames.iter().skip(skip).cloned().collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn replay(max_frames: usize) -> Replay {
        Replay::new(&ResumeSettings {
            window: Duration::from_secs(1),
            max_frames,
            max_bytes: 1 << 20,
        })
    }

    fn secret_of(replay: &Replay) -> [u8; 16] {
        parse_token(&replay.token(ClientId::from(3))).unwrap().1
    }

    #[test]
    fn tokens_round_trip_and_differ() {
        let a = Secret::random();
        let token = a.token(ClientId::from(42));
        assert_eq!(token.len(), 3 + 32);
        let (client, bytes) = parse_token(&token).unwrap();
        assert_eq!(client, ClientId::from(42));
        assert!(a.matches(&bytes));
        assert!(!Secret::random().matches(&bytes));
        for bad in ["", "42", "x.00", "42.zz", "42.00ff", &format!("{token}0")] {
            assert_eq!(
                parse_token(bad),
                Err(ResumeRefused::MalformedToken),
                "{bad}"
            );
        }
    }

    #[test]
    fn resume_replays_after_the_ack_and_spends_the_token() {
        let mut r = replay(10);
        for i in 1..=5 {
            assert!(r.record(&Message::text(i.to_string())));
        }
        let secret = secret_of(&r);
        let frames = r.resume(&secret, Some(3)).unwrap();
        assert_eq!(frames, vec![Message::text("4"), Message::text("5")]);
        // The answer (and the next token) may be lost: the same token again
        // still resumes...
        assert_eq!(r.resume(&secret, Some(5)).unwrap(), vec![]);
        let next = secret_of(&r);
        assert_eq!(r.resume(&next, Some(6)), Err(ResumeRefused::BadAck));
        assert_eq!(r.resume(&next, None), Err(ResumeRefused::BadAck));
        assert_eq!(r.resume(&next, Some(5)).unwrap(), vec![]);
        // ...until its successor is used: then it is spent.
        assert_eq!(r.resume(&secret, Some(5)), Err(ResumeRefused::InvalidToken));
    }

    #[test]
    fn a_gap_beyond_the_buffer_is_refused() {
        let mut r = replay(3);
        for i in 1..=5 {
            // Connected: old frames go quietly.
            assert!(r.record(&Message::text(i.to_string())));
        }
        // Kept: 3, 4, 5. An ack of 2 needs 3 onwards: fine. An ack of 1 needs 2.
        let secret = secret_of(&r);
        assert_eq!(r.resume(&secret, Some(1)), Err(ResumeRefused::FramesLost));
        assert_eq!(r.resume(&secret, Some(2)).unwrap().len(), 3);
    }

    #[test]
    fn a_restored_session_resumes_only_without_a_gap() {
        let mut r = replay(10);
        for i in 1..=3 {
            r.record(&Message::text(i.to_string()));
        }
        let (secret, sent) = r.export(2);
        assert_eq!(sent, 5);
        let settings = ResumeSettings {
            window: Duration::from_secs(1),
            max_frames: 10,
            max_bytes: 1 << 20,
        };
        let mut restored = Replay::restored(&settings, &secret, None, sent).unwrap();
        let bytes = secret_of(&r);
        assert_eq!(
            restored.resume(&bytes, Some(4)),
            Err(ResumeRefused::FramesLost)
        );
        assert_eq!(restored.resume(&bytes, Some(5)).unwrap(), vec![]);
        assert!(Replay::restored(&settings, "zz", None, 1).is_none());
        // The secret last resumed with survives a restore too.
        let previous = r.export_previous();
        let mut r2 = replay(10);
        let first = secret_of(&r2);
        r2.resume(&first, Some(0)).unwrap();
        let (current, sent) = r2.export(0);
        let mut back =
            Replay::restored(&settings, &current, r2.export_previous().as_deref(), sent).unwrap();
        assert_eq!(back.resume(&first, Some(0)).unwrap(), vec![]);
        assert!(previous.is_none());
    }

    #[test]
    fn while_away_only_losing_an_unseen_frame_breaks_the_session() {
        let mut r = replay(3);
        for i in 1..=3 {
            r.record(&Message::text(i.to_string()));
        }
        r.hold();
        // Frames 4 and 5 push out 1 and 2, which the client may have seen.
        assert!(r.record(&Message::text("4")));
        assert!(r.record(&Message::text("5")));
        assert!(r.record(&Message::text("6")));
        // 7 pushes out 4, which was sent while away: the session is broken.
        assert!(!r.record(&Message::text("7")));
    }
}
