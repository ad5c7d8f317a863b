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
    /// A doc room's Yjs document (empty for other rooms).
    pub doc: StoredDoc,
}

/// A doc room's Yjs document as the store keeps it: a base state, the
/// updates logged after it, and its named versions. The document is the
/// base with every update applied in order.
///
/// On [`load`](RoomStore::load) every field holds what is stored
/// ([`list`](RoomStore::list) leaves it empty). On
/// [`save_batch`](RoomStore::save_batch) it says what to change, in the
/// same transaction as the snapshot and under the same fence: a `base`
/// replaces the stored base and clears the log (a compaction), then
/// `updates` are appended, and `versions`, when `Some`, replace the stored
/// list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// The compacted state the log starts from (Yjs v1 update encoding).
    pub base: Option<Vec<u8>>,
    /// The updates after the base, in the order they were applied.
    pub updates: Vec<Vec<u8>>,
    /// The document's named versions.
    pub versions: Option<Vec<DocVersion>>,
}

impl StoredDoc {
    /// This save's changes followed by `later`'s, as one save: a later base
    /// replaces everything before it, updates append, later versions win.
    #[must_use]
    pub fn then(self, later: StoredDoc) -> StoredDoc {
        if later.base.is_some() {
            return StoredDoc {
                versions: later.versions.or(self.versions),
                ..later
            };
        }
        let mut updates = self.updates;
        updates.extend(later.updates);
        StoredDoc {
            base: self.base,
            updates,
            versions: later.versions.or(self.versions),
        }
    }

    /// Whether a save carries nothing for the document.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.updates.is_empty() && self.versions.is_none()
    }
}

/// A named version of a doc room's document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocVersion {
    /// Its name, unique in the room.
    pub name: String,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The whole document then (Yjs v1 update encoding).
    pub state: Vec<u8>,
}

impl DocVersion {
    /// The version as one byte string (its time, big-endian, then the
    /// state), for stores that keep it as one value.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(8 + self.state.len());
        bytes.extend_from_slice(&self.at_ms.to_be_bytes());
        bytes.extend_from_slice(&self.state);
        bytes
    }

    /// Reads back what [`encode`](Self::encode) wrote.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when it is shorter than its time.
    pub fn decode(name: String, bytes: &[u8]) -> Result<Self, StoreError> {
        let (at, state) = bytes.split_first_chunk::<8>().ok_or_else(|| {
            StoreError::Corrupt(format!("document version {name:?} is cut short"))
        })?;
        Ok(DocVersion {
            name,
            at_ms: u64::from_be_bytes(*at),
            state: state.to_vec(),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::StoredDoc;

    fn doc(base: Option<u8>, updates: &[u8], versions: bool) -> StoredDoc {
        StoredDoc {
            base: base.map(|b| vec![b]),
            updates: updates.iter().map(|u| vec![*u]).collect(),
            versions: versions.then(Vec::new),
        }
    }

    #[test]
    fn saves_of_a_document_combine_in_order() {
        // Updates append; a later base replaces everything before it.
        assert_eq!(
            doc(Some(1), &[2], false).then(doc(None, &[3], true)),
            doc(Some(1), &[2, 3], true)
        );
        assert_eq!(
            doc(Some(1), &[2], true).then(doc(Some(9), &[], false)),
            doc(Some(9), &[], true)
        );
        assert!(StoredDoc::default().then(StoredDoc::default()).is_empty());
    }
}
