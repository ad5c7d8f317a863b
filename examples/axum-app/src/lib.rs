//! Stateroom rooms inside an axum app: the app keeps its own routes, its
//! listener and its graceful shutdown; the rooms are mounted at
//! `/game/ws/{room}` (WebSockets) and `/game/rooms/{room}` (HTTP), and an
//! ordinary axum handler reaches a room through a server-side handle.
//!
//! Run: `cargo run -p example-axum-app` (port 3000, or `PORT`), then
//! `websocat ws://127.0.0.1:3000/game/ws/arena` and send `+5`; meanwhile
//! `curl -X POST 127.0.0.1:3000/bonus/arena/10` adds points from outside and
//! `curl 127.0.0.1:3000/game/rooms/arena` reads the score the room's
//! clients see.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Serialize;
use stateroom::{
    ClientId, Embedded, MessageRecipient, RoomRequest, RoomResponse, Server, StateroomContext,
};

/// A room's scoreboard.
#[derive(Default, Serialize)]
pub struct Board {
    score: i64,
}

/// What the app's own handlers ask a board.
#[derive(Debug)]
pub enum Ask {
    /// Add points (a bonus granted elsewhere in the app).
    Bonus(i64),
}

#[stateroom::service(no_main)]
impl Board {
    fn message(&mut self, _client: ClientId, text: &str, ctx: &impl StateroomContext) {
        if let Some(points) = text.strip_prefix('+').and_then(|n| n.parse::<i64>().ok()) {
            self.score += points;
            ctx.send(MessageRecipient::Broadcast, &self.score);
        }
    }

    fn command(&mut self, ask: Ask, ctx: &impl StateroomContext) -> i64 {
        let Ask::Bonus(points) = ask;
        self.score += points;
        ctx.send(MessageRecipient::Broadcast, &self.score);
        self.score
    }

    fn request(&mut self, _request: &RoomRequest) -> RoomResponse {
        RoomResponse::json(self)
    }
}

/// The app: its own routes, and the rooms mounted beside them. Call
/// [`Embedded::shutdown`] with the app's own graceful shutdown.
///
/// # Errors
/// When the rooms cannot start (a persisted service's store, say).
pub async fn app() -> Result<(Router, Embedded), stateroom::ServerError> {
    let rooms = Server::new()
        .ws_prefix("/game/ws/")
        .http_prefix("/game/rooms/")
        .embed::<Board>()
        .await?;
    let router = Router::new()
        .route("/hello", get(|| async { "hello from the app's own route" }))
        .route("/bonus/{room}/{points}", post(bonus))
        .route_service("/game/ws/{room}", rooms.service())
        .route_service("/game/rooms/{room}", rooms.service())
        .with_state(rooms.clone());
    Ok((router, rooms))
}

/// An ordinary axum handler that reaches a room from outside.
async fn bonus(
    State(rooms): State<Embedded>,
    Path((room, points)): Path<(String, i64)>,
) -> Result<String, (StatusCode, String)> {
    let room = rooms
        .rooms()
        .get(&room)
        .map_err(|error| (StatusCode::NOT_FOUND, error.to_string()))?;
    let score = room
        .command::<Ask, i64>(Ask::Bonus(points))
        .await
        .map_err(|error| (StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?;
    Ok(score.to_string())
}
