//! The client's half of the protocol (`docs/protocol.md`) as a state
//! machine with no I/O and no clock: a transport tells it what happened (a
//! connection opened, a frame arrived, the connection closed) and does what
//! it answers (send these frames, reconnect after this long). The tokio
//! transport (`crate::Client`) drives it; a browser build through
//! WebAssembly or a game engine's own socket can drive the same machine.

mod options;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use options::Options;

use crate::backoff::Reconnect;
use crate::docs::Documents;
use serde_json::Value;
use stateroom_core::sync::{Doc, RESYNC_REQUEST, SyncFrame};
use stateroom_core::{ErrorFrame, SessionFrame};
use std::collections::VecDeque;

/// A frame to or from the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (JSON, for typed messages).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// What the room said, once the protocol's own frames are taken out.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A connection's session frame (rooms with reconnection on): who this
    /// client is, whether it resumed, and why not if it did not.
    Session(SessionFrame),
    /// A text frame from the service (decoded by the typed client).
    Text(String),
    /// A binary frame from the service.
    Binary(Vec<u8>),
    /// An error frame (`{"error":{"code","message"}}`).
    Error(ErrorFrame),
    /// The room applied every numbered message up to this one.
    Applied(u64),
    /// A synced document changed (a snapshot or a patch applied).
    Synced(Doc),
}

/// Why a message could not be sent or kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The offline queue is full ([`Options::max_queued`]).
    #[error("the offline queue is full")]
    QueueFull,
    /// The client was closed.
    #[error("the client is closed")]
    Closed,
}

/// The client's protocol state: its session, what it has received, what
/// it has sent and the room has not applied yet, what waits for a
/// connection, and the synced documents.
#[derive(Debug)]
pub struct Protocol {
    options: Options,
    session: Option<SessionFrame>,
    /// Data frames received in this session: the `ack` of a resume.
    received: u64,
    /// The number the next new message gets.
    next: u64,
    /// Sent on a connection and not yet applied: (number, frame).
    unacked: VecDeque<(u64, Frame)>,
    /// Sent while no connection was open.
    queue: VecDeque<Frame>,
    /// The next frame is the connection's first.
    first_frame: bool,
    open: bool,
    closed: bool,
    attempt: u32,
    reservation: Option<String>,
    documents: Documents,
}

/// What the transport does after a frame arrived.
#[derive(Debug, Default)]
pub struct Received {
    /// What the room said.
    pub events: Vec<Event>,
    /// Frames to send now (a resync request).
    pub send: Vec<Frame>,
}

impl Protocol {
    /// A client that has not connected yet.
    #[must_use]
    pub fn new(options: Options) -> Self {
        let reservation = options.reservation.clone();
        Protocol {
            options,
            session: None,
            received: 0,
            next: 1,
            unacked: VecDeque::new(),
            queue: VecDeque::new(),
            first_frame: true,
            open: false,
            closed: false,
            attempt: 0,
            reservation,
            documents: Documents::default(),
        }
    }

    /// The query string of the next connection: the caller's parameters,
    /// then the reservation (first connection only), the resume token and
    /// `ack`, and `next` (exactly-once).
    #[must_use]
    pub fn query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .options
            .query
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        if let Some(reservation) = &self.reservation {
            pairs.push(("reservation", reservation.clone()));
        }
        if let Some(session) = &self.session {
            pairs.push(("resume", session.token.clone()));
            pairs.push(("ack", self.received.to_string()));
        }
        if self.options.exactly_once {
            let next = self.unacked.front().map_or(self.next, |(n, _)| *n);
            pairs.push(("next", next.to_string()));
        }
        pairs
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A connection opened: the frames to send on it, in order (what the
    /// room may not have applied, then what waited offline).
    pub fn opened(&mut self) -> Vec<Frame> {
        self.open = true;
        self.first_frame = true;
        self.attempt = 0;
        // Single-use: later connections resume (or join plainly).
        self.reservation = None;
        let mut out: Vec<Frame> = self
            .unacked
            .iter()
            .map(|(_, frame)| frame.clone())
            .collect();
        let queued: Vec<Frame> = self.queue.drain(..).collect();
        for frame in queued {
            out.push(self.number(frame));
        }
        out
    }

    /// Numbers `frame` (exactly-once) and keeps it until it is applied.
    fn number(&mut self, frame: Frame) -> Frame {
        if self.options.exactly_once {
            self.unacked.push_back((self.next, frame.clone()));
            self.next += 1;
        }
        frame
    }

    /// The caller sends `frame`: `Some` to write on the open connection
    /// now, `None` when it waits for one.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] while offline with the queue full;
    /// [`SendError::Closed`] after [`close`](Self::close).
    pub fn send(&mut self, frame: Frame) -> Result<Option<Frame>, SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        if self.open {
            return Ok(Some(self.number(frame)));
        }
        if self.queue.len() >= self.options.max_queued {
            return Err(SendError::QueueFull);
        }
        self.queue.push_back(frame);
        Ok(None)
    }

