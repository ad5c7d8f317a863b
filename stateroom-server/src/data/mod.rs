//! `SERVER data list|show|export|import`: a persisted service's stored rooms
//! without SQL, for support and migrations. The server must be stopped (the
//! data directory is locked while it runs).

mod doc;

use crate::engine::store::{RoomStore, StoreError, StoredRoom};
use doc::{doc_from_json, doc_json};

/// Why a `data` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The store failed (or its directory is in use: stop the server first).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `show` of a room that is not stored.
    #[error("no stored room `{0}`")]
    NoSuchRoom(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    /// The file to import is not an export.
    #[error("not an export: {0}")]
    NotAnExport(String),
    /// A room in the file does not load as this service's; nothing was imported.
    #[error("room `{room}` {why}, nothing imported")]
    InvalidRoom {
        /// The room.
        room: String,
        /// What is wrong with it.
        why: String,
    },
    /// `list`, `show` or `export` of a directory that holds no store (a
    /// mistyped `--data-dir`); only `import` creates one.
    #[error("no store in {}: is --data-dir right? (`data import` creates one)", .0.display())]
    NoStore(PathBuf),
    /// This build has no embedded store (the `sqlite` feature is off).
    #[error("the `data` commands need the `sqlite` feature")]
    NoEmbeddedStore,
}
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do with the stored rooms.
#[derive(Debug, Clone, clap::Subcommand)]
#[non_exhaustive]
pub enum DataCommand {
    /// One line per stored room: id, commit sequence, state version, last
    /// save (Unix ms), state size.
    List,
    /// One room's snapshot as JSON: its state and the runtime's metadata.
    Show {
        /// The room's id.
        room: String,
    },
    /// Every room as one JSON document, to stdout or FILE.
    Export {
        /// Where to write (default: stdout).
        file: Option<PathBuf>,
    },
    /// Rooms from an export (replacing stored rooms with the same id).
    Import {
        /// An export's file.
        file: PathBuf,
    },
}

fn room_json(room: &StoredRoom) -> Value {
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()));
    let mut value = json!({
        "room_id": room.room_id,
        "seq": room.seq,
        "fence": room.fence,
        "state_version": room.state_version,
        "updated_at_ms": room.updated_at_ms,
        "state": parse(&room.state),
        "meta": parse(&room.meta),
    });
    if let Some(doc) = doc_json(&room.doc) {
        value["doc"] = doc;
    }
    value
}

