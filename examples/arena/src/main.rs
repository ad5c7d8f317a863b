//! Rooms that find each other: one server hosts two room kinds.
//!
//! - `lobby` (`/ws/lobby/{id}`): where players wait. Presence tells every
//!   page who is here and what name they picked, as diffs at most once per
//!   tick; nothing is hand-written for it.
//! - `race` (`/ws/race/{id}`): two players click; the first to ten wins. A
//!   race seats two (`ctx.set_capacity`), locks once both are in (the
//!   matchmaker then skips it) and syncs its board (`view`).
//!
//! The page (`web/`) lists the races live (`GET /rooms` as a WebSocket),
//! joins one with matchmaking (`POST /matchmake/race`, which fills open
//! races before it creates one), and shows who is in the lobby.
//!
//! Run: `cargo run -p example-arena -- --static-dir examples/arena/web`,
//! then open <http://127.0.0.1:8080/> in two browser windows.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, JoinRequest, Reject, StateroomContext};
use std::collections::BTreeMap;

/// Clicks that win a race.
pub const GOAL: u32 = 10;

/// The name a join asks for: the matchmaking options' `name`, else the
/// `name` query parameter, cut to 20 characters.
fn name_of(request: &JoinRequest) -> String {
    let from_reservation = request
        .reservation()
        .and_then(|options| options.get("name"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let name = from_reservation
        .or_else(|| request.query_param("name").map(|name| name.into_owned()))
        .unwrap_or_default();
    let name: String = name.trim().chars().take(20).collect();
    if name.is_empty() {
        "anonymous".to_owned()
    } else {
        name
    }
}

/// The name `client` joined with (its `join` hook's data).
fn joined_name(client: ClientId, ctx: &impl StateroomContext) -> String {
    ctx.client_data::<String>(client)
        .cloned()
        .unwrap_or_default()
}

/// The lobby: presence only (each client's name).
#[derive(Default)]
pub struct Lobby;

/// What the lobby shows of a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Here {
    /// The name it picked.
    pub name: String,
}

#[stateroom::service(no_main, presence, listed)]
impl Lobby {
    fn join(&self, request: &JoinRequest) -> Result<String, Reject> {
        Ok(name_of(request))
    }

    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let name = joined_name(client, ctx);
        ctx.set_presence(client, &Here { name });
    }
}

/// What a race page sends.
#[stateroom::message]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RaceMove {
    /// One step forward (once both players are in, until someone wins).
    Click,
}

/// A racer as everyone sees them.
#[stateroom::message]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Racer {
    /// The name it picked.
    pub name: String,
    /// Its clicks so far.
    pub score: u32,
}

/// The race: what every client sees (`view`).
#[stateroom::message]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Board {
    /// The racers by client id.
    pub racers: BTreeMap<ClientId, Racer>,
    /// Both seats are taken: clicks count.
    pub started: bool,
    /// Who reached the goal first.
    pub winner: Option<ClientId>,
}

/// A two-player race.
#[derive(Default)]
pub struct Race {
    board: Board,
}

#[stateroom::service(no_main, listed, reconnect = "10s")]
impl Race {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_capacity(Some(2));
        ctx.set_metadata(&serde_json::json!({ "mode": "race", "goal": GOAL }));
        Race::default()
    }

    fn join(&self, request: &JoinRequest) -> Result<String, Reject> {
        Ok(name_of(request))
    }

    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let name = joined_name(client, ctx);
        self.board.racers.insert(client, Racer { name, score: 0 });
        if self.board.racers.len() == 2 {
            // Full and under way: out of matchmaking.
            self.board.started = true;
            ctx.lock();
        }
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        self.board.racers.remove(&client);
        if self.board.winner.is_none() && self.board.racers.len() < 2 {
            // A seat is free again: back in matchmaking, scores reset.
            self.board.started = false;
            for racer in self.board.racers.values_mut() {
                racer.score = 0;
            }
            ctx.unlock();
        }
    }

    fn message(&mut self, client: ClientId, _move: RaceMove, _ctx: &impl StateroomContext) {
        if !self.board.started || self.board.winner.is_some() {
            return;
        }
        if let Some(racer) = self.board.racers.get_mut(&client) {
            racer.score += 1;
            if racer.score >= GOAL {
                self.board.winner = Some(client);
            }
        }
    }

    fn view(&self) -> &Board {
        &self.board
    }
}

fn main() {
    stateroom::run_rooms(|server| server.room::<Lobby>("lobby").room::<Race>("race"));
}

#[cfg(test)]
mod tests;
