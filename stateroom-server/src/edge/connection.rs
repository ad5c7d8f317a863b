//! One client's socket loop: frames in go to the room as events; frames the room
//! queued in the client's [`Outbox`] go out, several per flush.
//!
//! An idle connection's memory is mostly its task, and a task is as large as
//! its future's largest state. So the loop is one hand-written [`Pump`] over
//! the unsplit socket (no lock between a read half and a write half, no
//! `Notified` or send futures held while nothing happens); what is needed only
//! now and then (a wait for a full room queue, the close timer, the teardown)
//! is boxed when it happens. The loop itself is in `pump`.

mod pump;

use crate::edge::Edge;
use crate::edge::socket::Socket;
use crate::engine::event::{Arrival, RoomEvent};
use crate::engine::outbox::failed_frame;
use crate::engine::outbox::{Bound, Outbox};
use crate::engine::registry::Membership;
use crate::engine::resume::ResumeRequest;
use crate::engine::room_core::Gone;
use crate::engine::stats::Reason;
use hyper_tungstenite::tungstenite::Error as WsError;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use pump::{Pump, ReadEnd};
use stateroom_core::{ClientData, ClientId};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tracing::{Instrument, debug};

/// How long a closing connection waits for the peer (to take our last frames, or
/// to answer our close) before dropping the socket.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// An admitted client's connection, as the HTTP upgrade hands it over.
pub(crate) struct Admitted {
    pub(crate) membership: Membership,
    /// The connection's own id (the client's, unless it resumes a session).
    pub(crate) conn: ClientId,
    pub(crate) data: ClientData,
    pub(crate) resume: Option<ResumeRequest>,
}

/// Runs one client's connection: tells the room it arrived, then hands the
/// socket to a task of its own that lives until the connection ends (so that
/// the arrival's state is not reserved in the task for the connection's life).
pub(crate) async fn run(edge: Arc<Edge>, mut socket: Socket, admitted: Admitted) {
    let Admitted {
        membership,
        conn,
        data,
        resume,
    } = admitted;
    let limits = &edge.engine.config.limits;
    let outbox = Arc::new(Outbox::new(Bound::of(limits)));
    let (reply, client) = tokio::sync::oneshot::channel();
    let arrival = Arrival {
        conn,
        outbox: outbox.clone(),
        data,
        resume,
        reply,
    };
    let client = match membership
        .events()
        .send(RoomEvent::Connect(Box::new(arrival)))
        .await
    {
        Ok(()) => client.await.ok(),
        Err(_) => None,
    };
    let Some(client) = client else {
        // The room failed between our join and now.
        let _ = socket.close(Some(failed_frame())).await;
        edge.engine.rooms.leave(&membership);
        debug!("connection closed");
        return;
    };
    // The connection runs where its room does (on the room's shard under
    // `serve`), its socket moved to that runtime's reactor.
    let place = membership.place.clone();
    if let Some(shard) = place.handle() {
        match socket.move_to(shard) {
            // On one thread with its room, which may write to it directly.
            Ok(()) => socket.share(&outbox),
            // The socket is unusable now: the loop below ends at its first
            // read, and the room hears that the client is gone.
            Err(error) => {
                debug!(%error, "could not move the connection to its room's shard");
            }
        }
    }
    let live = Live {
        edge,
        membership,
        client,
        conn,
        outbox,
    };
    let pump = Pump::new(socket);
    // The connection's span is a debug one: at the default level it is
    // disabled, and the task need not carry it.
    let span = tracing::Span::current();
    if span.is_disabled() {
        place.spawn(live.serve(pump));
    } else {
        place.spawn(live.serve(pump).instrument(span));
    }
}

/// A connection the room has taken in: who it is and where it goes.
struct Live {
    edge: Arc<Edge>,
    membership: Membership,
    client: ClientId,
    conn: ClientId,
    outbox: Arc<Outbox>,
}

/// How the socket loop stopped, before the teardown that follows.
enum Stopped {
    Read(ReadEnd),
    Written(Result<(), WsError>),
    /// The client did not take its close frame in time.
    CloseTimedOut,
}

/// The connection's task: the live loop, then (boxed) its teardown. Written by
/// hand so that the task is exactly as large as the loop: an `async fn` here
/// reserves room for the teardown's future as well.
// The live variant is the point: boxing it would cost an allocation per
// connection and save nothing (the task holds one or the other).
#[allow(clippy::large_enum_variant)]
enum Serve {
    Live(Live, Pump),
    Finishing(Pin<Box<dyn Future<Output = ()> + Send>>),
    Done,
}

