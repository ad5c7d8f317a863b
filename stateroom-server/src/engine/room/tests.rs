//! Under shards a room's connections take its turns while it is idle
//! (`shared`): each message is handled as the room's task would have, in the
//! same order, and what the task watches (a timer, a panic, a client
//! leaving) still reaches it.

use crate::Server;
use crate::ServerHandle;
use crate::engine::shards;
use futures_util::{SinkExt, StreamExt};
use stateroom_core::{ClientId, SimpleStateroomService, StateroomContext};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The ordering test's hook holds the shard's thread from `BLOCKED` until
/// `RELEASE`.
static BLOCKED: AtomicBool = AtomicBool::new(false);
static RELEASE: AtomicBool = AtomicBool::new(false);
/// `disconnect` calls, in the room `leaving`.
static LEFT: AtomicUsize = AtomicUsize::new(0);

/// Answers `x` with `re:x`; `block`, `panic`, `timer` and `kick` do what
/// they say.
struct Turns {
    room: String,
}

impl SimpleStateroomService for Turns {
    fn new(room: &str, _: &impl StateroomContext) -> Self {
        Turns { room: room.into() }
    }

    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        match text {
            "block" => {
                BLOCKED.store(true, Ordering::SeqCst);
                let until = std::time::Instant::now() + Duration::from_secs(10);
                while !RELEASE.load(Ordering::SeqCst) && std::time::Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(1));
                }
                ctx.send_message(client, "unblocked");
            }
            "panic" => panic!("asked to"),
            "timer" => ctx.set_timer(20),
            "kick" => ctx.close(client, 4000, "asked to"),
            other => ctx.send_message(client, format!("re:{other}").as_str()),
        }
    }

    fn timer(&mut self, ctx: &impl StateroomContext) {
        for client in ctx.clients() {
            ctx.send_message(client, "fired");
        }
    }

    fn disconnect(&mut self, _: ClientId, _: &impl StateroomContext) {
        if self.room == "leaving" {
            LEFT.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Runs `test` against a server whose rooms are on one shard, as `serve`
/// runs them, with metrics on an admin port.
fn on_a_shard<T>(test: impl AsyncFnOnce(&ServerHandle) -> T) -> T {
    let (shards, edge) = shards::for_tests(1);
    let out = edge.block_on(async {
        let mut server = Server::new()
            .host("127.0.0.1")
            .port(0)
            .admin_port(0)
            .admin_token("t");
        server.shards = Some(shards.clone());
        let handle = server.start::<Turns>().await.unwrap();
        let out = test(&handle).await;
        handle.shutdown().await;
        out
    });
    shards.stop();
    out
}

async fn connect(handle: &ServerHandle, room: &str) -> Ws {
    let url = format!("ws://{}/ws/{room}", handle.local_addr());
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next text frame, within 5 s.
async fn next_text(ws: &mut Ws) -> String {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Text(text) => return text.to_string(),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("a text frame within 5 s")
}

/// The close code the server ends `ws` with.
async fn close_code(ws: &mut Ws) -> u16 {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 0,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("a close within 5 s")
}

/// One counter from the admin listener's `/metrics`.
async fn metric(handle: &ServerHandle, name: &str) -> f64 {
    let addr = handle.admin_addr().unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n";
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut body = String::new();
    tcp.read_to_string(&mut body).await.unwrap();
    body.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

/// With its room idle, every message is handled in its connection's task
/// (counted by `stateroom_connection_turns_total`), and answered.
#[test]
fn an_idle_rooms_messages_are_handled_in_their_connections_turn() {
    let turns = on_a_shard(async |handle| {
        let mut ws = connect(handle, "idle").await;
        for i in 0..20 {
            ws.send(Message::text(format!("m{i}"))).await.unwrap();
            assert_eq!(next_text(&mut ws).await, format!("re:m{i}"));
        }
        metric(handle, "stateroom_connection_turns_total").await
    });
    assert!((turns - 20.0).abs() < f64::EPSILON, "{turns} turns");
}

/// A message never passes an event queued for its room before it: the
/// client sends two messages in one write; while the first one's hook holds
/// the shard, a broadcast is queued; the second message, read with the
/// first, is handled after the broadcast.
#[test]
fn a_message_waits_behind_what_its_room_has_queued() {
    let frames = on_a_shard(async |handle| {
        let mut ws = connect(handle, "order").await;
        ws.feed(Message::text("block")).await.unwrap();
        ws.feed(Message::text("second")).await.unwrap();
        ws.flush().await.unwrap();
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        while !BLOCKED.load(Ordering::SeqCst) {
            assert!(tokio::time::Instant::now() < until, "the hook never ran");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let room = handle.rooms().get("order").unwrap();
        // Queued (the call returns once it is), while the shard is held.
        room.broadcast("broadcast").await.unwrap();
        RELEASE.store(true, Ordering::SeqCst);
        let mut frames = Vec::new();
        for _ in 0..3 {
            frames.push(next_text(&mut ws).await);
        }
        frames
    });
    assert_eq!(frames, ["unblocked", "broadcast", "re:second"]);
}

/// A timer set in a connection's turn wakes the room's task for it (else it
/// would wait for the task's next turn: the heartbeat, 15 s away).
#[test]
fn a_timer_set_in_a_connections_turn_fires() {
    let fired = on_a_shard(async |handle| {
        let mut ws = connect(handle, "timer").await;
        ws.send(Message::text("timer")).await.unwrap();
        next_text(&mut ws).await
    });
    assert_eq!(fired, "fired");
}

/// A hook that panics in a connection's turn fails the room as in the
/// room's own: every client is closed with 1011, and the next join gets a
/// fresh room.
#[test]
fn a_panic_in_a_connections_turn_fails_the_room() {
    let (codes, panics, after) = on_a_shard(async |handle| {
        let mut ada = connect(handle, "panics").await;
        let mut bob = connect(handle, "panics").await;
        ada.send(Message::text("hello")).await.unwrap();
        assert_eq!(next_text(&mut ada).await, "re:hello");
        ada.send(Message::text("panic")).await.unwrap();
        let codes = (close_code(&mut ada).await, close_code(&mut bob).await);
        let panics = metric(handle, "stateroom_panics_total").await;
        let mut cy = connect(handle, "panics").await;
        cy.send(Message::text("again")).await.unwrap();
        (codes, panics, next_text(&mut cy).await)
    });
    assert_eq!(codes, (1011, 1011));
    assert!((panics - 1.0).abs() < f64::EPSILON, "{panics} panics");
    assert_eq!(after, "re:again");
}

/// A client kicked in a connection's turn, and one that leaves after its
/// messages were handled there, each get exactly one `disconnect`.
#[test]
fn clients_leave_once_whoever_handled_their_messages() {
    let (code, count) = on_a_shard(async |handle| {
        let mut kicked = connect(handle, "leaving").await;
        let mut leaver = connect(handle, "leaving").await;
        let mut stays = connect(handle, "leaving").await;
        kicked.send(Message::text("a")).await.unwrap();
        assert_eq!(next_text(&mut kicked).await, "re:a");
        kicked.send(Message::text("kick")).await.unwrap();
        let code = close_code(&mut kicked).await;
        leaver.send(Message::text("b")).await.unwrap();
        assert_eq!(next_text(&mut leaver).await, "re:b");
        leaver.close(None).await.unwrap();
        let _ = close_code(&mut leaver).await;
        // The room has heard both leave once this client's answer comes:
        // its events are handled in order.
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        while LEFT.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < until {
            stays.send(Message::text("c")).await.unwrap();
            assert_eq!(next_text(&mut stays).await, "re:c");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Long enough for a second `disconnect`, were there one.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (code, LEFT.load(Ordering::SeqCst))
    });
    assert_eq!(code, 4000);
    assert_eq!(count, 2);
}
