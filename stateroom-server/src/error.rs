//! The errors starting a server can produce.

/// Why a server could not start or keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The listening address could not be bound (in use, not permitted, bad host).
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The `host:port` that was asked for.
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Any other I/O failure (for example starting the runtime).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A persisted service's store could not be opened (its directory is
    /// locked by another process, the database cannot be opened, …).
    #[error(transparent)]
    Store(crate::engine::store::StoreError),
    /// The cluster could not be joined.
    #[error("cluster: {0}")]
    Cluster(#[from] ClusterError),
    /// A persisted service has no store: this build has no embedded one
    /// (the `sqlite` feature is off) and none was given
    /// ([`Server::store`](crate::Server::store)).
    #[error("a persisted service needs a store: enable the `sqlite` feature or call Server::store")]
    NoStore,
    /// The room kinds given to [`Server::room`](crate::Server::room) cannot
    /// be served.
    #[error(transparent)]
    Kind(#[from] crate::engine::kinds::KindError),
    /// The static directory (`--static-dir`) is missing or not a directory.
    #[error("cannot serve files from {dir}: {source}")]
    StaticDir {
        /// The directory that was asked for.
        dir: std::path::PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// Why a node could not join its cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The registry (Redis) is unreachable or failed.
    #[error("the registry: {0}")]
    Registry(crate::engine::store::StoreError),
    /// The internal address is not loopback and no secret protects it.
    #[error(
        "the internal address {addr} is not loopback: set STATEROOM_CLUSTER_SECRET (or --cluster-secret-file) so that only nodes use it"
    )]
    UnprotectedInternalPort {
        /// The internal address.
        addr: std::net::SocketAddr,
    },
    /// Redis can lose acknowledged writes, which gated persistence does not
    /// allow (unless accepted with `--accept-redis-durability`).
    #[error(
        "Redis can lose acknowledged writes ({config}); gated persistence needs `appendonly yes` and `appendfsync always`, or --accept-redis-durability"
    )]
    RedisNotDurable {
        /// What Redis's configuration says.
        config: String,
    },
    /// [`Server::embed`](crate::Server::embed) cannot join a cluster: a
    /// node needs its own listeners.
    #[error("a cluster node needs its own listeners: use Server::start, not embed")]
    NeedsListeners,
}