    /// A frame arrived on the open connection.
    pub fn frame(&mut self, frame: Frame) -> Received {
        let first = std::mem::take(&mut self.first_frame);
        let text = match frame {
            Frame::Binary(data) => {
                self.received += 1;
                return Received {
                    events: vec![Event::Binary(data)],
                    send: Vec::new(),
                };
            }
            Frame::Text(text) => text,
        };
        let mut received = Received::default();
        if let Some(applied) = applied_frame(&text) {
            while self.unacked.front().is_some_and(|(n, _)| *n <= applied) {
                self.unacked.pop_front();
            }
            received.events.push(Event::Applied(applied));
            return received;
        }
        let session = SessionFrame::from_json(&text);
        if first && session.is_none() {
            // No session: the room has no reconnection, nothing is numbered.
            self.unacked.clear();
        }
        if let (true, Some(session)) = (first, session) {
            // A fresh session counts from zero; a resumed one goes on.
            if !session.resumed {
                self.received = 0;
            }
            self.session = Some(session.clone());
            received.events.push(Event::Session(session));
            return received;
        }
        self.received += 1;
        if let Some(sync) = SyncFrame::from_json(&text) {
            match self.documents.apply(sync) {
                Ok(Some(doc)) => received.events.push(Event::Synced(doc)),
                Ok(None) => {}
                Err(()) => {
                    // Keeps what it holds and asks for snapshots (numbered
                    // like any message).
                    if let Ok(Some(frame)) = self.send(Frame::Text(RESYNC_REQUEST.to_owned())) {
                        received.send.push(frame);
                    }
                }
            }
            return received;
        }
        if let Some(error) = ErrorFrame::from_json(&text) {
            received.events.push(Event::Error(error));
            return received;
        }
        received.events.push(Event::Text(text));
        received
    }

    /// The connection ended with `code` (1006 when it dropped without a
    /// close frame): when to try again, if at all.
    pub fn closed_with(&mut self, code: u16) -> Reconnect {
        self.open = false;
        if self.closed {
            return Reconnect::Stop;
        }
        self.attempt += 1;
        let decision = self
            .options
            .backoff
            .after(code, self.attempt, random_unit());
        if decision == Reconnect::Stop {
            self.closed = true;
        }
        decision
    }

    /// The caller closes the client: nothing more is sent or retried.
    pub fn close(&mut self) {
        self.closed = true;
        self.open = false;
        self.queue.clear();
    }

    /// Whether the client has stopped for good.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The current session, when the room has reconnection on.
    #[must_use]
    pub fn session(&self) -> Option<&SessionFrame> {
        self.session.as_ref()
    }

    /// Data frames received in this session (what a resume acknowledges).
    #[must_use]
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Messages sent and not yet applied by the room.
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        self.unacked.len()
    }

    /// Messages waiting for a connection.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// A synced document as this client holds it (`None` before its first
    /// snapshot).
    #[must_use]
    pub fn document(&self, doc: Doc) -> Option<&Value> {
        self.documents.get(doc)
    }

    /// A synced document's version (0 before its first snapshot).
    #[must_use]
    pub fn version(&self, doc: Doc) -> u64 {
        self.documents.version(doc)
    }
}

/// `{"stateroom":{"applied":N}}`.
fn applied_frame(text: &str) -> Option<u64> {
    if !text.starts_with(r#"{"stateroom":{"applied":"#) {
        return None;
    }
    let value: Value = serde_json::from_str(text).ok()?;
    value.get("stateroom")?.get("applied")?.as_u64()
}

/// Percent-encodes a query component (RFC 3986 unreserved kept).
fn encode(text: &str) -> String {
    use std::fmt::Write as _;
    text.bytes().fold(String::new(), |mut out, byte| {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
        out
    })
}

/// A number in [0, 1) from the OS generator, for the backoff's jitter.
fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
