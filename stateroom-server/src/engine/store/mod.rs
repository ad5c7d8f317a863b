//! Where persisted rooms live: the [`RoomStore`] trait, small enough that a
//! networked store (Redis, Postgres) implements it without touching the room
//! loop, and the embedded default, `SqliteStore` (feature `sqlite`).
//!
//! A save carries a fence number: the store refuses one older than the
//! newest it has committed for that room ([`SaveOutcome::StaleFence`]), so
//! that at most one owner ever commits a room's state.

use std::future::Future;
use std::pin::Pin;

#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// One room's stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRoom {
    /// The room's id.
    pub room_id: String,
    /// The owner's fence when this was committed.
    pub fence: u64,
    /// The room's commit sequence number (grows by one per save).
    pub seq: u64,
    /// The service's `STATE_VERSION` that wrote `state`.
    pub state_version: u32,
    /// The service's state, as JSON.
    pub state: String,
    /// The runtime's metadata (timers, clients), as JSON.
    pub meta: String,
    /// When it was committed, in milliseconds since the Unix epoch.
    pub updated_at_ms: u64,
}

/// What a save did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Committed.
    Saved,
    /// Refused: the store holds this room at a newer fence (another owner).
    StaleFence,
}

/// Why a store failed, as variants a caller can match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the data directory (one server per directory).
    #[error("room store: {dir} is in use by another process (one server per data directory)")]
    Locked {
        /// The directory.
        dir: std::path::PathBuf,
    },
    /// The backend failed: I/O, a full disk, SQLite, a lost Redis
    /// connection.
    #[error("room store: {backend}: {message}")]
    Backend {
        /// Which backend (`sqlite`, `redis`, `io`, or a store's own name).
        backend: &'static str,
        /// What it said.
        message: String,
    },
    /// Stored data does not decode (a damaged row or lease).
    #[error("room store: stored data does not decode: {0}")]
    Corrupt(String),
    /// The server's writer stopped (the process is ending).
    #[error("room store: the writer stopped")]
    WriterStopped,
}

impl StoreError {
    /// A backend's failure.
    pub fn backend(backend: &'static str, message: impl std::fmt::Display) -> Self {
        StoreError::Backend {
            backend,
            message: message.to_string(),
        }
    }
}

/// What a store's operations return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Persistence for rooms: load, save a batch, delete, list.
///
/// Implementations must make [`save_batch`](Self::save_batch) all or nothing
/// for the whole batch (one transaction: the runtime's writer groups many
/// rooms' saves into one), and must refuse, per room, a save whose fence is
/// older than the stored one.
pub trait RoomStore: Send + Sync + 'static {
    /// This process's fence: larger than any fence used before on this store.
    fn acquire_fence(&self) -> StoreFuture<'_, u64>;

    /// The stored snapshot of `room` of `service`, if any.
    fn load<'a>(&'a self, service: &'a str, room: &'a str) -> StoreFuture<'a, Option<StoredRoom>>;

    /// Commits every snapshot in `batch` at once; per room, `Saved` or
    /// `StaleFence`.
    fn save_batch<'a>(
        &'a self,
        service: &'a str,
        batch: Vec<StoredRoom>,
    ) -> StoreFuture<'a, Vec<SaveOutcome>>;

    /// Deletes `room`'s snapshot, unless it is held at a newer fence.
    fn delete<'a>(
        &'a self,
        service: &'a str,
        room: &'a str,
        fence: u64,
    ) -> StoreFuture<'a, SaveOutcome>;

    /// Every stored room of `service`, in id order.
    fn list<'a>(&'a self, service: &'a str) -> StoreFuture<'a, Vec<StoredRoom>>;

    /// The highest client id any stored room of `service` names (0 if none):
    /// the server hands out ids above it, so a restored client's id is never
    /// given to a new one.
    fn max_client_id<'a>(&'a self, service: &'a str) -> StoreFuture<'a, u32>;

    /// Deletes the rooms of `service` not saved since `before_ms` (Unix
    /// milliseconds); returns how many.
    fn expire<'a>(&'a self, service: &'a str, before_ms: u64) -> StoreFuture<'a, u64>;
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