impl Future for Serve {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match &mut *self {
                Serve::Live(live, pump) => {
                    let stopped = ready!(pump.poll_live(cx, live));
                    if let Serve::Live(live, pump) = std::mem::replace(&mut *self, Serve::Done) {
                        *self = Serve::Finishing(Box::pin(live.finish(pump, stopped)));
                    }
                }
                Serve::Finishing(finish) => {
                    ready!(finish.as_mut().poll(cx));
                    *self = Serve::Done;
                    return Poll::Ready(());
                }
                Serve::Done => return Poll::Ready(()),
            }
        }
    }
}

impl Live {
    /// Reads and writes until the connection ends, then tells the room.
    fn serve(self, pump: Pump) -> Serve {
        Serve::Live(self, pump)
    }

    /// Lets the other side of the socket loop finish within bounds, then tells
    /// the room the client is gone.
    async fn finish(self, mut pump: Pump, stopped: Stopped) {
        let (client, conn, outbox) = (self.client, self.conn, &self.outbox);
        let events = self.membership.events();
        let how = match stopped {
            Stopped::Read(ReadEnd::Ended { goodbye }) => {
                outbox.close(None);
                if goodbye {
                    Gone::Goodbye
                } else {
                    Gone::Dropped
                }
            }
            Stopped::Read(ReadEnd::Refuse(frame)) => {
                let reason = if frame.code == CloseCode::Size {
                    Reason::Limit
                } else {
                    Reason::ProtocolError
                };
                debug!(code = %frame.code, reason = %frame.reason, "closing a misbehaving client");
                // Through the room, so that replies to the client's earlier
                // messages go out before the close.
                let close = RoomEvent::Close {
                    client,
                    conn,
                    frame: frame.clone(),
                };
                if events.send(close).await.is_err() {
                    outbox.close(Some(frame));
                }
                // Let the writer send what is queued and the close frame.
                let writer = poll_fn(|cx| pump.poll_write(cx, &self.outbox));
                let _ = tokio::time::timeout(CLOSE_WAIT, writer).await;
                Gone::Refused(reason)
            }
            Stopped::Written(written) => {
                // We sent our close frame (or the socket failed): wait for the
                // client's answer, within bounds.
                let reader = poll_fn(|cx| pump.poll_read(cx, &self));
                let _ = tokio::time::timeout(CLOSE_WAIT, reader).await;
                if written.is_ok() {
                    Gone::ServerClosed
                } else {
                    Gone::Dropped
                }
            }
            Stopped::CloseTimedOut => {
                debug!("client did not take its close in time; dropping it");
                Gone::ServerClosed
            }
        };
        // The close handshake's writes count too.
        pump.count_writes(&self);
        // The socket closes now, not when the room lets go of the outbox.
        outbox.detach();
        let _ = events.send(RoomEvent::Gone { client, conn, how }).await;
        self.edge.engine.rooms.leave(&self.membership);
        debug!("connection closed");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::Server;
    use crate::engine::shards;
    use futures_util::{SinkExt, StreamExt};
    use stateroom_core::{ClientId, SimpleStateroomService, StateroomContext};
    use tokio_tungstenite::tungstenite::Message;

    /// Answers every message with the name of the thread its room runs on.
    struct Where;

    impl SimpleStateroomService for Where {
        fn new(_: &str, _: &impl StateroomContext) -> Self {
            Where
        }

        fn message(&mut self, client: ClientId, _: &str, ctx: &impl StateroomContext) {
            let thread = std::thread::current();
            ctx.send_message(client, thread.name().unwrap_or("unnamed"));
        }
    }

    /// Under shards (as `serve` runs a server), rooms spread over the
    /// shards' threads, and their clients' frames go both ways from there.
    #[test]
    fn under_shards_rooms_run_on_the_shards_threads() {
        let (shards, edge) = shards::for_tests(2);
        let threads = edge.block_on(async {
            let mut server = Server::new().host("127.0.0.1").port(0);
            server.shards = Some(shards.clone());
            let handle = server.start::<Where>().await.unwrap();
            let addr = handle.local_addr();
            let mut clients = Vec::new();
            let mut threads = Vec::new();
            for room in ["a", "b", "c", "d"] {
                let (mut ws, _) =
                    tokio_tungstenite::connect_async(format!("ws://{addr}/ws/{room}"))
                        .await
                        .unwrap();
                ws.send(Message::text("where?")).await.unwrap();
                let thread = loop {
                    match ws.next().await.unwrap().unwrap() {
                        Message::Text(text) => break text.to_string(),
                        _ => continue,
                    }
                };
                threads.push(thread);
                clients.push(ws);
            }
            handle.shutdown().await;
            threads
        });
        shards.stop();
        assert_eq!(
            threads,
            [
                "stateroom-shard-0",
                "stateroom-shard-1",
                "stateroom-shard-0",
                "stateroom-shard-1"
            ]
        );
    }

    /// Frame lengths a burst cycles through: "small" ones the shard's
    /// flusher writes itself, "mixed" ones partly past its buffer.
    fn lengths(kind: &str) -> &'static [usize] {
        if kind == "small" {
            &[3, 40, 1]
        } else {
            &[3, 5000, 100, 70_000, 1]
        }
    }

