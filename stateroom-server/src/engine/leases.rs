//! What a room asks of the cluster it may live in: the lease it opened
//! under, whether that lease still holds, and giving it back. The edge's
//! cluster (`crate::edge::cluster`) implements it; the engine never sees
//! Redis or the internal transport.

use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

/// The lease of a room about to open on this node.
pub(crate) struct LeaseView {
    /// The fence its saves carry.
    pub(crate) fence: u64,
    /// Becomes true when the room must stop at once.
    pub(crate) fenced: watch::Receiver<bool>,
}

/// This node's leases, as rooms see them.
pub(crate) trait Leases: Send + Sync {
    /// The lease of `room`, if this node holds it.
    fn lease(&self, room: &str) -> Option<LeaseView>;
    /// Whether `room`'s lease is still good (its deadline has not passed).
    fn holds(&self, room: &str) -> bool;
    /// Why this node should get no new clients, if it should not
    /// (`/readyz`): `store_unreachable` while its last exchange with the
    /// cluster's store failed, `revoked` while an operator's revocation
    /// holds.
    fn not_ready(&self) -> Option<&'static str>;
    /// Gives `room`'s lease back (its last save is durable).
    fn release<'a>(&'a self, room: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}
