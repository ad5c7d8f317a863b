//! More than one node: each room has one owner, named by a lease in an
//! ownership registry (Redis), with a fencing token that only grows and that
//! the store checks on every save. A node that receives a join for a room
//! it does not own takes the lease (the room then loads its last committed
//! snapshot) or, when another node holds it, forwards the WebSocket upgrade
//! to that node's internal address (`proxy`). Leases are renewed every
//! TTL/3; a node that cannot renew in time fences its rooms itself:
//! held frames are dropped, clients get 1012 and reconnect to the next owner.
//!
//! The registry and the store are traits ([`Ownership`] and `RoomStore`),
//! so another engine (Postgres) can follow without touching the room loop.
//! `docs/scale-out.md` has the design and its guarantees.

pub(crate) mod directory;
mod head;
pub(crate) mod link;
mod liveness;
mod ownership;
pub(crate) mod proxy;
#[cfg(feature = "cluster")]
pub(crate) mod redis;
mod renewal;

pub(crate) use liveness::NodeState;
#[cfg(feature = "cluster")]
pub(crate) use ownership::RegistryFuture;
pub(crate) use ownership::{Acquired, Heartbeat, Holder, Ownership};

use crate::engine::cluster_metrics::ClusterMetrics;
use crate::engine::leases::{LeaseView, Leases};
use crate::engine::store::StoreError;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

/// One lease this node holds.
struct Lease {
    holder: Holder,
    /// When the room must stop, unless a renewal succeeds first: measured
    /// on this node's monotonic clock from when the last successful renewal
    /// was sent.
    deadline: Instant,
    /// Tells the room it is fenced.
    fenced: watch::Sender<bool>,
}

/// Where a room lives, as far as this node can tell.
pub(crate) enum Placement {
    /// Here: serve it.
    Here,
    /// At another node (its lease names it and its internal address).
    There(Holder),
}

/// A node of a cluster.
pub(crate) struct Cluster {
    pub(crate) registry: Arc<dyn Ownership>,
    /// The service's name, the first half of each room key.
    service: String,
    me: Holder,
    ttl: Duration,
    /// How long a node's heartbeat lasts: a node silent this long is dead,
    /// and its rooms may move (`liveness`).
    node_ttl: Duration,
    /// This node's heartbeat, as far as it knows.
    liveness: Mutex<liveness::Liveness>,
    /// Asks the renewal loop to renew at once (the heartbeat had lapsed).
    renew_now: tokio::sync::Notify,
    pub(crate) secret: Option<String>,
    leases: Mutex<HashMap<String, Lease>>,
    /// One acquisition at a time: two joins racing for a free room must not
    /// both take it (the second would bump the fence under the first).
    acquiring: tokio::sync::Mutex<()>,
    /// The directory: what this node last published, and where the other
    /// nodes' rooms are.
    pub(crate) directory: directory::Published,
    /// Whether the last exchange with the store (a renewal, or a ping when
    /// no lease is held) succeeded.
    reachable: std::sync::atomic::AtomicBool,
    /// The node's `stateroom_cluster_*` metrics, when metrics are on.
    pub(crate) metrics: std::sync::OnceLock<ClusterMetrics>,
    /// This node's links to the nodes it forwards joins to.
    pub(crate) links: link::Links,
}

impl Cluster {
    #[cfg(feature = "cluster")]
    pub(crate) fn new(
        registry: Arc<dyn Ownership>,
        service: String,
        node: String,
        addr: std::net::SocketAddr,
        (ttl, node_ttl): (Duration, Duration),
        secret: Option<String>,
    ) -> Arc<Cluster> {
        let mut boot = [0u8; 8];
        let _ = getrandom::fill(&mut boot);
        let boot = boot.iter().map(|b| format!("{b:02x}")).collect();
        let me = Holder {
            node,
            boot,
            fence: 0,
            addr: addr.to_string(),
        };
        info!(node = %me.node, boot = %me.boot, internal = %me.addr, "cluster node");
        Arc::new(Cluster {
            registry,
            service,
            me,
            ttl,
            node_ttl,
            liveness: Mutex::new(liveness::Liveness::default()),
            renew_now: tokio::sync::Notify::new(),
            secret,
            leases: Mutex::new(HashMap::new()),
            acquiring: tokio::sync::Mutex::new(()),
            directory: directory::Published::default(),
            reachable: std::sync::atomic::AtomicBool::new(true),
            metrics: std::sync::OnceLock::new(),
            links: link::Links::default(),
        })
    }

