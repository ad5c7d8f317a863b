//! What a test connection receives, and a test client's connections.

use crate::engine::members::Outlet;
use crate::engine::outbox::Push;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use stateroom_core::{ClientId, ErrorFrame, JoinRequest, SessionFrame, TimerKey};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// A frame a test client received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// The room closed the connection with this code and reason (a kick, a
    /// resume on another connection, …; 1011 never appears: a panicking
    /// hook fails the test instead).
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

impl Received {
    /// The text, if this is a text frame.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        match self {
            Received::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The error frame, if this is one.
    #[must_use]
    pub fn error(&self) -> Option<ErrorFrame> {
        self.text().and_then(ErrorFrame::from_json)
    }
}

/// A timer that fired, as [`TestRoom::fired`](super::TestRoom::fired) lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FiredTimer {
    /// The seed's single timer (`set_timer`; the `timer` hook).
    Timer,
    /// A named timer (`set_timeout`/`set_interval`; the `alarm` hook).
    Alarm(TimerKey),
}

/// One test connection's inbox: what the room sent it, in order, and how
/// many data frames that was (what a resume acknowledges).
#[derive(Clone, Default)]
pub(super) struct Inbox(pub(super) Rc<RefCell<InboxState>>);

#[derive(Default)]
pub(super) struct InboxState {
    pub(super) frames: VecDeque<Received>,
    /// The last session frame (reconnection on), kept apart from the frames.
    pub(super) session: Option<SessionFrame>,
    pub(super) data_frames: u64,
    /// The highest message number the room said it applied (numbered
    /// clients; the `applied` control frame is kept apart too).
    pub(super) applied: u64,
    /// Closed: later frames are discarded, as a closing socket's are.
    pub(super) closed: bool,
    /// State sync frames (counted as data frames, kept apart from `frames`).
    pub(super) sync: Vec<String>,
}

impl Outlet for Inbox {
    fn push(&self, frame: Message) -> Push {
        let mut state = self.0.borrow_mut();
        if state.closed {
            return Push::Discarded;
        }
        let received = match frame {
            Message::Text(text) => {
                if let Some(session) = text
                    .starts_with("{\"stateroom\":")
                    .then(|| SessionFrame::from_json(&text))
                    .flatten()
                {
                    state.session = Some(session);
                    return Push::Queued;
                }
                if let Some(applied) = text
                    .strip_prefix("{\"stateroom\":{\"applied\":")
                    .and_then(|rest| rest.strip_suffix("}}"))
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    state.applied = state.applied.max(applied);
                    return Push::Queued;
                }
                if text.starts_with("{\"stateroom\":{\"sync\":") {
                    state.data_frames += 1;
                    state.sync.push(text.to_string());
                    return Push::Queued;
                }
                Received::Text(text.to_string())
            }
            Message::Binary(data) => Received::Binary(data.to_vec()),
            _ => return Push::Queued,
        };
        state.data_frames += 1;
        state.frames.push_back(received);
        Push::Queued
    }

    fn close(&self, frame: Option<CloseFrame>) {
        let mut state = self.0.borrow_mut();
        if std::mem::replace(&mut state.closed, true) {
            return;
        }
        if let Some(frame) = frame {
            state.frames.push_back(Received::Closed {
                code: frame.code.into(),
                reason: frame.reason.to_string(),
            });
        }
    }
}

/// A message a numbered test client sent.
#[derive(Clone, Debug)]
pub(super) enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
}

/// A numbered test client's side of exactly-once: the next number, and
/// what it sent that the room has not said it applied.
#[derive(Default)]
pub(super) struct Numbering {
    pub(super) next: u64,
    pub(super) sent: VecDeque<(u64, Outgoing)>,
    /// A message was lost on the current connection: TCP delivers in
    /// order, so everything after it on that connection is lost too.
    pub(super) broken: bool,
}

/// A test client's connections, oldest first, and the `ack` its current one
/// started from.
pub(super) struct TestClient {
    pub(super) conns: Vec<(ClientId, Inbox)>,
    pub(super) ack_base: u64,
    /// The request it first joined with (a resume presents it again).
    pub(super) request: JoinRequest,
    /// `Some` when it numbers its messages (`next=` in its join's query).
    pub(super) numbering: Option<Numbering>,
}

impl TestClient {
    pub(super) fn current(&self) -> Option<&(ClientId, Inbox)> {
        self.conns.last()
    }

    /// The highest number the room said it applied, on any connection.
    pub(super) fn applied(&self) -> u64 {
        self.conns
            .iter()
            .map(|(_, inbox)| inbox.0.borrow().applied)
            .max()
            .unwrap_or(0)
    }

    /// Forgets what the room said it applied; returns what is left.
    pub(super) fn unacknowledged(&mut self) -> Vec<(u64, Outgoing)> {
        let applied = self.applied();
        let Some(numbering) = &mut self.numbering else {
            return Vec::new();
        };
        numbering.sent.retain(|(n, _)| *n > applied);
        numbering.sent.iter().cloned().collect()
    }

    /// Data frames received over the whole session: the resume's `ack`.
    pub(super) fn ack(&self) -> u64 {
        self.ack_base
            + self
                .current()
                .map_or(0, |(_, inbox)| inbox.0.borrow().data_frames)
    }
}
