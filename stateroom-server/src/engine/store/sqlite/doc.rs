//! A doc room's Yjs document in SQLite: its base (`stateroom_docs`), its
//! update log (`stateroom_doc_log`) and its named versions
//! (`stateroom_doc_versions`), read on load and written in the room's save
//! transaction.

use super::int;
use crate::engine::store::{DocVersion, StoredDoc};
use rusqlite::{Connection, OptionalExtension, params};

/// The document tables, each keyed by (service, room).
pub(super) const DOC_TABLES: [&str; 3] = [
    "stateroom_docs",
    "stateroom_doc_log",
    "stateroom_doc_versions",
];

/// Reads `room`'s document: its base, its log in order, its versions.
pub(super) fn load_doc(
    connection: &Connection,
    service: &str,
    room: &str,
) -> rusqlite::Result<StoredDoc> {
    let base: Option<Vec<u8>> = connection
        .query_row(
            "SELECT base FROM stateroom_docs WHERE service = ?1 AND room_id = ?2",
            params![service, room],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    let updates = connection
        .prepare_cached(
            "SELECT data FROM stateroom_doc_log WHERE service = ?1 AND room_id = ?2 ORDER BY seq",
        )?
        .query_map(params![service, room], |row| row.get(0))?
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    let versions = connection
        .prepare_cached(
            "SELECT name, at, state FROM stateroom_doc_versions
             WHERE service = ?1 AND room_id = ?2 ORDER BY at, name",
        )?
        .query_map(params![service, room], |row| {
            Ok(DocVersion {
                name: row.get(0)?,
                at_ms: row.get::<_, i64>(1)?.try_into().unwrap_or_default(),
                state: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StoredDoc {
        base,
        updates,
        versions: Some(versions),
    })
}

/// Writes what a save says of `room`'s document (see [`StoredDoc`]).
pub(super) fn save_doc(
    transaction: &rusqlite::Transaction<'_>,
    service: &str,
    room: &str,
    doc: &StoredDoc,
) -> rusqlite::Result<()> {
    if let Some(base) = &doc.base {
        transaction.execute(
            "INSERT INTO stateroom_docs (service, room_id, base) VALUES (?1, ?2, ?3)
             ON CONFLICT(service, room_id) DO UPDATE SET base = excluded.base",
            params![service, room, base],
        )?;
        transaction.execute(
            "DELETE FROM stateroom_doc_log WHERE service = ?1 AND room_id = ?2",
            params![service, room],
        )?;
    }
    if !doc.updates.is_empty() {
        let next: i64 = transaction.query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM stateroom_doc_log
             WHERE service = ?1 AND room_id = ?2",
            params![service, room],
            |row| row.get(0),
        )?;
        let mut append = transaction.prepare_cached(
            "INSERT INTO stateroom_doc_log (service, room_id, seq, data) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (seq, update) in (next..).zip(&doc.updates) {
            append.execute(params![service, room, seq, update])?;
        }
    }
    if let Some(versions) = &doc.versions {
        transaction.execute(
            "DELETE FROM stateroom_doc_versions WHERE service = ?1 AND room_id = ?2",
            params![service, room],
        )?;
        let mut insert = transaction.prepare_cached(
            "INSERT INTO stateroom_doc_versions (service, room_id, name, at, state)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for version in versions {
            insert.execute(params![
                service,
                room,
                version.name,
                int(version.at_ms),
                version.state
            ])?;
        }
    }
    Ok(())
}
