//! The client over tokio and `tokio-tungstenite`: one task owns the socket
//! and drives the [`Protocol`]; the [`Client`] handle sends typed messages
//! to it and reads typed events from it.

mod socket;

use crate::protocol::{Frame, Options, Protocol, SendError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use socket::{drive, open};
use stateroom_core::sync::Doc;
use stateroom_core::{ErrorFrame, SessionFrame};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Where the connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Opening a connection.
    Connecting,
    /// Open.
    Open,
    /// The connection ended; the next attempt is after `delay`.
    Reconnecting {
        /// Attempts in a row so far.
        attempt: u32,
        /// How long until the next.
        delay: Duration,
        /// The close code that ended the last connection (1006: dropped).
        code: u16,
    },
    /// Stopped for good: the close code, and its reason.
    Closed {
        /// The close code (1000 after [`Client::close`]).
        code: u16,
        /// The reason the server gave, if any.
        reason: String,
    },
}

/// What a room told this client, typed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Received<Out> {
    /// A message of the service's outbound type.
    Message(Out),
    /// A text frame that is not an `Out` (kept as it came).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// An error frame.
    Error(ErrorFrame),
    /// A connection's session frame.
    Session(SessionFrame),
    /// A synced document changed (read it with [`Client::state`],
    /// [`Client::private_state`] or [`Client::presence`]).
    Synced(Doc),
    /// The connection's status changed.
    Status(Status),
}

/// Why the first connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not `ws://` or `wss://` (or `http(s)://`).
    #[error("not a WebSocket URL: {0}")]
    Url(String),
    /// The server refused the join: its status and body (the `join` hook's
    /// 401/403, a full room's 503, a spent reservation's 410, …).
    #[error("the server refused the join: {status} {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its plain-text body.
        body: String,
    },
    /// The connection could not be made.
    #[error("cannot connect: {0}")]
    Io(String),
}

/// What the handle and the socket task share.
#[derive(Debug)]
pub(super) struct Shared {
    protocol: Protocol,
    /// Data frames received over every connection (the service's frames
    /// and sync frames; not the session frame or acknowledgements).
    frames_in: Arc<AtomicU64>,
}

/// A typed client of one room: `In` is what it sends (the service's
/// inbound message type), `Out` what it receives. Cheap to clone: every
/// clone sends on the same connection; only one should read [`recv`](Self::recv).
pub struct Client<In, Out> {
    shared: Arc<Mutex<Shared>>,
    commands: mpsc::UnboundedSender<Command>,
    events: Arc<tokio::sync::Mutex<mpsc::Receiver<Received<Value>>>>,
    status: watch::Receiver<Status>,
    types: PhantomData<fn(In) -> Out>,
}

impl<In, Out> Clone for Client<In, Out> {
    fn clone(&self) -> Self {
        Client {
            shared: self.shared.clone(),
            commands: self.commands.clone(),
            events: self.events.clone(),
            status: self.status.clone(),
            types: PhantomData,
        }
    }
}

impl<In, Out> std::fmt::Debug for Client<In, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

pub(super) enum Command {
    Send(Frame),
    Close,
}

pub(super) fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The URL of a room (`ws://host:port/ws/{room}`) from a server URL in any
/// of the schemes a client may be given.
fn socket_url(url: &str) -> Result<String, ConnectError> {
    let url = if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_owned()
    };
    if url.starts_with("ws://") || url.starts_with("wss://") {
        Ok(url)
    } else {
        Err(ConnectError::Url(url))
    }
}

