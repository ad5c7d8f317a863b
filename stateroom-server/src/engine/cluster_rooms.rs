//! What the directory and matchmaking ask of a cluster: the rooms other
//! nodes own (as their owners publish them), which node runs a kind's
//! matchmaking, and reaching a room or a matchmaker on another node. The
//! edge's cluster (`crate::edge::cluster`) implements it, over Redis and
//! the internal port; the engine sees neither.

use crate::engine::directory::RoomInfo;
use crate::engine::listing::NoSeat;
use crate::engine::matchmaker::{MatchError, Reservation};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A future of the cluster.
pub(crate) type ClusterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The cluster, as the directory and the matchmaker see it.
pub(crate) trait ClusterRooms: Send + Sync {
    /// This node's id.
    fn node(&self) -> &str;

    /// The rooms other nodes own, as their owners last published them
    /// (`node` set); rooms whose owner stopped publishing have gone.
    fn remote_rooms(&self) -> ClusterFuture<'_, Vec<RoomInfo>>;

    /// Where `kind`'s matchmaking runs: `None` here, or the internal
    /// address of the node that runs it (one node per kind, so that each
    /// call sees the seats the one before took).
    fn matchmaker<'a>(&'a self, kind: &'a str)
    -> ClusterFuture<'a, Result<Option<String>, String>>;

    /// Runs a matchmaking call (`body` as `POST /matchmake` takes it) on
    /// the node at `addr`.
    fn matchmake_at<'a>(
        &'a self,
        addr: &'a str,
        kind: &'a str,
        body: String,
    ) -> ClusterFuture<'a, Result<Reservation, MatchError>>;

    /// Reserves a seat in `room` (a path), which another node owns.
    fn reserve_at<'a>(
        &'a self,
        room: &'a RoomInfo,
        options: Value,
    ) -> ClusterFuture<'a, Result<String, NoSeat>>;

    /// Takes the lease of a new room (`path`) here: `false` when another
    /// node holds it (or the registry cannot be reached).
    fn take_here<'a>(&'a self, path: &'a str) -> ClusterFuture<'a, bool>;
}
