//! What every part of a running server shares: its configuration, the room
//! registry, its metrics, and how to start a room of the served service.

use crate::config::Server;
use crate::event::RoomEvent;
use crate::metrics::Metrics;
use crate::persistence::Persistence;
use crate::rooms::{RoomInfo, Rooms};
use std::sync::Arc;
use tokio::sync::mpsc;

/// How a room task of the served service type is started; the only place the
/// service's type is needed, so everything else is not generic.
pub(crate) type SpawnRoomFn =
    fn(Arc<Shared>, Arc<str>, u64, Arc<RoomInfo>, mpsc::Receiver<RoomEvent>);

/// What every part of a running server shares.
pub(crate) struct Shared {
    pub(crate) config: Server,
    pub(crate) rooms: Rooms,
    pub(crate) spawn_room: SpawnRoomFn,
    /// `None` when metrics are off.
    pub(crate) metrics: Option<Arc<Metrics>>,
    /// `Some` when the service is persisted.
    pub(crate) persistence: Option<Arc<Persistence>>,
    /// The service's rooms answer HTTP (it has a `request` hook).
    pub(crate) answers_http: bool,
}