impl<In: Serialize, Out: DeserializeOwned> Client<In, Out> {
    /// Connects to the room at `url` (`ws://host:8080/ws/lobby`) with the
    /// default [`Options`]; resolves once the first connection is open.
    ///
    /// # Errors
    /// [`ConnectError`] when the first connection fails: the server's
    /// refusal, or why no connection could be made. Later connections are
    /// retried by themselves.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, Options::default()).await
    }

    /// [`connect`](Self::connect) with `options`.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, options: Options) -> Result<Self, ConnectError> {
        let url = socket_url(url)?;
        let shared = Arc::new(Mutex::new(Shared {
            protocol: Protocol::new(options),
            frames_in: Arc::new(AtomicU64::new(0)),
        }));
        let query = lock(&shared).protocol.query();
        let first = open(&url, &query).await?;
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::channel(1024);
        let (status_tx, status) = watch::channel(Status::Connecting);
        tokio::spawn(drive(
            url,
            first,
            shared.clone(),
            commands_rx,
            events_tx,
            status_tx,
        ));
        Ok(Client {
            shared,
            commands,
            events: Arc::new(tokio::sync::Mutex::new(events)),
            status,
            types: PhantomData,
        })
    }

    /// Sends `message` as JSON: now on the open connection, or once one is
    /// open. With exactly-once on, the room applies it once whatever
    /// connections drop in between.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] while offline with a full queue,
    /// [`SendError::Closed`] after the client stopped.
    pub fn send(&self, message: &In) -> Result<(), SendError> {
        let text = serde_json::to_string(message).map_err(|_| SendError::Closed)?;
        self.send_frame(Frame::Text(text))
    }

    /// Sends a raw frame (text that is not an `In`, or binary).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        let now = lock(&self.shared).protocol.send(frame)?;
        if let Some(frame) = now {
            self.commands
                .send(Command::Send(frame))
                .map_err(|_| SendError::Closed)?;
        }
        Ok(())
    }

    /// The next thing the room said (or a status change); `None` once the
    /// client has stopped and everything was read.
    pub async fn recv(&self) -> Option<Received<Out>> {
        let received = self.events.lock().await.recv().await?;
        Some(match received {
            Received::Message(value) => match serde_json::from_value::<Out>(value.clone()) {
                Ok(message) => Received::Message(message),
                Err(_) => Received::Text(value.to_string()),
            },
            Received::Text(text) => Received::Text(text),
            Received::Binary(data) => Received::Binary(data),
            Received::Error(error) => Received::Error(error),
            Received::Session(session) => Received::Session(session),
            Received::Synced(doc) => Received::Synced(doc),
            Received::Status(status) => Received::Status(status),
        })
    }

    /// The next message of type `Out`, skipping everything else.
    pub async fn next_message(&self) -> Option<Out> {
        loop {
            if let Received::Message(message) = self.recv().await? {
                return Some(message);
            }
        }
    }

    /// Where the connection is now.
    #[must_use]
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Waits until the status is `Open` (or the client stopped: `false`).
    pub async fn wait_open(&self) -> bool {
        let mut status = self.status.clone();
        let reached = status
            .wait_for(|status| matches!(status, Status::Open | Status::Closed { .. }))
            .await;
        reached.is_ok_and(|status| *status == Status::Open)
    }

    /// The room's shared state (its `view`), decoded as `T`; `None` before
    /// the first snapshot or if it is not a `T`.
    #[must_use]
    pub fn state<T: DeserializeOwned>(&self) -> Option<T> {
        self.document(Doc::Shared)
    }

    /// The state only this client sees (its `private_view`).
    #[must_use]
    pub fn private_state<T: DeserializeOwned>(&self) -> Option<T> {
        self.document(Doc::Private)
    }

    /// A live lobby's rooms by path (a client from [`watch_rooms`](crate::watch_rooms)).
    #[must_use]
    pub fn rooms<T: DeserializeOwned>(&self) -> Option<T> {
        self.document(Doc::Rooms)
    }

    /// Who is in the room (services with presence).
    #[must_use]
    pub fn presence<T: DeserializeOwned>(&self) -> Option<T> {
        self.document(Doc::Presence)
    }

    fn document<T: DeserializeOwned>(&self, doc: Doc) -> Option<T> {
        let shared = lock(&self.shared);
        let value = shared.protocol.document(doc)?;
        T::deserialize(value).ok()
    }

    /// The current session (rooms with reconnection on).
    #[must_use]
    pub fn session(&self) -> Option<SessionFrame> {
        lock(&self.shared).protocol.session().cloned()
    }

    /// Data frames received so far, over every connection, read or not.
    #[must_use]
    pub fn frames_received(&self) -> u64 {
        self.frames_in().load(Ordering::Relaxed)
    }

    pub(crate) fn frames_in(&self) -> Arc<AtomicU64> {
        lock(&self.shared).frames_in.clone()
    }

    /// Messages sent and not yet applied by the room (exactly-once).
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        lock(&self.shared).protocol.unacknowledged()
    }

    /// Closes the connection (1000) and stops; the room ends the session.
    pub fn close(&self) {
        lock(&self.shared).protocol.close();
        let _ = self.commands.send(Command::Close);
    }
}
