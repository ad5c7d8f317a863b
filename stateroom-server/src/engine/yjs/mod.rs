//! A doc room's Yjs document (`#[stateroom::service(doc)]`, feature `yjs`):
//! the document and its awareness, the changes made since the last batch
//! (collected by one update observer, whoever made them: a client, a hook,
//! a handle), the update log owed to the store, and the named versions.
//!
//! `room_core/doc.rs` speaks the y-websocket protocol on a client's binary
//! frames with it; `history` holds the named versions and what a room
//! handle asks of the document.

mod handle;
mod history;

pub(crate) use history::DocOp;
pub use history::{DocError, VersionInfo};

use crate::engine::store::{DocVersion, StoredDoc};
use stateroom_core::ClientId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use yrs::sync::Awareness;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// Past this many updates in the stored log, a save compacts it.
pub(crate) const COMPACT_UPDATES: usize = 500;
/// Past this many bytes in the stored log, a save compacts it.
pub(crate) const COMPACT_BYTES: usize = 1 << 20;

/// The observer's key on the document.
const OBSERVER: &str = "stateroom";

/// One committed change: its update (v1), and the client whose update it
/// applied (`None`: the server's own edit).
pub(crate) struct Change {
    pub(crate) origin: Option<ClientId>,
    pub(crate) update: Vec<u8>,
}

/// What the store holds of the log, and what is owed to it.
#[derive(Default)]
struct Log {
    /// Updates since the last save (persisted rooms only).
    pending: Vec<Vec<u8>>,
    /// How many updates, and bytes, the stored log holds after its base.
    stored_updates: usize,
    stored_bytes: usize,
}

/// A doc room's document and everything kept beside it.
pub(crate) struct DocRoom {
    doc: Doc,
    pub(crate) awareness: RefCell<Awareness>,
    changes: Arc<Mutex<Vec<Change>>>,
    /// The awareness ids each client's connection set (removed when it
    /// leaves).
    pub(crate) controlled: RefCell<HashMap<ClientId, Vec<yrs::ClientID>>>,
    log: RefCell<Log>,
    /// Whether the log is kept (a persisted room).
    persisted: bool,
    pub(crate) versions: RefCell<Vec<DocVersion>>,
    /// The versions changed since the last save.
    versions_dirty: Cell<bool>,
}

impl DocRoom {
    /// A new, empty document.
    pub(crate) fn new(persisted: bool) -> Self {
        Self::with_doc(Doc::new(), Log::default(), Vec::new(), persisted)
    }

    /// The document a store holds: its base with its log applied.
    pub(crate) fn load(stored: &StoredDoc, persisted: bool) -> Result<Self, String> {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for bytes in stored.base.iter().chain(&stored.updates) {
                let update = Update::decode_v1(bytes).map_err(|error| {
                    format!("a stored document update does not decode: {error}")
                })?;
                txn.apply_update(update)
                    .map_err(|error| format!("a stored document update does not apply: {error}"))?;
            }
        }
        let log = Log {
            pending: Vec::new(),
            stored_updates: stored.updates.len(),
            stored_bytes: stored.updates.iter().map(Vec::len).sum(),
        };
        let versions = stored.versions.clone().unwrap_or_default();
        Ok(Self::with_doc(doc, log, versions, persisted))
    }

    fn with_doc(doc: Doc, log: Log, versions: Vec<DocVersion>, persisted: bool) -> Self {
        let changes: Arc<Mutex<Vec<Change>>> = Arc::default();
        let sink = changes.clone();
        // A fresh document has no transaction open: this cannot fail.
        let _ = doc.observe_update_v1(OBSERVER, move |txn, event| {
            let origin = txn
                .origin()
                .and_then(|origin| <[u8; 4]>::try_from(origin.as_ref()).ok())
                .map(|bytes| ClientId::from(u32::from_be_bytes(bytes)));
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Change {
                    origin,
                    update: event.update.clone(),
                });
        });
        DocRoom {
            awareness: RefCell::new(Awareness::new(doc.clone())),
            doc,
            changes,
            controlled: RefCell::default(),
            log: RefCell::new(log),
            persisted,
            versions: RefCell::new(versions),
            versions_dirty: Cell::new(false),
        }
    }

    /// The document.
    pub(crate) fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The changes committed since the last call, each logged (persisted
    /// rooms) as it is taken.
    pub(crate) fn take_changes(&self) -> Vec<Change> {
        let changes =
            std::mem::take(&mut *self.changes.lock().unwrap_or_else(PoisonError::into_inner));
        if self.persisted && !changes.is_empty() {
            let mut log = self.log.borrow_mut();
            log.pending
                .extend(changes.iter().map(|change| change.update.clone()));
        }
        changes
    }

    /// What the next save writes of the document: the updates since the
    /// last save, or, once the stored log is past a threshold, the whole
    /// document as a new base (a compaction); and the versions, if they
    /// changed.
    pub(crate) fn for_save(&self) -> StoredDoc {
        let mut log = self.log.borrow_mut();
        let pending = std::mem::take(&mut log.pending);
        let bytes: usize = pending.iter().map(Vec::len).sum();
        let versions = self
            .versions_dirty
            .replace(false)
            .then(|| self.versions.borrow().clone());
        if pending.is_empty() {
            return StoredDoc {
                versions,
                ..StoredDoc::default()
            };
        }
        if log.stored_updates + pending.len() > COMPACT_UPDATES
            || log.stored_bytes + bytes > COMPACT_BYTES
        {
            log.stored_updates = 0;
            log.stored_bytes = 0;
            return StoredDoc {
                base: Some(self.state()),
                updates: Vec::new(),
                versions,
            };
        }
        log.stored_updates += pending.len();
        log.stored_bytes += bytes;
        StoredDoc {
            base: None,
            updates: pending,
            versions,
        }
    }

    /// The whole document, as one update.
    pub(crate) fn state(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }
}