    /// Answers a message with 30 numbered frames of its kind's lengths, to
    /// the sender and to all.
    struct Burst;

    impl SimpleStateroomService for Burst {
        fn new(_: &str, _: &impl StateroomContext) -> Self {
            Burst
        }

        fn message(&mut self, client: ClientId, kind: &str, ctx: &impl StateroomContext) {
            let lengths = lengths(kind);
            for i in 0..30 {
                let frame = format!("{i}:{}", "x".repeat(lengths[i % lengths.len()]));
                if i % 2 == 0 {
                    ctx.send_message(client, frame.as_str());
                } else {
                    ctx.send_message(stateroom_core::MessageRecipient::Broadcast, frame.as_str());
                }
            }
        }
    }

    /// Under shards, frames leave through the shard's flusher or the
    /// connection's own writer, whichever can: every frame arrives whole and
    /// in order, pings are answered among them, and a close is answered and
    /// ends the stream (the socket closes with the connection).
    #[test]
    fn under_shards_frames_arrive_whole_and_in_order_whoever_writes_them() {
        let (shards, edge) = shards::for_tests(1);
        edge.block_on(async {
            let mut server = Server::new().host("127.0.0.1").port(0);
            server.shards = Some(shards.clone());
            let handle = server.start::<Burst>().await.unwrap();
            let addr = handle.local_addr();
            let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/burst"))
                .await
                .unwrap();
            for round in 0..6u8 {
                let kind = ["small", "mixed"][usize::from(round % 2)];
                ws.send(Message::text(kind)).await.unwrap();
                ws.send(Message::Ping(vec![round].into())).await.unwrap();
                let (mut next, mut pong) = (0, false);
                while next < 30 || !pong {
                    match ws.next().await.unwrap().unwrap() {
                        Message::Text(text) => {
                            let (i, body) = text.split_once(':').unwrap();
                            assert_eq!(i.parse::<usize>().unwrap(), next);
                            let lengths = lengths(kind);
                            assert_eq!(body.len(), lengths[next % lengths.len()]);
                            next += 1;
                        }
                        Message::Pong(bytes) => {
                            assert_eq!(&bytes[..], &[round]);
                            pong = true;
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
            ws.close(None).await.unwrap();
            // The server answers the close, then its socket closes.
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(_))) => continue,
                    None | Some(Err(_)) => break,
                    Some(Ok(other)) => panic!("unexpected {other:?}"),
                }
            }
            handle.shutdown().await;
        });
        assert!(shards.take_writes() > 0, "the flusher wrote nothing");
        shards.stop();
    }

    /// What an idle connection's task holds (its future) stays small: the
    /// socket and little else. Fails if a change makes the task carry a large
    /// state (a teardown future, a send future, a second buffer) for its
    /// whole life.
    #[test]
    fn the_connection_task_is_the_socket_and_little_else() {
        let socket = std::mem::size_of::<crate::edge::socket::Socket>();
        let task = std::mem::size_of::<super::Serve>();
        assert!(
            task <= socket + 224,
            "the task's future is {task} bytes, the socket {socket}"
        );
        // tokio allocates a task as one 128-byte-aligned cell: its header
        // and trailer (104 bytes) and this future. At 280 bytes the cell is
        // 384; one byte more and every connection pays 512 (measured with
        // heaptrack: an enum variant 8 bytes larger once cost a step). The
        // socket is small because tungstenite's state is made only when a
        // frame needs it, and the WebSocket settings are shared.
        assert!(task <= 280, "the task's future is {task} bytes");
    }
}
