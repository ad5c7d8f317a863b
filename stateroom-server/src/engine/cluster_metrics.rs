//! A cluster node's metrics (`stateroom_cluster_*`), registered only on a
//! node of a cluster: its leases, their renewals and failures, the rooms it
//! fenced, and whether it reaches the cluster's store. The edge's cluster
//! updates them as it renews; the alert rules in `docs/production.md` read
//! them.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The cluster's counters and gauges (cheap clones of the registered ones).
#[derive(Clone, Debug, Default)]
pub(crate) struct ClusterMetrics {
    /// Leases renewed (one per room per renewal).
    pub(crate) renewals: Counter,
    /// Renewal rounds that failed (Redis unreachable or too slow).
    pub(crate) renewal_failures: Counter,
    /// Rooms this node fenced (lease lost, or not renewed in time).
    pub(crate) fenced: Counter,
    /// Rooms whose lease this node holds.
    pub(crate) leases: Gauge,
    /// 1 while the last exchange with the store succeeded, else 0.
    pub(crate) store_reachable: Gauge,
}

impl ClusterMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "cluster_lease_renewals",
            "Leases renewed (one per room per renewal)",
            self.renewals.clone(),
        );
        registry.register(
            "cluster_lease_renewal_failures",
            "Renewal rounds that failed (the store unreachable or too slow)",
            self.renewal_failures.clone(),
        );
        registry.register(
            "cluster_rooms_fenced",
            "Rooms this node fenced: lease lost, or not renewed in time",
            self.fenced.clone(),
        );
        registry.register(
            "cluster_leases",
            "Rooms whose lease this node holds",
            self.leases.clone(),
        );
        registry.register(
            "cluster_store_reachable",
            "Whether this node reaches the cluster's store (Redis): 1 yes, 0 no",
            self.store_reachable.clone(),
        );
        self.store_reachable.set(1);
    }
}
