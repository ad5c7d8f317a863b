//! The socket loop itself: one connection's reads and writes, polled by hand
//! (see the parent module for why), and how a read error maps to a close code.

use super::{CLOSE_WAIT, Live, Stopped};
use crate::edge::socket::Socket;
use crate::engine::event::RoomEvent;
use crate::engine::outbox::{Batch, Outbox, close_frame, failed_frame};
use crate::engine::registry::RoomLink;
use hyper_tungstenite::tungstenite::error::ProtocolError;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use hyper_tungstenite::tungstenite::{Error as WsError, Message};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Sleep;

/// Frames read in one poll before the task yields to others.
const READ_BUDGET: usize = 64;

/// Why the reading side stopped.
pub(super) enum ReadEnd {
    /// The stream ended; `goodbye` if the client sent a close frame first.
    Ended { goodbye: bool },
    /// The client broke a rule; tell it why.
    Refuse(CloseFrame),
}

/// Waits for room in a full room queue, then sends the event: `false` if the
/// room is gone.
type QueueWait = Pin<Box<dyn Future<Output = bool> + Send>>;

/// The socket and what its loop is in the middle of.
pub(super) struct Pump {
    socket: Socket,
    /// Frames taken from the outbox that the socket has not taken yet.
    batch: VecDeque<Message>,
    /// The outbox is closing: `Some(frame)` until the close frame is handed
    /// to the socket, then `Some(None)` (boxed: the task carries it for its
    /// whole life).
    ending: Option<Option<Box<CloseFrame>>>,
    /// The client sent a close frame.
    goodbye: bool,
    /// The outbox is closing (seen by the writer).
    closing: bool,
    /// An event waiting for room in the room's queue (reads pause meanwhile,
    /// so TCP pushes back on the client).
    waiting: Option<QueueWait>,
    /// Runs from the moment the outbox starts closing.
    close_timer: Option<Pin<Box<Sleep>>>,
}

impl Pump {
    pub(super) fn new(socket: Socket) -> Self {
        Pump {
            socket,
            batch: VecDeque::new(),
            ending: None,
            goodbye: false,
            closing: false,
            waiting: None,
            close_timer: None,
        }
    }

    /// One turn of the loop: write what the room queued, read what the client
    /// sent, and watch the close timer.
    pub(super) fn poll_live(&mut self, cx: &mut Context<'_>, live: &Live) -> Poll<Stopped> {
        let written = self.poll_write(cx, &live.outbox);
        self.count_writes(live);
        if let Poll::Ready(written) = written {
            return Poll::Ready(Stopped::Written(written));
        }
        if let Poll::Ready(end) = self.poll_read(cx, live) {
            return Poll::Ready(Stopped::Read(end));
        }
        if self.socket.has_unwritten() || !self.socket.can_write() {
            // A pong or a close's answer waits: the room must not write
            // past it.
            live.outbox.busy();
        }
        if self.close_timer.is_none() && self.closing {
            self.close_timer = Some(Box::pin(tokio::time::sleep(CLOSE_WAIT)));
        }
        if let Some(timer) = &mut self.close_timer {
            ready!(timer.as_mut().poll(cx));
            return Poll::Ready(Stopped::CloseTimedOut);
        }
        Poll::Pending
    }

    /// Adds the socket's write calls since the last count to
    /// `stateroom_socket_writes_total`.
    pub(super) fn count_writes(&mut self, live: &Live) {
        let writes = self.socket.take_writes();
        if writes > 0
            && let Some(metrics) = &live.edge.engine.metrics
        {
            metrics.socket_writes(writes);
        }
    }

    /// Drains the outbox into the socket, a batch per write. Ready once the
    /// outbox has closed and everything (its close frame included) is
    /// written, or when the socket fails. Pending, it is registered for the
    /// outbox's wake-ups: new frames, or a close.
    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        outbox: &Outbox,
    ) -> Poll<Result<(), WsError>> {
        loop {
            if !self.batch.is_empty() || self.socket.has_unwritten() {
                match self.socket.poll_send(cx, &mut self.batch) {
                    Poll::Ready(Ok(())) => outbox.writable(),
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => {
                        outbox.blocked();
                        // Woken by the socket, or by a close (an overflow
                        // cuts a client whose socket stays full).
                        self.closing |= outbox.register(cx.waker());
                        return Poll::Pending;
                    }
                }
            }
            match &mut self.ending {
                Some(close) => match close.take() {
                    Some(frame) => self.socket.queue_close(Some(*frame))?,
                    None => return Poll::Ready(Ok(())),
                },
                None => match self.take(cx, outbox) {
                    Batch::Frames => {}
                    Batch::Last(close) => {
                        self.closing = true;
                        self.ending = Some(close);
                    }
                    Batch::Empty => {
                        // Idle: give the batch's memory back (a busy writer
                        // never gets here between batches, and keeps it).
                        self.batch = VecDeque::new();
                        return Poll::Pending;
                    }
                },
            }
        }
    }

    /// Takes the outbox's frames (and the rest of a direct write, which goes
    /// first).
    fn take(&mut self, cx: &Context<'_>, outbox: &Outbox) -> Batch {
        let mut tail = Vec::new();
        let open = self.socket.can_write();
        let batch = outbox.take(&mut self.batch, &mut tail, cx.waker(), open);
        if !tail.is_empty() {
            self.socket.queue_raw(tail);
        }
        batch
    }

    /// Reads frames and hands them to the room. Ready once the stream ends or
    /// the client broke a rule.
    pub(super) fn poll_read(&mut self, cx: &mut Context<'_>, live: &Live) -> Poll<ReadEnd> {
        if let Some(waiting) = &mut self.waiting {
            let sent = ready!(waiting.as_mut().poll(cx));
            self.waiting = None;
            if !sent {
                return Poll::Ready(ReadEnd::Refuse(failed_frame()));
            }
        }
        let (client, conn) = (live.client, live.conn);
        for _ in 0..READ_BUDGET {
            let Some(frame) = ready!(self.socket.poll_next(cx)) else {
                return Poll::Ready(ReadEnd::Ended {
                    goodbye: self.goodbye,
                });
            };
            // Liveness: the room's heartbeat reads when the client was last heard from.
            live.outbox.touch();
            let event = match frame {
                Ok(Message::Text(text)) => RoomEvent::Text { client, conn, text },
                Ok(Message::Binary(data)) => RoomEvent::Binary { client, conn, data },
                // Pings are answered by the socket; pongs and raw frames need nothing.
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                // Keep reading: the socket answers the close, then the stream ends.
                Ok(Message::Close(_)) => {
                    self.goodbye = true;
                    continue;
                }
                Err(error) => return Poll::Ready(refusal(error, self.goodbye)),
            };
            // A room on this thread that is idle takes the message now, in
            // this task (`engine::room::shared`); else it is queued.
            let event = match &live.membership.link {
                RoomLink::Turns(turns) => match turns.take_turn(event) {
                    Ok(()) => continue,
                    Err(event) => event,
                },
                RoomLink::Queue(_) => event,
            };
            // The room keeps up: no await. A full queue waits (boxed: only
            // then), and reads pause until it has room.
            let events = live.membership.events();
            match events.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(event)) => {
                    let events = events.clone();
                    self.waiting = Some(Box::pin(async move { events.send(event).await.is_ok() }));
                    return self.poll_read(cx, live);
                }
                Err(TrySendError::Closed(_)) => {
                    return Poll::Ready(ReadEnd::Refuse(failed_frame()));
                }
            }
        }
        // Budget spent: let other connections run, and come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
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
