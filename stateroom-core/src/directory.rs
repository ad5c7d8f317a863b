//! What a room tells the world about itself: who is in it (presence), what
//! a lobby may show (its directory listing), and a seat the matchmaker
//! reserved in it (the answer both the server and clients read). See `docs/protocol.md`,
//! "Presence" and "The room directory".

use crate::ClientId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whether and how a room tells its clients who is in it
/// ([`SimpleStateroomService::PRESENCE`](crate::SimpleStateroomService::PRESENCE)).
///
/// Presence is a synced document named `presence` (the frames of
/// `docs/protocol.md`, "State sync"), sent at most once per tick
/// (50 ms, or the service's patch rate) per room, never once per change.
/// It is ephemeral: not persisted, and not held behind a persisted room's
/// output gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Presence {
    /// No presence frames (the default).
    #[default]
    Off,
    /// Every client and its presence data:
    /// `{"<client id>": <what set_presence gave, or null>, …}`. A client
    /// joins the document when it joins the room and leaves it when it
    /// leaves (a dropped client whose seat is held stays until its window
    /// ends).
    Full,
    /// Only how many clients are in the room: `{"count": N}`, for rooms
    /// with thousands of watchers.
    Count,
}

/// A change to what the room publishes, from a hook (the primitive under
/// [`StateroomContext::set_presence`](crate::StateroomContext::set_presence),
/// [`set_metadata`](crate::StateroomContext::set_metadata),
/// [`set_capacity`](crate::StateroomContext::set_capacity),
/// [`lock`](crate::StateroomContext::lock) and
/// [`unlock`](crate::StateroomContext::unlock)).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Publish {
    /// A client's presence data.
    Presence(ClientId, Value),
    /// The room's metadata in the directory.
    Metadata(Value),
    /// The most clients the room seats (`None`: no limit of its own).
    Capacity(Option<u32>),
    /// Whether the room takes new clients.
    Locked(bool),
}

/// A reserved seat: where to connect, and the token that holds the seat
/// (`docs/protocol.md`, "Matchmaking").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The room's kind.
    pub kind: String,
    /// The room's id.
    pub room: String,
    /// The single-use token; join with `?reservation={token}`.
    pub reservation: String,
    /// The path to connect to, token included:
    /// `/ws/{kind}/{room}?reservation={token}`.
    pub url: String,
    /// How long the seat is held, in milliseconds.
    pub expires_in_ms: u64,
    /// Whether the room was created for this call.
    pub created: bool,
}
