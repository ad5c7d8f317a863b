//! The socket task: one task owns the connection, drives the
//! [`Protocol`](crate::Protocol) with what happens on it, and reconnects
//! when the protocol says so.

use super::{Command, ConnectError, Received, Shared, Status, lock};
use crate::backoff::Reconnect;
use crate::protocol::{Event, Frame};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Says the new status to the handle's watchers and its event stream.
async fn announce(
    status: &watch::Sender<Status>,
    events: &mpsc::Sender<Received<Value>>,
    now: Status,
) {
    let _ = status.send(now.clone());
    let _ = events.send(Received::Status(now)).await;
}

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens one connection with `query`.
pub(super) async fn open(url: &str, query: &str) -> Result<Socket, ConnectError> {
    let full = if query.is_empty() {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&{query}")
    } else {
        format!("{url}?{query}")
    };
    match tokio_tungstenite::connect_async_with_config(full, None, true).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .map(|body| String::from_utf8_lossy(body).into_owned())
                .unwrap_or_default();
            Err(ConnectError::Refused { status, body })
        }
        Err(error) => Err(ConnectError::Io(error.to_string())),
    }
}

/// The socket task: runs connections until the client stops.
pub(super) async fn drive(
    url: String,
    first: Socket,
    shared: Arc<Mutex<Shared>>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<Received<Value>>,
    status: watch::Sender<Status>,
) {
    let mut socket = Some(first);
    loop {
        let code = match socket.take() {
            Some(socket) => run(socket, &shared, &mut commands, &events, &status).await,
            None => 1006,
        };
        let decision = lock(&shared).protocol.closed_with(code);
        let delay = match decision {
            Reconnect::After(delay) => delay,
            Reconnect::Stop => {
                let closed = Status::Closed {
                    code,
                    reason: String::new(),
                };
                announce(&status, &events, closed).await;
                return;
            }
        };
        let attempt = match &*status.borrow() {
            Status::Reconnecting { attempt, .. } => attempt + 1,
            _ => 1,
        };
        let waiting = Status::Reconnecting {
            attempt,
            delay,
            code,
        };
        announce(&status, &events, waiting).await;
        // Sends while waiting go to the offline queue; a close stops.
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                command = commands.recv() => match command {
                    Some(Command::Close) | None => {
                        let closed = Status::Closed { code: 1000, reason: String::new() };
                        announce(&status, &events, closed).await;
                        return;
                    }
                    // Numbered already; resent from `unacked` on open.
                    Some(Command::Send(_)) => {}
                },
            }
        }
        let _ = status.send(Status::Connecting);
        let query = lock(&shared).protocol.query();
        if let Ok(opened) = open(&url, &query).await {
            socket = Some(opened);
        }
    }
}

/// One connection, until it ends: its close code (1006 without one).
async fn run(
    mut socket: Socket,
    shared: &Mutex<Shared>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mpsc::Sender<Received<Value>>,
    status: &watch::Sender<Status>,
) -> u16 {
    let first = lock(shared).protocol.opened();
    for frame in first {
        if socket.send(message(frame)).await.is_err() {
            return 1006;
        }
    }
    announce(status, events, Status::Open).await;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Send(frame)) => {
                    if socket.send(message(frame)).await.is_err() {
                        return 1006;
                    }
                }
                Some(Command::Close) | None => {
                    let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
                    let _ = socket.close(Some(frame)).await;
                    return 1000;
                }
            },
            incoming = socket.next() => {
                let frame = match incoming {
                    Some(Ok(Message::Text(text))) => Frame::Text(text.to_string()),
                    Some(Ok(Message::Binary(data))) => Frame::Binary(data.to_vec()),
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map_or(1005, |frame| u16::from(frame.code));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return 1006,
                };
                let received = {
                    let mut shared = lock(shared);
                    let before = shared.protocol.received();
                    let received = shared.protocol.frame(frame);
                    if shared.protocol.received() != before {
                        shared.frames_in.fetch_add(1, Ordering::Relaxed);
                    }
                    received
                };
                for frame in received.send {
                    if socket.send(message(frame)).await.is_err() {
                        return 1006;
                    }
                }
                for event in received.events {
                    let typed = match event {
                        Event::Text(text) => match serde_json::from_str::<Value>(&text) {
                            Ok(value) => Received::Message(value),
                            Err(_) => Received::Text(text),
                        },
                        Event::Binary(data) => Received::Binary(data),
                        Event::Error(error) => Received::Error(error),
                        Event::Session(session) => Received::Session(session),
                        Event::Synced(doc) => Received::Synced(doc),
                        // Acknowledgements are the client's business.
                        Event::Applied(_) => continue,
                    };
                    if events.send(typed).await.is_err() {
                        return 1000;
                    }
                }
            }
        }
    }
}

fn message(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => Message::text(text),
        Frame::Binary(data) => Message::binary(data),
    }
}