    fn key(&self, room: &str) -> String {
        room_key(&self.service, room)
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lease>> {
        self.leases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A renewal sent at `sent` that succeeds keeps the lease until then.
    fn deadline_from(&self, sent: Instant) -> Instant {
        // A margin for the clock drift between this node and Redis.
        sent + self.ttl.mul_f64(0.8)
    }

    /// Decides where `room` is served, taking its lease when it is free or
    /// its holder is dead (its heartbeat lapsed or was revoked).
    pub(crate) async fn place(&self, room: &str) -> Result<Placement, StoreError> {
        if self.leases().contains_key(room) {
            return Ok(Placement::Here);
        }
        if self.liveness_state() == NodeState::Revoked {
            return Err(StoreError::backend(
                "cluster",
                "an operator revoked this node; it takes no room until its revocation lapses",
            ));
        }
        let _one = self.acquiring.lock().await;
        if self.leases().contains_key(room) {
            return Ok(Placement::Here);
        }
        let sent = Instant::now();
        let key = self.key(room);
        let holder = match self
            .registry
            .acquire(&key, &self.me, self.ttl, None)
            .await?
        {
            Acquired::Mine(holder) => return Ok(self.adopt(room, holder, sent)),
            Acquired::Theirs(holder) => holder,
        };
        if !self.dead(&holder).await? {
            return Ok(Placement::There(holder));
        }
        let sent = Instant::now();
        let dead = holder.encode();
        match self
            .registry
            .acquire(&key, &self.me, self.ttl, Some(&dead))
            .await?
        {
            Acquired::Mine(mine) => {
                info!(room, dead = %holder.node, fence = mine.fence, "took over a dead node's room");
                if let Some(metrics) = self.metrics.get() {
                    metrics.takeovers.inc();
                }
                Ok(self.adopt(room, mine, sent))
            }
            Acquired::Theirs(other) => Ok(Placement::There(other)),
        }
    }

    /// Records a lease just taken (acquired at `sent`).
    fn adopt(&self, room: &str, holder: Holder, sent: Instant) -> Placement {
        if let Some(metrics) = self.metrics.get() {
            metrics.acquisitions.inc();
        }
        let mut leases = self.leases();
        if !leases.contains_key(room) {
            info!(room, fence = holder.fence, "lease taken");
            let (fenced, _) = watch::channel(false);
            leases.insert(
                room.to_owned(),
                Lease {
                    holder,
                    deadline: self.deadline_from(sent),
                    fenced,
                },
            );
        }
        Placement::Here
    }

    /// The lease of a room about to open here.
    fn lease_of(&self, room: &str) -> Option<LeaseView> {
        self.leases().get(room).map(|lease| LeaseView {
            fence: lease.holder.fence,
            fenced: lease.fenced.subscribe(),
        })
    }

    /// Whether `room`'s lease is still good (its deadline has not passed).
    pub(crate) fn holds_now(&self, room: &str) -> bool {
        self.leases()
            .get(room)
            .is_some_and(|lease| Instant::now() < lease.deadline)
    }

    /// Gives up `room`'s lease (its room has unloaded, its last save durable).
    async fn release_one(&self, room: &str) {
        let Some(value) = self.leases().get(room).map(|lease| lease.holder.encode()) else {
            return;
        };
        // In the table until Redis has it back, so that a drain waits for it.
        if let Err(error) = self.registry.release(&self.key(room), &value).await {
            warn!(room, %error, "could not release a lease; it expires by itself");
        }
        let mut leases = self.leases();
        if leases
            .get(room)
            .is_some_and(|lease| lease.holder.encode() == value)
        {
            leases.remove(room);
        }
    }

    /// Gives up every lease (the end of a drain).
    pub(crate) async fn release_all(&self) {
        let rooms: Vec<String> = self.leases().keys().cloned().collect();
        for room in rooms {
            self.release_one(&room).await;
        }
    }
}

/// The default node id: the host name (or `node`), and the port.
/// The name of one room across the cluster, `{service}:{room}`: its lease,
/// its fence and its snapshot are all keyed by it, so a save's fence is the
/// one its lease was granted.
pub(crate) fn room_key(service: &str, room: &str) -> String {
    format!("{service}:{room}")
}

#[cfg(feature = "cluster")]
pub(crate) fn default_node_id(port: u16) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{port}")
}

impl Leases for Cluster {
    fn lease(&self, room: &str) -> Option<LeaseView> {
        self.lease_of(room)
    }

    fn not_ready(&self) -> Option<&'static str> {
        if self.liveness_state() == NodeState::Revoked {
            Some("revoked")
        } else if self.reachable.load(std::sync::atomic::Ordering::Relaxed) {
            None
        } else {
            Some("store_unreachable")
        }
    }

    fn holds(&self, room: &str) -> bool {
        self.holds_now(room)
    }

    fn release<'a>(&'a self, room: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(self.release_one(room))
    }
}
