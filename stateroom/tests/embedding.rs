//! Reaching rooms from outside: a server-side handle sends typed commands
//! and broadcasts, lists rooms, and fails fast on a stopped room; rooms
//! answer HTTP through their `request` hook, seeing the same state as their
//! WebSocket clients, with oversized and malformed bodies refused.

use stateroom_test_support as support;

use serde::{Deserialize, Serialize};
use stateroom::RoomError;
use stateroom::http::StatusCode;
use stateroom::{
    ClientId, CommandError, JoinRequest, MessageRecipient, Reject, RoomRequest, RoomResponse,
    Server, StateroomContext,
};
use std::time::{Duration, Instant};
use support::*;

/// A scoreboard: clients score with `+N`; outside code adds points or reads
/// the score; HTTP reads it (GET) or adds (POST `{"points":N}`).
#[derive(Default, Serialize)]
struct Board {
    score: i64,
}

/// What outside code can ask the board.
#[derive(Debug)]
enum Ask {
    Add(i64),
    Score,
}

#[derive(Deserialize)]
struct Points {
    points: i64,
}

#[stateroom::service(no_main)]
impl Board {
    fn join(&self, request: &JoinRequest) -> Result<(), Reject> {
        match request.query_param("key").as_deref() {
            Some("open") => Ok(()),
            _ => Err(Reject::unauthorized("?key=open")),
        }
    }

    fn message(&mut self, _client: ClientId, text: &str, ctx: &impl StateroomContext) {
        if let Some(points) = text.strip_prefix('+').and_then(|n| n.parse::<i64>().ok()) {
            self.score += points;
            ctx.send(MessageRecipient::Broadcast, &self.score);
        }
    }

    fn command(&mut self, ask: Ask, ctx: &impl StateroomContext) -> i64 {
        if let Ask::Add(points) = ask {
            self.score += points;
            ctx.send(MessageRecipient::Broadcast, &self.score);
        }
        self.score
    }

    fn request(&mut self, request: &RoomRequest, ctx: &impl StateroomContext) -> RoomResponse {
        if request.method() == "POST" {
            match request.json::<Points>() {
                Ok(Points { points }) => {
                    self.score += points;
                    ctx.send(MessageRecipient::Broadcast, &self.score);
                }
                Err(bad) => return bad,
            }
        }
        RoomResponse::json(self)
    }
}

/// A service with neither hook.
#[derive(Default)]
struct Plain;

#[stateroom::service(no_main)]
impl Plain {}

fn post(room: &str, body: &str) -> String {
    format!(
        "POST /rooms/{room}?key=open HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_handle_sends_typed_commands_and_broadcasts() {
    let server = start::<Board>(Server::new()).await;
    let addr = server.local_addr();
    let rooms = server.rooms();
    assert_eq!(
        rooms.get("arena").unwrap_err(),
        RoomError::NoSuchRoom("arena".into())
    );
    let mut ws = join(addr, "arena?key=open").await;
    let room = rooms.get("arena").expect("the room is live");
    assert_eq!(room.command::<Ask, i64>(Ask::Add(5)).await.unwrap(), 5);
    assert_eq!(
        next_text(&mut ws).await,
        "5",
        "its clients saw the command's effect"
    );
    send_text(&mut ws, "+2").await;
    assert_eq!(next_text(&mut ws).await, "7");
    assert_eq!(room.command::<Ask, i64>(Ask::Score).await.unwrap(), 7);
    room.broadcast("hello from outside").await.unwrap();
    assert_eq!(next_text(&mut ws).await, "hello from outside");
    let listed = rooms.list();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].clients), ("arena", 1));
    // Wrong types are an error, not a panic.
    let wrong = room.command::<u8, i64>(3).await.unwrap_err();
    assert!(
        matches!(wrong, RoomError::Command(CommandError::WrongType { .. })),
        "{wrong:?}"
    );
    let reply_type = room.command::<Ask, String>(Ask::Score).await.unwrap_err();
    assert!(matches!(
        reply_type,
        RoomError::Command(CommandError::WrongType { .. })
    ));
}

#[tokio::test]
async fn a_handle_to_a_stopped_room_errors_at_once() {
    let server = start::<Board>(Server::new().room_grace(Duration::from_millis(50))).await;
    let rooms = server.rooms();
    let room = rooms.get_or_create("fleeting").expect("created");
    assert_eq!(room.command::<Ask, i64>(Ask::Score).await.unwrap(), 0);
    // Nobody joins: freed after the grace period.
    wait_health(server.local_addr(), |h| h["rooms"] == 0).await;
    let started = Instant::now();
    let error = room.command::<Ask, i64>(Ask::Score).await.unwrap_err();
    assert_eq!(error, RoomError::Stopped("fleeting".into()));
    assert!(started.elapsed() < Duration::from_secs(1), "never hangs");
    assert!(matches!(
        rooms.get_or_create("bad id!"),
        Err(RoomError::Refused { .. })
    ));
    // A service without a `command` hook says so.
    let plain = start::<Plain>(Server::new()).await;
    let room = plain.rooms().get_or_create("p").unwrap();
    assert_eq!(
        room.command::<Ask, i64>(Ask::Score).await.unwrap_err(),
        RoomError::Command(CommandError::NoHook)
    );
}

#[tokio::test]
async fn rooms_answer_http_with_the_state_their_clients_see() {
    let server = start::<Board>(Server::new().max_message_size(1024)).await;
    let addr = server.local_addr();
    let mut ws = join(addr, "court?key=open").await;
    send_text(&mut ws, "+3").await;
    assert_eq!(next_text(&mut ws).await, "3");
    let (status, body) = get(addr, "/rooms/court?key=open").await;
    assert_eq!((status, body.as_str()), (200, r#"{"score":3}"#));
    let (status, body) = http(addr, &post("court", r#"{"points":4}"#)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"score":7}"#));
    assert_eq!(
        next_text(&mut ws).await,
        "7",
        "the WebSocket client saw the POST"
    );
    // The join rules apply.
    assert_eq!(get(addr, "/rooms/court").await, (401, "?key=open\n".into()));
    // Malformed and oversized bodies; the room is unharmed.
    let (status, body) = http(addr, &post("court", "{oops")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_body"), "{body}");
    let (status, _) = http(addr, &post("court", &"x".repeat(2000))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE.as_u16());
    let (status, _) = http(
        addr,
        "PUT /rooms/court HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(get(addr, "/rooms/court?key=open").await.1, r#"{"score":7}"#);
    // A service without a `request` hook: 404.
    let plain = start::<Plain>(Server::new()).await;
    assert_eq!(get(plain.local_addr(), "/rooms/x").await.0, 404);
}
