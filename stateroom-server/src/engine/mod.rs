//! The engine: rooms and their state, with no HTTP, sockets or cluster
//! transport in it. The edge (`crate::edge`) feeds it events and drains the
//! outboxes it fills; nothing here imports the edge.
//!
//! - [`room`]: the task that owns one room and serialises its events;
//! - `room_core`, `members`, `gate`, `resume`, `timers`: a room's logic
//!   without I/O (its service, clients, held output, sessions and timers),
//!   shared with the test kit;
//! - `outbox`: one client's bounded queue of frames; `event`: what the edge
//!   tells a room;
//! - `registry`: the live rooms, their claims and counts; `handle`: reaching
//!   a room from Rust code outside it;
//! - `persistence` and `store`: snapshots, the group-committing writer, and
//!   the store trait with its SQLite implementation;
//! - `leases`: the one thing the engine asks of a cluster (is this room
//!   still ours?), as a trait the edge's cluster implements;
//! - `metrics`, `stats`, `client_ids`: counts and the process-wide id floor;
//! - `shards`: the threads rooms and their connections run on under `serve`.

pub(crate) mod client_ids;
pub(crate) mod cluster_metrics;
pub(crate) mod cluster_rooms;
pub(crate) mod directory;
pub(crate) mod event;
pub(crate) mod gate;
pub(crate) mod handle;
pub(crate) mod idempotency;
pub(crate) mod inbound;
pub(crate) mod kinds;
pub(crate) mod leases;
pub(crate) mod listing;
pub(crate) mod matchmaker;
pub(crate) mod members;
pub(crate) mod metrics;
pub(crate) mod outage;
pub(crate) mod outbox;
pub(crate) mod outlet;
pub(crate) mod persistence;
pub(crate) mod presence;
pub(crate) mod registry;
pub(crate) mod resume;
pub(crate) mod room;
pub(crate) mod room_core;
pub(crate) mod shards;
pub(crate) mod snapshot;
pub(crate) mod stats;
pub mod store;
pub(crate) mod sync;
pub(crate) mod timers;
#[cfg(feature = "yjs")]
pub(crate) mod yjs;

use crate::config::Server;
use event::RoomEvent;
use kinds::{Kinds, Located};
use leases::Leases;
use metrics::Metrics;
use persistence::Persistence;
use registry::{JoinRefused, Membership, Registry};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What every room of a running server shares.
pub(crate) struct Engine {
    pub(crate) config: Server,
    pub(crate) rooms: Registry,
    /// The services this server hosts.
    pub(crate) kinds: Kinds,
    /// `None` when metrics are off.
    pub(crate) metrics: Option<Arc<Metrics>>,
    /// `Some` when the service is persisted.
    pub(crate) persistence: Option<Arc<Persistence>>,
    /// In a cluster: this node's leases.
    pub(crate) leases: Option<Arc<dyn Leases>>,
    /// In a cluster: the other nodes' rooms, and reaching them.
    pub(crate) cluster: Option<Arc<dyn cluster_rooms::ClusterRooms>>,
    /// Under [`Server::serve`]: the threads rooms run on; `None`: the
    /// caller's runtime.
    pub(crate) shards: Option<Arc<shards::Shards>>,
}

impl Engine {
    /// Where a new room (or a forwarded connection's relay) runs: the shard
    /// with the fewest rooms, or the caller's runtime without shards.
    pub(crate) fn place(&self) -> shards::Place {
        self.shards
            .as_ref()
            .map(|shards| shards.place())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

/// A place claimed in a room (starting the room if it is not live), given
/// back when dropped unless kept: a refused join, a client that hangs up
/// while its room decides (hyper then drops the request's future), or a
/// room only created from outside all free it.
pub(crate) struct Claim {
    engine: Arc<Engine>,
    membership: Membership,
    kept: bool,
}

impl Claim {
    /// Claims a place in the room `located` within the server's limits.
    pub(crate) fn take(engine: &Arc<Engine>, located: &Located) -> Result<Self, JoinRefused> {
        let spawn = |key, generation, entry, queue| {
            let kind = located.kind.clone();
            let place = engine.place();
            let turns =
                (located.kind.spawn)(engine.clone(), kind, key, generation, entry, queue, &place);
            (place, turns)
        };
        let membership = engine
            .rooms
            .join(&located.key, &engine.config.limits, &spawn)?;
        Ok(Claim {
            engine: engine.clone(),
            membership,
            kept: false,
        })
    }

    /// The room's event queue.
    pub(crate) fn events(&self) -> &mpsc::Sender<RoomEvent> {
        self.membership.events()
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
            self.engine.rooms.leave(&self.membership);
        }
    }
}

/// A live lobby's place among the server's connections, given back when
/// dropped.
pub(crate) struct Watcher {
    engine: Arc<Engine>,
}

impl Watcher {
    pub(crate) fn take(engine: &Arc<Engine>) -> Result<Self, JoinRefused> {
        engine.rooms.enter_watcher(&engine.config.limits)?;
        Ok(Watcher {
            engine: engine.clone(),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.engine.rooms.release_connection();
    }
}
