//! The ownership registry's contract: who holds a room's lease (`Holder`),
//! what taking one found, what a node's heartbeat found, and the
//! `Ownership` trait the Redis engine implements (another engine, Postgres,
//! could follow without touching the rest of the cluster).

use crate::engine::store::StoreError;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Who holds a room's lease: `node|boot|fence|addr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The node's id.
    pub node: String,
    /// Its process's boot id.
    pub boot: String,
    /// The fence it holds.
    pub fence: u64,
    /// Its internal address.
    pub addr: String,
}

impl Holder {
    /// The lease's stored value.
    #[must_use]
    pub(crate) fn encode(&self) -> String {
        format!("{}|{}|{}|{}", self.node, self.boot, self.fence, self.addr)
    }

    /// Reads a stored value.
    #[must_use]
    pub(crate) fn decode(value: &str) -> Option<Holder> {
        let mut parts = value.splitn(4, '|');
        Some(Holder {
            node: parts.next()?.to_owned(),
            boot: parts.next()?.to_owned(),
            fence: parts.next()?.parse().ok()?,
            addr: parts.next()?.to_owned(),
        })
    }
}

/// What [`Ownership::acquire`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The lease is this node's now (or already was), at this fence.
    Mine(Holder),
    /// Another live node holds it.
    Theirs(Holder),
}

/// What a node's heartbeat found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Heartbeat {
    /// The heartbeat still named this boot: nobody could judge it dead.
    Kept,
    /// It had lapsed: other nodes may have judged this one dead and taken
    /// its rooms (the renewal that follows at once says which).
    Lapsed,
    /// An operator revoked this boot: its rooms are other nodes' now.
    Revoked,
}

/// A future of the registry.
pub(crate) type RegistryFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Who owns which room: leases with a TTL and a fence that only grows.
pub(crate) trait Ownership: Send + Sync + 'static {
    /// Takes `key`'s lease for `me` (fence: one above any used before) if it
    /// is free, held by this node (any boot: an earlier one is dead), or
    /// still holds exactly `dead` (a lease of a node judged dead); else says
    /// who holds it.
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        me: &'a Holder,
        ttl: Duration,
        dead: Option<&'a str>,
    ) -> RegistryFuture<'a, Acquired>;

    /// Writes `me`'s heartbeat in `service` for `ttl`.
    fn heartbeat<'a>(
        &'a self,
        service: &'a str,
        me: &'a Holder,
        ttl: Duration,
    ) -> RegistryFuture<'a, Heartbeat>;

    /// `node`'s heartbeat: its live boot id, `revoked|{boot}`, or nothing.
    fn node<'a>(&'a self, service: &'a str, node: &'a str) -> RegistryFuture<'a, Option<String>>;

    /// Every node with a heartbeat (or a revocation) in `service`.
    fn nodes<'a>(&'a self, service: &'a str) -> RegistryFuture<'a, Vec<(String, String)>>;

    /// Revokes `node`'s live boot for `ttl`; whether it had one.
    fn revoke<'a>(
        &'a self,
        service: &'a str,
        node: &'a str,
        ttl: Duration,
    ) -> RegistryFuture<'a, bool>;

    /// Who holds `key`'s lease.
    fn holder<'a>(&'a self, key: &'a str) -> RegistryFuture<'a, Option<Holder>>;

    /// Extends each lease still held with exactly this value; per lease,
    /// whether it was.
    fn renew<'a>(
        &'a self,
        leases: Vec<(String, String)>,
        ttl: Duration,
    ) -> RegistryFuture<'a, Vec<bool>>;

    /// Whether the store answers at all (`/readyz` on a node with no lease).
    fn ping(&self) -> RegistryFuture<'_, ()>;

    /// Gives `key`'s lease up if it still holds `value`.
    fn release<'a>(&'a self, key: &'a str, value: &'a str) -> RegistryFuture<'a, ()>;

    /// Writes (`field`, `value`) entries into `service`'s directory and
    /// removes `removed` fields.
    fn publish<'a>(
        &'a self,
        service: &'a str,
        written: Vec<(String, String)>,
        removed: Vec<String>,
    ) -> RegistryFuture<'a, ()>;

    /// Every entry of `service`'s directory.
    fn directory<'a>(&'a self, service: &'a str) -> RegistryFuture<'a, Vec<(String, String)>>;

    /// Removes `(field, value)` entries that still hold exactly that value
    /// (expired ones, so that a dead node's rooms do not pile up).
    fn prune<'a>(
        &'a self,
        service: &'a str,
        expired: Vec<(String, String)>,
    ) -> RegistryFuture<'a, ()>;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn holders_round_trip_even_with_bars_in_the_address() {
        let holder = Holder {
            node: "a".into(),
            boot: "00ff".into(),
            fence: 42,
            addr: "[::1]:7000|x".into(),
        };
        assert_eq!(Holder::decode(&holder.encode()).unwrap(), holder);
        assert!(Holder::decode("a|b|notanumber|c").is_none());
    }
}
