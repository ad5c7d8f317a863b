//! Opening a persisted room: from its snapshot (migrated, its timers
//! re-armed, its sessions held) or new.

use super::Persistence;
use crate::engine::client_ids::raise_client_floor;
use crate::engine::members::{DocField, RoomSettings};
use crate::engine::outbox::Outbox;
use crate::engine::room_core::RoomCore;
use crate::engine::snapshot::Meta;
use crate::engine::store::{StoredRoom, unix_ms};
use stateroom_core::SimpleStateroomService;
use std::sync::Arc;

/// The service's name in the store: `--service-name`, else the type's own
/// name (without its module path).
pub(crate) fn service_name<S>() -> String {
    let full = std::any::type_name::<S>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_owned()
}

/// Why a room did not open.
#[derive(Debug)]
pub(crate) enum OpenFailed {
    /// Its store (or, in a cluster, its lease) could not be had now: a
    /// join gets 503 and retries (the store's outage is logged once).
    Unavailable,
    /// Its stored state, or the service, refuses it: a join gets 500.
    Broken(String),
}

impl From<String> for OpenFailed {
    fn from(why: String) -> Self {
        OpenFailed::Broken(why)
    }
}

/// Opens a persisted room: from its snapshot if it has one, else new. A
/// snapshot that does not decode, does not migrate, or is newer than the
/// code refuses the room (and stays as it is).
pub(crate) async fn open_room<S: SimpleStateroomService>(
    persistence: &Persistence,
    id: &Arc<str>,
    settings: RoomSettings,
    now: std::time::Duration,
) -> Result<(RoomCore<S, Arc<Outbox>>, Option<StoredRoom>), OpenFailed> {
    let stored = persistence
        .load(id)
        .await
        .map_err(|_| OpenFailed::Unavailable)?;
    let room_id: Arc<str> = Arc::from(crate::engine::kinds::room_id_of(id));
    let Some(stored) = stored else {
        let core = RoomCore::new(room_id, settings, now)
            .map_err(|panicked| format!("the service's `new` panicked: {}", panicked.message()))?;
        return Ok((core, None));
    };
    if stored.state_version > S::STATE_VERSION {
        return Err(OpenFailed::Broken(format!(
            "its snapshot is state version {}, newer than this code's {}",
            stored.state_version,
            S::STATE_VERSION
        )));
    }
    let service = S::load_state(stored.state_version, &stored.state)
        .map_err(|error| format!("its snapshot does not load: {error}"))?;
    let meta: Meta = serde_json::from_str(&stored.meta)
        .map_err(|error| format!("its snapshot's metadata does not decode: {error}"))?;
    // New clients get ids above the room's own (in a cluster, another node
    // may have handed those out).
    raise_client_floor(meta.max_client());
    #[allow(clippy::let_unit_value)] // `()` without the `yjs` feature
    let doc = restored_doc::<S>(&stored, &settings)?;
    let core = RoomCore::restore(room_id, settings, service, &meta, doc, now, unix_ms())
        .map_err(|panicked| format!("the `restore` hook panicked: {}", panicked.message()))?;
    Ok((core, Some(stored)))
}

/// A doc room's document as stored (its base and log applied).
#[cfg(feature = "yjs")]
fn restored_doc<S: SimpleStateroomService>(
    stored: &StoredRoom,
    settings: &RoomSettings,
) -> Result<DocField, String> {
    if !S::DOC {
        return Ok(None);
    }
    crate::engine::yjs::DocRoom::load(&stored.doc, settings.persist.is_some())
        .map(Some)
        .map_err(|why| format!("its document does not load: {why}"))
}

/// Without Yjs a room holds no document.
#[cfg(not(feature = "yjs"))]
#[allow(clippy::unnecessary_wraps, clippy::extra_unused_type_parameters)]
fn restored_doc<S: SimpleStateroomService>(
    _stored: &StoredRoom,
    _settings: &RoomSettings,
) -> Result<DocField, String> {
    Ok(())
}
