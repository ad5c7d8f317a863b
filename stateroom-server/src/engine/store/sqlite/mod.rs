//! The embedded default store: one SQLite file (bundled SQLite, through
//! `rusqlite`) in WAL mode with `synchronous=FULL`, so a committed save
//! survives a crash or a power cut. One connection does all the work on a
//! blocking thread; the runtime's writer sends it batches, so one
//! transaction (one fsync) commits many rooms.
//!
//! The data directory is locked for the process's lifetime: a second server
//! on the same directory fails to start instead of co-owning its rooms.

mod doc;

use super::{RoomStore, SaveOutcome, StoreError, StoreFuture, StoredDoc, StoredRoom};
use doc::{DOC_TABLES, load_doc, save_doc};
use rusqlite::{Connection, OptionalExtension, params};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Rooms in `DATA_DIR/rooms.sqlite3`.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Mutex<Connection>,
    path: PathBuf,
    /// Held (exclusively locked) while the store is open.
    _lock: File,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteStore({})", self.inner.path.display())
    }
}

fn err(error: impl std::fmt::Display) -> StoreError {
    StoreError::backend("sqlite", error)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS stateroom_rooms (
    service TEXT NOT NULL,
    room_id TEXT NOT NULL,
    fence INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state_version INTEGER NOT NULL,
    state TEXT NOT NULL,
    meta TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (service, room_id)
) STRICT;
CREATE TABLE IF NOT EXISTS stateroom_docs (
    service TEXT NOT NULL,
    room_id TEXT NOT NULL,
    base BLOB,
    PRIMARY KEY (service, room_id)
) STRICT;
CREATE TABLE IF NOT EXISTS stateroom_doc_log (
    service TEXT NOT NULL,
    room_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (service, room_id, seq)
) STRICT;
CREATE TABLE IF NOT EXISTS stateroom_doc_versions (
    service TEXT NOT NULL,
    room_id TEXT NOT NULL,
    name TEXT NOT NULL,
    at INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (service, room_id, name)
) STRICT;
CREATE TABLE IF NOT EXISTS stateroom_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
";

impl SqliteStore {
    /// Whether `dir` holds a store (without creating anything).
    #[must_use]
    pub fn exists_in(dir: impl AsRef<Path>) -> bool {
        dir.as_ref().join("rooms.sqlite3").is_file()
    }

    /// Opens (creating it if needed) the store in `dir`, and locks the
    /// directory for this process.
    ///
    /// # Errors
    /// When the directory cannot be created or opened, another process holds
    /// it, or the database cannot be opened.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        let io =
            |e: std::io::Error, what: String| StoreError::backend("io", format!("{what}: {e}"));
        std::fs::create_dir_all(dir)
            .map_err(|e| io(e, format!("cannot create {}", dir.display())))?;
        let lock = File::create(dir.join("LOCK"))
            .map_err(|e| io(e, format!("cannot open {}/LOCK", dir.display())))?;
        lock.try_lock().map_err(|_| StoreError::Locked {
            dir: dir.to_path_buf(),
        })?;
        let path = dir.join("rooms.sqlite3");
        let connection = Connection::open(&path).map_err(err)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;",
            )
            .map_err(err)?;
        connection.execute_batch(SCHEMA).map_err(err)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                path,
                _lock: lock,
            }),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` on the connection, on a blocking thread.
    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut connection = inner
                    .connection
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                work(&mut connection)
            })
            .await
            .map_err(err)?
        })
    }
}

fn row_to_room(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRoom> {
    Ok(StoredRoom {
        room_id: row.get(0)?,
        fence: row.get::<_, i64>(1)?.try_into().unwrap_or_default(),
        seq: row.get::<_, i64>(2)?.try_into().unwrap_or_default(),
        state_version: row.get::<_, i64>(3)?.try_into().unwrap_or_default(),
        state: row.get(4)?,
        meta: row.get(5)?,
        updated_at_ms: row.get::<_, i64>(6)?.try_into().unwrap_or_default(),
        doc: StoredDoc::default(),
    })
}

const COLUMNS: &str = "room_id, fence, seq, state_version, state, meta, updated_at";

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl RoomStore for SqliteStore {
    fn acquire_fence(&self) -> StoreFuture<'_, u64> {
        self.run(|connection| {
            let fence: i64 = connection
                .query_row(
                    "INSERT INTO stateroom_meta (key, value) VALUES ('fence', 1)
                     ON CONFLICT(key) DO UPDATE SET value = value + 1 RETURNING value",
                    [],
                    |row| row.get(0),
                )
                .map_err(err)?;
            Ok(u64::try_from(fence).unwrap_or_default())
        })
    }

    fn load<'a>(&'a self, service: &'a str, room: &'a str) -> StoreFuture<'a, Option<StoredRoom>> {
        let (service, room) = (service.to_owned(), room.to_owned());
        self.run(move |connection| {
            let Some(mut stored) = connection
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM stateroom_rooms WHERE service = ?1 AND room_id = ?2"
                    ),
                    params![service, room],
                    row_to_room,
                )
                .optional()
                .map_err(err)?
            else {
                return Ok(None);
            };
            stored.doc = load_doc(connection, &service, &room).map_err(err)?;
            Ok(Some(stored))
        })
    }

    fn save_batch<'a>(
        &'a self,
        service: &'a str,
        batch: Vec<StoredRoom>,
    ) -> StoreFuture<'a, Vec<SaveOutcome>> {
        let service = service.to_owned();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(err)?;
            let mut outcomes = Vec::with_capacity(batch.len());
            {
                let mut upsert = transaction
                    .prepare_cached(
                        "INSERT INTO stateroom_rooms
                           (service, room_id, fence, seq, state_version, state, meta, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT(service, room_id) DO UPDATE SET
                           fence = excluded.fence, seq = excluded.seq,
                           state_version = excluded.state_version, state = excluded.state,
                           meta = excluded.meta, updated_at = excluded.updated_at
                         WHERE excluded.fence >= stateroom_rooms.fence",
                    )
                    .map_err(err)?;
                for room in batch {
                    let changed = upsert
                        .execute(params![
                            service,
                            room.room_id.as_str(),
                            int(room.fence),
                            int(room.seq),
                            i64::from(room.state_version),
                            room.state.as_str(),
                            room.meta.as_str(),
                            int(room.updated_at_ms),
                        ])
                        .map_err(err)?;
                    if changed == 1 && !room.doc.is_empty() {
                        save_doc(&transaction, &service, &room.room_id, &room.doc).map_err(err)?;
                    }
                    outcomes.push(if changed == 1 {
                        SaveOutcome::Saved
                    } else {
                        SaveOutcome::StaleFence
                    });
                }
            }
            transaction.commit().map_err(err)?;
            Ok(outcomes)
        })
    }

    fn delete<'a>(
        &'a self,
        service: &'a str,
        room: &'a str,
        fence: u64,
    ) -> StoreFuture<'a, SaveOutcome> {
        let (service, room) = (service.to_owned(), room.to_owned());
        self.run(move |connection| {
            let newer: Option<i64> = connection
                .query_row(
                    "SELECT fence FROM stateroom_rooms WHERE service = ?1 AND room_id = ?2",
                    params![service, room],
                    |row| row.get(0),
                )
                .optional()
                .map_err(err)?;
            if newer.is_some_and(|stored| stored > int(fence)) {
                return Ok(SaveOutcome::StaleFence);
            }
            let transaction = connection.transaction().map_err(err)?;
            for table in std::iter::once("stateroom_rooms").chain(DOC_TABLES) {
                transaction
                    .execute(
                        &format!("DELETE FROM {table} WHERE service = ?1 AND room_id = ?2"),
                        params![service, room],
                    )
                    .map_err(err)?;
            }
            transaction.commit().map_err(err)?;
            Ok(SaveOutcome::Saved)
        })
    }

    fn list<'a>(&'a self, service: &'a str) -> StoreFuture<'a, Vec<StoredRoom>> {
        let service = service.to_owned();
        self.run(move |connection| {
            let mut query = connection
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM stateroom_rooms WHERE service = ?1 ORDER BY room_id"
                ))
                .map_err(err)?;
            let rows = query
                .query_map(params![service], row_to_room)
                .map_err(err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            Ok(rows)
        })
    }

    fn max_client_id<'a>(&'a self, service: &'a str) -> StoreFuture<'a, u32> {
        let service = service.to_owned();
        self.run(move |connection| {
            let max: Option<i64> = connection
                .query_row(
                    "SELECT MAX(json_extract(meta, '$.max_client')) FROM stateroom_rooms
                     WHERE service = ?1",
                    params![service],
                    |row| row.get(0),
                )
                .map_err(err)?;
            Ok(max.and_then(|m| u32::try_from(m).ok()).unwrap_or(0))
        })
    }

    fn expire<'a>(&'a self, service: &'a str, before_ms: u64) -> StoreFuture<'a, u64> {
        let service = service.to_owned();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(err)?;
            let deleted = transaction
                .execute(
                    "DELETE FROM stateroom_rooms WHERE service = ?1 AND updated_at < ?2",
                    params![service, int(before_ms)],
                )
                .map_err(err)?;
            for table in DOC_TABLES {
                transaction
                    .execute(
                        &format!(
                            "DELETE FROM {table} WHERE service = ?1 AND room_id NOT IN
                             (SELECT room_id FROM stateroom_rooms WHERE service = ?1)"
                        ),
                        params![service],
                    )
                    .map_err(err)?;
            }
            transaction.commit().map_err(err)?;
            Ok(deleted as u64)
        })
    }
}

#[cfg(test)]
mod tests;