fn room_from_json(value: &Value, fence: u64) -> Result<StoredRoom, DataError> {
    let field = |name: &str| {
        value
            .get(name)
            .ok_or_else(|| DataError::NotAnExport(format!("an exported room has no `{name}`")))
    };
    let number = |name: &str| {
        field(name).and_then(|v| {
            v.as_u64()
                .ok_or_else(|| DataError::NotAnExport(format!("`{name}` is not a number")))
        })
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(StoredRoom {
        room_id: field("room_id")?
            .as_str()
            .ok_or_else(|| DataError::NotAnExport("`room_id` is not a string".into()))?
            .to_owned(),
        fence,
        seq: number("seq")?,
        state_version: u32::try_from(number("state_version")?)
            .map_err(|e| DataError::NotAnExport(format!("`state_version`: {e}")))?,
        state: text(field("state")?),
        meta: text(field("meta")?),
        updated_at_ms: number("updated_at_ms")?,
        doc: doc_from_json(value.get("doc"))?,
    })
}

/// Runs `command` on `service`'s rooms in `store`, writing to `out`.
///
/// # Errors
/// A store error, a room that does not exist (`show`), an unreadable file.
pub async fn run_data(
    store: &dyn RoomStore,
    service: &str,
    command: &DataCommand,
    validate: StateCheck,
    out: &mut dyn Write,
) -> Result<(), DataError> {
    let io = DataError::Output;
    match command {
        DataCommand::List => {
            for room in store.list(service).await? {
                writeln!(
                    out,
                    "{}\tseq {}\tversion {}\tsaved {}\t{} bytes",
                    room.room_id,
                    room.seq,
                    room.state_version,
                    utc(room.updated_at_ms),
                    room.state.len()
                )
                .map_err(io)?;
            }
        }
        DataCommand::Show { room } => {
            let stored = store
                .load(service, room)
                .await?
                .ok_or_else(|| DataError::NoSuchRoom(room.clone()))?;
            let text = serde_json::to_string_pretty(&room_json(&stored))
                .unwrap_or_else(|_| unreachable!("a JSON value serialises"));
            writeln!(out, "{text}").map_err(io)?;
        }
        DataCommand::Export { file } => {
            // `list` leaves documents out: each room is loaded whole.
            let mut rooms = Vec::new();
            for listed in store.list(service).await? {
                let room = store
                    .load(service, &listed.room_id)
                    .await?
                    .unwrap_or(listed);
                rooms.push(room_json(&room));
            }
            let doc = json!({ "service": service, "rooms": rooms });
            let text = serde_json::to_string_pretty(&doc)
                .unwrap_or_else(|_| unreachable!("a JSON value serialises"));
            match file {
                Some(path) => {
                    std::fs::write(path, text + "\n").map_err(|source| DataError::File {
                        path: path.clone(),
                        source,
                    })?
                }
                None => writeln!(out, "{text}").map_err(io)?,
            }
        }
        DataCommand::Import { file } => {
            let text = std::fs::read_to_string(file).map_err(|source| DataError::File {
                path: file.clone(),
                source,
            })?;
            let doc: Value =
                serde_json::from_str(&text).map_err(|e| DataError::NotAnExport(e.to_string()))?;
            let fence = store.acquire_fence().await?;
            let rooms = doc["rooms"]
                .as_array()
                .ok_or_else(|| DataError::NotAnExport("no `rooms`".into()))?
                .iter()
                .map(|room| room_from_json(room, fence))
                .collect::<Result<Vec<_>, _>>()?;
            // Every room must load as the service's state (a snapshot that
            // does not would refuse the room's next join): all or nothing.
            for room in &rooms {
                validate(room.state_version, &room.state).map_err(|why| {
                    DataError::InvalidRoom {
                        room: room.room_id.clone(),
                        why: format!("does not load as this service's state ({why})"),
                    }
                })?;
                serde_json::from_str::<crate::engine::snapshot::Meta>(&room.meta).map_err(|e| {
                    DataError::InvalidRoom {
                        room: room.room_id.clone(),
                        why: format!("has metadata that does not decode ({e})"),
                    }
                })?;
            }
            let count = rooms.len();
            store.save_batch(service, rooms).await?;
            writeln!(out, "imported {count} rooms").map_err(io)?;
        }
    }
    Ok(())
}

/// Opens the embedded store in `dir` and runs `command`.
///
/// # Errors
/// As [`run_data`], and when the store cannot be opened (the server is
/// running, say).
#[cfg(feature = "sqlite")]
pub fn run_data_in(
    dir: &Path,
    service: &str,
    command: &DataCommand,
    validate: StateCheck,
) -> Result<(), DataError> {
    let creates = matches!(command, DataCommand::Import { .. });
    if !creates && !crate::engine::store::SqliteStore::exists_in(dir) {
        return Err(DataError::NoStore(dir.to_owned()));
    }
    let store = crate::engine::store::SqliteStore::open(dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DataError::Output)?;
    runtime.block_on(run_data(
        &store,
        service,
        command,
        validate,
        &mut std::io::stdout(),
    ))
}

/// Without the `sqlite` feature there is no embedded store to manage.
///
/// # Errors
/// Always.
#[cfg(not(feature = "sqlite"))]
pub fn run_data_in(
    _dir: &Path,
    _service: &str,
    _command: &DataCommand,
    _validate: StateCheck,
) -> Result<(), DataError> {
    Err(DataError::NoEmbeddedStore)
}

/// Checks that a stored state (its version, its JSON) loads as the
/// service's state: `data import` refuses a file with one that does not.
pub type StateCheck = fn(u32, &str) -> Result<(), String>;

/// [`StateCheck`] for service `S`: not newer than its code, and its
/// `load_state` (with `migrate`) accepts it.
///
/// # Errors
/// Why the state does not load.
pub fn check_state<S: stateroom_core::SimpleStateroomService>(
    version: u32,
    state: &str,
) -> Result<(), String> {
    if version > S::STATE_VERSION {
        return Err(format!(
            "state version {version} is newer than this code's {}",
            S::STATE_VERSION
        ));
    }
    S::load_state(version, state)
        .map(drop)
        .map_err(|error| error.to_string())
}

/// `unix_ms` as a UTC date and time, `2026-12-03T07:27:42Z`.
fn utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests;
