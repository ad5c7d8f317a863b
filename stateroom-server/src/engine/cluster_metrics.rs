//! A cluster node's metrics (`stateroom_cluster_*`, `stateroom_redis_*`),
//! registered only on a node of a cluster: its leases, their acquisitions,
//! takeovers, renewals and failures, its heartbeats' failures, the rooms it
//! fenced, whether it reaches the cluster's store, the joins it forwarded,
//! and each Redis command's latency and errors. The edge's cluster updates
//! them; the alert rules in `docs/production.md` and the dashboard in
//! `deploy/grafana/` read them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// What became of a forwarded join.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ForwardLabel {
    /// `upgraded` (the owner took the socket), `refused` (the owner
    /// answered something else), `unreachable` (no answer: the client
    /// retries).
    pub(crate) outcome: &'static str,
}

/// A Redis command (a script's name, or a plain command): code, not data.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CommandLabel {
    pub(crate) command: &'static str,
}

/// A histogram family's constructor.
type NewHistogram = fn() -> Histogram;

fn forward_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 14))
}

/// The cluster's counters and gauges (cheap clones of the registered ones).
#[derive(Clone, Debug)]
pub(crate) struct ClusterMetrics {
    /// Leases taken (a join for a free room, or a takeover).
    pub(crate) acquisitions: Counter,
    /// Leases taken over from a node judged dead.
    pub(crate) takeovers: Counter,
    /// Node heartbeats that failed.
    pub(crate) heartbeat_failures: Counter,
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
    /// Joins forwarded to the room's owner, by outcome.
    pub(crate) forwards: Family<ForwardLabel, Counter>,
    /// Time from forwarding a join to the owner's answer.
    pub(crate) forward_seconds: Histogram,
    /// Each Redis command's latency.
    pub(crate) redis_seconds: Family<CommandLabel, Histogram, NewHistogram>,
    /// Each Redis command's errors (timeouts, refused connections).
    pub(crate) redis_errors: Family<CommandLabel, Counter>,
}

impl Default for ClusterMetrics {
    fn default() -> Self {
        ClusterMetrics {
            acquisitions: Counter::default(),
            takeovers: Counter::default(),
            heartbeat_failures: Counter::default(),
            renewals: Counter::default(),
            renewal_failures: Counter::default(),
            fenced: Counter::default(),
            leases: Gauge::default(),
            store_reachable: Gauge::default(),
            forwards: Family::default(),
            forward_seconds: forward_histogram(),
            redis_seconds: Family::new_with_constructor(forward_histogram),
            redis_errors: Family::default(),
        }
    }
}

impl ClusterMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "cluster_lease_acquisitions",
            "Leases this node took (a free room, or a dead node's)",
            self.acquisitions.clone(),
        );
        registry.register(
            "cluster_lease_takeovers",
            "Leases this node took over from a node judged dead (heartbeat lapsed or revoked)",
            self.takeovers.clone(),
        );
        registry.register(
            "cluster_heartbeat_failures",
            "Node heartbeats that failed (the store unreachable or too slow)",
            self.heartbeat_failures.clone(),
        );
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
        registry.register(
            "cluster_forwarded_joins",
            "Joins forwarded to the room's owner, by outcome: upgraded, refused, unreachable",
            self.forwards.clone(),
        );
        registry.register(
            "cluster_forward_seconds",
            "Time from forwarding a join to the owner's answer",
            self.forward_seconds.clone(),
        );
        registry.register(
            "redis_command_seconds",
            "Latency of each Redis command the node sent (scripts by name)",
            self.redis_seconds.clone(),
        );
        registry.register(
            "redis_errors",
            "Redis commands that failed (timeouts, lost connections), by command",
            self.redis_errors.clone(),
        );
        for outcome in ["upgraded", "refused", "unreachable"] {
            let _ = self.forwards.get_or_create(&ForwardLabel { outcome });
        }
        // The commands a node sends all the time, at 0 errors from the start.
        for command in ["acquire", "renew", "heartbeat", "save", "load", "release"] {
            let _ = self.redis_errors.get_or_create(&CommandLabel { command });
        }
        self.store_reachable.set(1);
    }

    /// Records a forwarded join by the status the owner answered: 101
    /// `upgraded`, another `refused` (a 401, a full room's 503), none
    /// `unreachable` (the client was told to retry).
    pub(crate) fn forwarded(&self, answered: Option<u16>, took: std::time::Duration) {
        let outcome = match answered {
            Some(101) => "upgraded",
            Some(_) => "refused",
            None => "unreachable",
        };
        self.forwards.get_or_create(&ForwardLabel { outcome }).inc();
        self.forward_seconds.observe(took.as_secs_f64());
    }

    /// Records one Redis command: its time, and whether it failed.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn redis(&self, command: &'static str, took: std::time::Duration, ok: bool) {
        let label = CommandLabel { command };
        self.redis_seconds
            .get_or_create(&label)
            .observe(took.as_secs_f64());
        if !ok {
            self.redis_errors.get_or_create(&label).inc();
        }
    }
}
