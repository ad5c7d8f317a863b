//! One client's socket loop: frames in go to the room as events; frames the room
//! queued in the client's [`Outbox`] go out, several per flush.

use crate::event::{Arrival, RoomEvent, close_frame, failed_frame};
use crate::outbox::Outbox;
use crate::resume::ResumeRequest;
use crate::room_core::Gone;
use crate::rooms::Membership;
use crate::shared::Shared;
use crate::stats::Reason;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper_tungstenite::HyperWebsocketStream;
use hyper_tungstenite::tungstenite::error::ProtocolError;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use hyper_tungstenite::tungstenite::{Error as WsError, Message};
use stateroom_core::{ClientData, ClientId};
use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tracing::debug;

/// How long a closing connection waits for the peer (to take our last frames, or
/// to answer our close) before dropping the socket.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Why the reading half stopped.
enum ReadEnd {
    /// The stream ended; `goodbye` if the client sent a close frame first.
    Ended { goodbye: bool },
    /// The client broke a rule; tell it why.
    Refuse(CloseFrame),
}

/// An admitted client's connection, as the HTTP upgrade hands it over.
pub(crate) struct Admitted {
    pub(crate) membership: Membership,
    /// The connection's own id (the client's, unless it resumes a session).
    pub(crate) conn: ClientId,
    pub(crate) data: ClientData,
    pub(crate) resume: Option<ResumeRequest>,
}

/// Runs one client's connection until it ends, then tells the room.
pub(crate) async fn run(shared: Arc<Shared>, socket: HyperWebsocketStream, admitted: Admitted) {
    let Admitted {
        membership,
        conn,
        data,
        resume,
    } = admitted;
    let limits = &shared.config.limits;
    let outbox = Arc::new(Outbox::new(
        limits.max_queued_messages,
        limits.max_queued_bytes,
    ));
    let events = &membership.events;
    let (mut sink, mut stream) = socket.split();

    let (reply, client) = tokio::sync::oneshot::channel();
    let arrival = Arrival {
        conn,
        outbox: outbox.clone(),
        data,
        resume,
        reply,
    };
    let client = match events.send(RoomEvent::Connect(Box::new(arrival))).await {
        Ok(()) => client.await.ok(),
        Err(_) => None,
    };
    if let Some(client) = client {
        let mut reader = pin!(read_loop(&mut stream, &membership, client, conn, &outbox));
        let mut writer = pin!(write_loop(&mut sink, &outbox));
        let mut stop = pin!(async {
            outbox.closed().await;
            tokio::time::sleep(CLOSE_WAIT).await;
        });
        let how = tokio::select! {
            end = &mut reader => {
                match end {
                    ReadEnd::Ended { goodbye } => {
                        outbox.close(None);
                        if goodbye { Gone::Goodbye } else { Gone::Dropped }
                    }
                    ReadEnd::Refuse(frame) => {
                        let reason = if frame.code == CloseCode::Size {
                            Reason::Limit
                        } else {
                            Reason::ProtocolError
                        };
                        debug!(code = %frame.code, reason = %frame.reason, "closing a misbehaving client");
                        // Through the room, so that replies to the client's
                        // earlier messages go out before the close.
                        let close = RoomEvent::Close { client, conn, frame: frame.clone() };
                        if events.send(close).await.is_err() {
                            outbox.close(Some(frame));
                        }
                        // Let the writer send what is queued and the close frame.
                        let _ = tokio::time::timeout(CLOSE_WAIT, &mut writer).await;
                        Gone::Refused(reason)
                    }
                }
            }
            written = &mut writer => {
                // We sent our close frame (or the socket failed): wait for the
                // client's answer, within bounds.
                let _ = tokio::time::timeout(CLOSE_WAIT, &mut reader).await;
                if written.is_ok() { Gone::ServerClosed } else { Gone::Dropped }
            }
            () = &mut stop => {
                debug!("client did not take its close in time; dropping it");
                Gone::ServerClosed
            }
        };
        let _ = events.send(RoomEvent::Gone { client, conn, how }).await;
    } else {
        // The room failed between our join and now.
        let _ = sink.send(Message::Close(Some(failed_frame()))).await;
    }
    shared.rooms.leave(&membership);
    debug!("connection closed");
}

async fn read_loop(
    stream: &mut SplitStream<HyperWebsocketStream>,
    membership: &Membership,
    client: ClientId,
    conn: ClientId,
    outbox: &Outbox,
) -> ReadEnd {
    let mut goodbye = false;
    // Liveness: the room's heartbeat reads when the client was last heard from.
    while let Some(frame) = stream.next().await {
        outbox.touch();
        let event = match frame {
            Ok(Message::Text(text)) => RoomEvent::Text { client, conn, text },
            Ok(Message::Binary(data)) => RoomEvent::Binary { client, conn, data },
            // Pings are answered by tungstenite; pongs and raw frames need nothing.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            // Keep reading: tungstenite answers the close, then the stream ends.
            Ok(Message::Close(_)) => {
                goodbye = true;
                continue;
            }
            Err(error) => return refusal(error, goodbye),
        };
        if membership.events.send(event).await.is_err() {
            return ReadEnd::Refuse(failed_frame());
        }
    }
    ReadEnd::Ended { goodbye }
}

/// Maps a read error to the RFC 6455 close code the client gets, if any.
fn refusal(error: WsError, goodbye: bool) -> ReadEnd {
    match error {
        WsError::Capacity(_) => ReadEnd::Refuse(close_frame(CloseCode::Size, "message too big")),
        WsError::Utf8(_) => ReadEnd::Refuse(close_frame(
            CloseCode::Invalid,
            "invalid UTF-8 in a text message",
        )),
        // The TCP stream ended without a close frame: the client vanished.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            ReadEnd::Ended { goodbye }
        }
        WsError::Protocol(_) => ReadEnd::Refuse(close_frame(CloseCode::Protocol, "protocol error")),
        _ => ReadEnd::Ended { goodbye },
    }
}

async fn write_loop(
    sink: &mut SplitSink<HyperWebsocketStream, Message>,
    outbox: &Outbox,
) -> Result<(), WsError> {
    let mut batch = VecDeque::new();
    loop {
        let close = outbox.next_batch(&mut batch).await;
        for frame in batch.drain(..) {
            sink.feed(frame).await?;
        }
        match close {
            None => sink.flush().await?,
            Some(Some(frame)) => return sink.send(Message::Close(Some(frame))).await,
            Some(None) => {
                sink.flush().await?;
                return Ok(());
            }
        }
    }
}
