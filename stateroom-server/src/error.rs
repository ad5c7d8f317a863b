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
    /// The cluster could not be joined: the registry is unreachable, its
    /// durability is not enough for gated persistence, or the internal
    /// port is not protected.
    #[error("cluster: {0}")]
    Cluster(String),
    /// The static directory (`--static-dir`) is missing or not a directory.
    #[error("cannot serve files from {dir}: {source}")]
    StaticDir {
        /// The directory that was asked for.
        dir: std::path::PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}
