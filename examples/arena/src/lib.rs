//! Rooms that find each other: one server hosts three room kinds.
//!
//! - `lobby` (`/ws/lobby/{id}`): where players wait. Presence tells every
//!   page who is here and what name they picked, as diffs at most once per
//!   tick; nothing is hand-written for it.
//! - `race` (`/ws/race/{id}`): two players click; the first to ten wins. A
//!   race seats two (`ctx.set_capacity`), locks once both are in (the
//!   matchmaker then skips it) and syncs its board (`view`).
//!
//! - `queue` (`/ws/queue/{id}?rank=N`): a ranked queue that groups waiting
//!   players by rank band and sends each full group one fresh race.
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

/// Players whose ranks are within one band are matched together.
pub const BAND: u32 = 500;

/// Players per race.
pub const GROUP: usize = 2;

/// What the queue tells a player whose group is full.
#[stateroom::message]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueOut {
    /// Join `/ws/race/{race}`: a race of its own for this group.
    Matched {
        /// The race's id, fresh and unguessable.
        race: String,
        /// Who else is in the group.
        with: Vec<String>,
    },
}

/// A player waiting in the queue.
struct Waiting {
    client: ClientId,
    name: String,
}

/// The ranked queue (Colyseus's QueueRoom, as an example): players join
/// `/ws/queue/ranked?rank=1234&name=ada`, wait with players of the same rank
/// band, and each full group is sent one fresh race to join.
#[derive(Default)]
pub struct Queue {
    bands: BTreeMap<u32, Vec<Waiting>>,
}

/// A fresh race id: 16 hex digits from the standard library's randomly
/// seeded hasher (the example needs no random-number crate).
fn fresh_race_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    format!("{:016x}", hasher.finish())
}

#[stateroom::service(no_main, outbound = QueueOut)]
impl Queue {
    fn join(&self, request: &JoinRequest) -> Result<(String, u32), Reject> {
        let rank = request
            .query_param("rank")
            .and_then(|rank| rank.parse::<u32>().ok())
            .ok_or_else(|| {
                Reject::new(
                    stateroom::http::StatusCode::BAD_REQUEST,
                    "give your rank: ?rank=1234",
                )
            })?;
        Ok((name_of(request), rank))
    }

    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let Some((name, rank)) = ctx.client_data::<(String, u32)>(client).cloned() else {
            return;
        };
        let band = self.bands.entry(rank / BAND).or_default();
        band.push(Waiting { client, name });
        if band.len() < GROUP {
            return;
        }
        let group: Vec<Waiting> = band.drain(..GROUP).collect();
        let race = fresh_race_id();
        for player in &group {
            let with = group
                .iter()
                .filter(|other| other.client != player.client)
                .map(|other| other.name.clone())
                .collect();
            ctx.send(
                player.client,
                &QueueOut::Matched {
                    race: race.clone(),
                    with,
                },
            );
        }
    }

    fn disconnect(&mut self, client: ClientId) {
        for band in self.bands.values_mut() {
            band.retain(|waiting| waiting.client != client);
        }
    }
}

/// The arena's three kinds, for `stateroom::run_rooms` (and tests).
pub fn rooms(server: stateroom::Server) -> stateroom::Server {
    server
        .room::<Lobby>("lobby")
        .room::<Race>("race")
        .room::<Queue>("queue")
}

#[cfg(test)]
mod tests;
