//! Reaching rooms from Rust code outside any room (another task, an HTTP
//! handler, a webhook): [`Rooms`] lists them and finds one by id; a
//! [`Room`] sends it a typed command (answered by the service's `command`
//! hook) or a broadcast. A room that stopped says so; nothing waits forever.

use crate::engine::directory::{Query, RoomInfo, Sort};
use crate::engine::event::RoomEvent;
use crate::engine::matchmaker::{MatchError, Reservation};
use crate::engine::{Claim, Engine};
use stateroom_core::{Command, CommandError};
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a command waits for its reply before [`RoomError::Timeout`].
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a room could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoomError {
    /// No live room has this id (and none was to be created).
    #[error("no room `{0}`")]
    NoSuchRoom(String),
    /// The room stopped (it was freed, failed, or the server is shutting
    /// down) before it could answer.
    #[error("room `{0}` has stopped")]
    Stopped(String),
    /// The room did not answer within 10 s (it is overloaded).
    #[error("room `{0}` did not answer in time")]
    Timeout(String),
    /// The room's limits, or the server's, refused a new room.
    #[error("room `{room}` could not be created: {why}")]
    Refused {
        /// The room.
        room: String,
        /// Why.
        why: String,
    },
    /// The service has no `command` hook, or not for these types.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// An operation on the room's Yjs document failed.
    #[cfg(feature = "yjs")]
    #[error("room `{room}`: {error}")]
    Doc {
        /// The room.
        room: String,
        /// Why.
        error: crate::engine::yjs::DocError,
    },
}

/// The rooms of a running server. Cheap to clone.
#[derive(Clone)]
pub struct Rooms {
    engine: Arc<Engine>,
}

impl std::fmt::Debug for Rooms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rooms")
    }
}

impl Rooms {
    pub(crate) fn new(engine: Arc<Engine>) -> Self {
        Rooms { engine }
    }

    /// Every live room with its client count and directory entry, in kind
    /// and id order.
    #[must_use]
    pub fn list(&self) -> Vec<RoomInfo> {
        self.find(&Query {
            sort: Sort::Id,
            ..Query::default()
        })
    }

    /// The live rooms `query` asks for (its kind, metadata filter and sort),
    /// as `GET /rooms` lists them; every kind, listed or not.
    #[must_use]
    pub fn find(&self, query: &Query) -> Vec<RoomInfo> {
        let rooms = self.engine.rooms.list();
        query.apply(rooms.iter().map(RoomInfo::from_summary))
    }

    /// The rooms `query` asks for across the cluster: this node's, and those
    /// the other nodes publish (each with its owner in `node`), as `GET
    /// /rooms` lists them. On a single node, the same as [`find`](Self::find).
    pub async fn directory(&self, query: &Query) -> Vec<RoomInfo> {
        query.apply(crate::engine::directory::all_rooms(&self.engine).await)
    }

    /// Reserves a seat in a room of `kind` (`""` on a server of one service)
    /// that matches `query`'s filter and has a free seat, in its order,
    /// or in a new room (whose metadata starts as the filter, unless it
    /// sets its own); the client joins with the reservation's `url` within
    /// its window, and its `join` hook reads `options` with
    /// `JoinRequest::reservation`. See `docs/protocol.md`, "Matchmaking".
    ///
    /// # Errors
    /// [`MatchError::NoSuchKind`], or [`MatchError::NoSeat`] when no room
    /// has a seat and none can be created.
    pub async fn matchmake(
        &self,
        kind: &str,
        query: &Query,
        options: serde_json::Value,
    ) -> Result<Reservation, MatchError> {
        crate::engine::matchmaker::matchmake(&self.engine, kind, query, options, false).await
    }

    /// The live room at `id`: its id on a server of one service, or
    /// `{kind}/{room_id}` on a server of several.
    ///
    /// # Errors
    /// [`RoomError::NoSuchRoom`] when no room `id` is live.
    pub fn get(&self, id: &str) -> Result<Room, RoomError> {
        let events = self
            .engine
            .rooms
            .events(id)
            .ok_or_else(|| RoomError::NoSuchRoom(id.to_owned()))?;
        Ok(Room {
            id: id.to_owned(),
            events,
        })
    }

    /// Room `id` (as [`get`](Self::get) names it), created (or loaded, for
    /// a persisted service) if it is not live. A room nobody joins is freed
    /// after the grace period, like any other empty room.
    ///
    /// # Errors
    /// [`RoomError::Refused`] for an invalid room id or kind, or at the
    /// server's limits.
    pub fn get_or_create(&self, id: &str) -> Result<Room, RoomError> {
        let refused = |why: String| RoomError::Refused {
            room: id.to_owned(),
            why,
        };
        let limits = &self.engine.config.limits;
        let located = self
            .engine
            .kinds
            .locate(id, limits.max_room_id_len)
            .map_err(|error| refused(error.to_string()))?;
        // Claimed only to create it: the claim goes back as it drops.
        let claim = Claim::take(&self.engine, &located).map_err(|why| refused(why.to_string()))?;
        Ok(Room {
            id: id.to_owned(),
            events: claim.events().clone(),
        })
    }
}

/// One room, reached from outside. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Room {
    id: String,
    events: mpsc::Sender<RoomEvent>,
}

impl Room {
    /// The room's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sends `command` to the service's `command` hook and waits for its
    /// reply (at most 10 s).
    ///
    /// # Errors
    /// [`RoomError::Stopped`] if the room stopped, [`RoomError::Timeout`],
    /// or [`RoomError::Command`] when the service has no `command` hook or
    /// `C`/`R` are not its types.
    pub async fn command<C: Any + Send, R: Any>(&self, command: C) -> Result<R, RoomError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let event = RoomEvent::Command {
            command: Command::new(command),
            reply,
        };
        let stopped = || RoomError::Stopped(self.id.clone());
        let ask = async {
            self.events.send(event).await.map_err(|_| stopped())?;
            answer.await.map_err(|_| stopped())
        };
        let reply = tokio::time::timeout(REPLY_TIMEOUT, ask)
            .await
            .map_err(|_| RoomError::Timeout(self.id.clone()))??;
        let reply = reply?;
        let got = reply.type_name();
        reply
            .into_inner::<R>()
            .ok_or(RoomError::Command(CommandError::WrongType {
                expected: got,
                got: std::any::type_name::<R>(),
            }))
    }

    /// Sends a text frame to every client of the room.
    ///
    /// # Errors
    /// [`RoomError::Stopped`] if the room stopped.
    pub async fn broadcast(&self, text: &str) -> Result<(), RoomError> {
        let event = RoomEvent::Broadcast { text: text.into() };
        self.events
            .send(event)
            .await
            .map_err(|_| RoomError::Stopped(self.id.clone()))
    }
}
