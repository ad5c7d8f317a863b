//! What every part of a running server shares: its configuration, the room
//! registry, its metrics, and how to start a room of the served service.

use crate::config::Server;
use crate::event::RoomEvent;
use crate::metrics::Metrics;
use crate::persistence::Persistence;
use crate::rooms::{JoinRefused, Membership, RoomInfo, Rooms};
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
    /// The user's files (`Server::static_dir`), if any.
    pub(crate) static_dir: Option<crate::files::StaticDir>,
    /// This node's part in a cluster, if it is in one.
    pub(crate) cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// A place claimed in a room (starting the room if it is not live), given
/// back when dropped unless kept: a refused join, a client that hangs up
/// while its room decides (hyper then drops the request's future), or a
/// room only created from outside all free it.
pub(crate) struct Claim {
    shared: Arc<Shared>,
    membership: Membership,
    kept: bool,
}

impl Claim {
    /// Claims a place in `room_id` within the server's limits.
    pub(crate) fn take(shared: &Arc<Shared>, room_id: &str) -> Result<Self, JoinRefused> {
        let spawn = |id, generation, info, events| {
            (shared.spawn_room)(shared.clone(), id, generation, info, events)
        };
        let membership = shared.rooms.join(room_id, &shared.config.limits, &spawn)?;
        Ok(Claim {
            shared: shared.clone(),
            membership,
            kept: false,
        })
    }

    /// The room's event queue.
    pub(crate) fn events(&self) -> &mpsc::Sender<RoomEvent> {
        &self.membership.events
    }

    /// The join goes ahead: the connection now owns the place.
    pub(crate) fn keep(mut self) -> Membership {
        self.kept = true;
        self.membership.clone()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.kept {
            self.shared.rooms.leave(&self.membership);
        }
    }
}
