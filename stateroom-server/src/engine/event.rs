//! What connections tell rooms: the events a room's queue carries, in the
//! order they happened.

use crate::engine::outbox::Outbox;
use crate::engine::resume::ResumeRequest;
use crate::engine::room_core::Gone;
use bytes::Bytes;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use stateroom_core::{
    ClientData, ClientId, Command, CommandError, JoinRequest, Reject, Reply, RoomRequest,
    RoomResponse,
};
use std::sync::Arc;
use tokio::sync::oneshot;

/// A connection opening for an admitted client.
pub(crate) struct Arrival {
    /// The connection's own id: the client's, unless it resumes a session.
    pub(crate) conn: ClientId,
    pub(crate) outbox: Arc<Outbox>,
    /// What the `join` hook attached.
    pub(crate) data: ClientData,
    pub(crate) resume: Option<ResumeRequest>,
    /// Told which client the connection is.
    pub(crate) reply: oneshot::Sender<ClientId>,
}

/// Something that happened to a room, in the order it happened. Events from a
/// connection carry the client and the connection (`conn`): a client that
/// resumed on a new connection ignores what its old one still says.
pub(crate) enum RoomEvent {
    /// May this request join? (Runs the `join` hook.)
    Join {
        request: Box<JoinRequest>,
        reply: oneshot::Sender<Result<ClientData, Reject>>,
    },
    Connect(Box<Arrival>),
    /// Reserve a seat for a matchmade client (`engine::matchmaker`).
    Reserve {
        options: serde_json::Value,
        /// A room the matchmaker created: its first metadata.
        seed: Option<serde_json::Value>,
        reply: oneshot::Sender<Result<String, crate::engine::listing::NoSeat>>,
    },
    Text {
        client: ClientId,
        conn: ClientId,
        text: Utf8Bytes,
    },
    Binary {
        client: ClientId,
        conn: ClientId,
        data: Bytes,
    },
    /// The connection ended.
    Gone {
        client: ClientId,
        conn: ClientId,
        how: Gone,
    },
    /// Close the client's connection with `frame` once everything the room sent
    /// it so far (replies to its earlier messages included) is delivered.
    Close {
        client: ClientId,
        conn: ClientId,
        frame: CloseFrame,
    },
    /// A command from a server-side handle.
    Command {
        command: Command,
        reply: oneshot::Sender<Result<Reply, CommandError>>,
    },
    /// An HTTP request to the room (`join` decides, then `request` answers).
    Request {
        request: Box<(JoinRequest, RoomRequest)>,
        reply: oneshot::Sender<Result<RoomResponse, Reject>>,
    },
    /// Text for every client, from a server-side handle.
    Broadcast {
        text: Utf8Bytes,
    },
    /// The room ends (the server is shutting down, or an operator closed it):
    /// close every client with 1001 and `reason`, and free the room once empty.
    End {
        reason: &'static str,
    },
}
