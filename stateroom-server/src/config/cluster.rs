//! How a node joins a cluster.

use std::time::Duration;

/// How to join a cluster: [`Server::cluster`](crate::Server::cluster).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClusterOptions {
    /// The registry and store: `redis://host:port/db`, `redis+unix:///path`,
    /// or `redis+sentinel://host:port[,host:port…]/master[/db]`.
    pub url: String,
    /// This node's name in leases (default: the host name and the port).
    pub node_id: Option<String>,
    /// Where other nodes reach this one (`host:port`, bound as given; port
    /// 0 picks a free one). Must be an address peers can dial.
    pub internal_addr: String,
    /// How long a lease lasts without renewal.
    pub lease_ttl: Duration,
    /// How long a node's heartbeat lasts: a node silent this long is
    /// judged dead and its rooms move at their next join.
    pub node_ttl: Duration,
    /// The secret nodes present to each other on the internal port;
    /// required unless the internal address is loopback.
    pub secret: Option<String>,
    /// How many Redis replicas must confirm a save or a lease taken before
    /// it counts (`WAIT`): `None` is 1 with a `redis+sentinel://` URL,
    /// else 0.
    pub wait_replicas: Option<usize>,
    /// Start a gated persisted service on a Redis that can lose
    /// acknowledged writes (no `appendonly yes` + `appendfsync always`).
    pub accept_redis_durability: bool,
}

impl ClusterOptions {
    /// Options for the registry at `url`, with an internal port on loopback,
    /// a 10-second lease and a 2-second node heartbeat.
    pub fn new(url: impl Into<String>) -> Self {
        ClusterOptions {
            url: url.into(),
            node_id: None,
            internal_addr: super::defaults::INTERNAL_ADDR.to_owned(),
            lease_ttl: super::defaults::duration(super::defaults::LEASE_TTL),
            node_ttl: super::defaults::duration(super::defaults::NODE_TTL),
            secret: None,
            wait_replicas: None,
            accept_redis_durability: false,
        }
    }

    /// This node's name.
    #[must_use]
    pub fn node_id(mut self, id: impl Into<String>) -> Self {
        self.node_id = Some(id.into());
        self
    }

    /// The internal address (`host:port`).
    #[must_use]
    pub fn internal_addr(mut self, addr: impl Into<String>) -> Self {
        self.internal_addr = addr.into();
        self
    }

    /// The lease's time to live.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// The node heartbeat's time to live: how long a dead node's rooms
    /// wait before they move.
    #[must_use]
    pub fn node_ttl(mut self, ttl: Duration) -> Self {
        self.node_ttl = ttl;
        self
    }

    /// The shared secret of the internal port.
    #[must_use]
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// How many replicas confirm each save and lease (`WAIT`) before it
    /// counts.
    #[must_use]
    pub fn wait_replicas(mut self, replicas: usize) -> Self {
        self.wait_replicas = Some(replicas);
        self
    }

    /// The replicas a save waits for: as set, else 1 behind Sentinel.
    pub(crate) fn replicas_to_wait_for(&self) -> usize {
        self.wait_replicas
            .unwrap_or(usize::from(self.url.starts_with("redis+sentinel://")))
    }

    /// Accept a Redis whose configuration can lose acknowledged writes.
    #[must_use]
    pub fn accept_redis_durability(mut self, accept: bool) -> Self {
        self.accept_redis_durability = accept;
        self
    }
}
