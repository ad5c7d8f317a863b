//! A doc room's named versions, and what a room handle asks of its
//! document ([`DocOp`]): list, take, restore and delete versions, and run
//! a closure on the document (an agent editing it, an export).
//!
//! A version keeps the whole document (`encode_state_as_update`). Restoring
//! one cannot rewind a CRDT: it edits the current document until its
//! content is the version's, as one change every client receives. The
//! edit is Yjs's own undo: the changes made since the version are replayed
//! on a copy of it under an undo manager, undone, and the undo's update is
//! applied to the room's document. Any shared type works, including those
//! only clients declared (a ProseMirror fragment).

use super::DocRoom;
use crate::engine::store::{DocVersion, unix_ms};
use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};
use yrs::undo::{Options as UndoOptions, UndoManager};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Options, ReadTxn, Transact, Update};

/// A closure a handle runs on the document, its result boxed.
pub(crate) type DocFn = Box<dyn FnOnce(&Doc) -> Box<dyn Any + Send> + Send>;

/// What a room handle asks of a doc room's document. Sent as a command;
/// the runtime answers it before the service's `command` hook would see
/// it, behind the output gate like every answer.
pub(crate) enum DocOp {
    /// Every version: `Vec<VersionInfo>`.
    Versions,
    /// Take a version of the document as it is now (replacing one of the
    /// same name): `VersionInfo`.
    Save(String),
    /// Make the document's content the version's: `()`.
    Restore(String),
    /// Delete a version: whether it existed.
    Delete(String),
    /// Run a closure on the document: its result.
    Run(DocFn),
}

/// A named version of a room's document, as a handle lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// Its name.
    pub name: String,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Its size (the whole document then, encoded), in bytes.
    pub bytes: usize,
}

impl VersionInfo {
    fn of(version: &DocVersion) -> Self {
        VersionInfo {
            name: version.name.clone(),
            at_ms: version.at_ms,
            bytes: version.state.len(),
        }
    }
}

/// Why an operation on a room's document failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The room's service is not a `doc` service.
    #[error("the room holds no Yjs document (its service is not `#[stateroom::service(doc)]`)")]
    NotADoc,
    /// No version has this name.
    #[error("the document has no version named `{0}`")]
    NoSuchVersion(String),
    /// A version's stored state does not apply (it is damaged).
    #[error("the version does not apply: {0}")]
    Damaged(String),
}

impl DocRoom {
    /// Answers `op`; the boxed value is what the handle's method returns.
    pub(crate) fn answer(&self, op: DocOp) -> Result<Box<dyn Any + Send>, DocError> {
        Ok(match op {
            DocOp::Versions => Box::new(
                self.versions
                    .borrow()
                    .iter()
                    .map(VersionInfo::of)
                    .collect::<Vec<_>>(),
            ),
            DocOp::Save(name) => {
                let version = DocVersion {
                    name,
                    at_ms: unix_ms(),
                    state: self.state(),
                };
                let info = VersionInfo::of(&version);
                let mut versions = self.versions.borrow_mut();
                versions.retain(|other| other.name != version.name);
                versions.push(version);
                self.versions_dirty.set(true);
                Box::new(info)
            }
            DocOp::Restore(name) => {
                let state = self
                    .versions
                    .borrow()
                    .iter()
                    .find(|version| version.name == name)
                    .map(|version| version.state.clone())
                    .ok_or(DocError::NoSuchVersion(name))?;
                revert(&self.doc, &state).map_err(DocError::Damaged)?;
                Box::new(())
            }
            DocOp::Delete(name) => {
                let mut versions = self.versions.borrow_mut();
                let before = versions.len();
                versions.retain(|version| version.name != name);
                let deleted = versions.len() < before;
                if deleted {
                    self.versions_dirty.set(true);
                }
                Box::new(deleted)
            }
            DocOp::Run(run) => run(&self.doc),
        })
    }
}

/// Edits `doc` until its content is `version`'s (a whole-document update),
/// with Yjs's undo (see the module's documentation).
pub(crate) fn revert(doc: &Doc, version: &[u8]) -> Result<(), String> {
    let decode = |bytes: &[u8]| Update::decode_v1(bytes).map_err(|error| error.to_string());
    // The version, with deleted content kept so that undo can bring it back.
    let copy = Doc::with_options(Options {
        skip_gc: true,
        ..Options::default()
    });
    copy.transact_mut()
        .apply_update(decode(version)?)
        .map_err(|error| error.to_string())?;
    let since = doc
        .transact()
        .encode_diff_v1(&copy.transact().state_vector());
    let names: Vec<Arc<str>> = {
        let mut names: Vec<Arc<str>> = doc
            .transact()
            .root_refs()
            .map(|(name, _)| Arc::from(name))
            .collect();
        names.extend(copy.transact().root_refs().map(|(name, _)| Arc::from(name)));
        names.sort();
        names.dedup();
        names
    };
    let mut undo: UndoManager<()> = UndoManager::with_options(UndoOptions {
        capture_timeout_millis: 0,
        ..UndoOptions::default()
    });
    for name in &names {
        // The root's type does not matter to undo: it tracks items.
        let root = copy.get_or_insert_array(name.clone());
        undo.expand_scope(&copy, &root);
    }
    undo.include_origin("since");
    copy.transact_mut_with("since")
        .apply_update(decode(&since)?)
        .map_err(|error| error.to_string())?;
    let reverted: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = reverted.clone();
    copy.observe_update_v1("revert", move |_, event| {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.update.clone());
    })
    .map_err(|error| error.to_string())?;
    while undo.undo_blocking() {}
    let updates = std::mem::take(&mut *reverted.lock().unwrap_or_else(PoisonError::into_inner));
    let mut txn = doc.transact_mut();
    for update in updates {
        txn.apply_update(decode(&update)?)
            .map_err(|error| error.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use yrs::{GetString, Map, Text, XmlFragment, XmlTextPrelim};

    fn text(doc: &Doc) -> String {
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    #[test]
    fn restoring_a_version_brings_back_its_content() {
        let room = DocRoom::new(false);
        let doc = room.doc().clone();
        let t = doc.get_or_insert_text("t");
        let map = doc.get_or_insert_map("m");
        t.insert(&mut doc.transact_mut(), 0, "hello world");
        map.insert(&mut doc.transact_mut(), "k", "v1");
        room.answer(DocOp::Save("v1".into())).unwrap();
        // Deletions, insertions and a changed key after the version.
        t.remove_range(&mut doc.transact_mut(), 0, 6);
        t.insert(&mut doc.transact_mut(), 5, "!!!");
        map.insert(&mut doc.transact_mut(), "k", "v2");
        map.insert(&mut doc.transact_mut(), "new", "x");
        assert_eq!(text(&doc), "world!!!");
        room.take_changes();
        assert!(room.answer(DocOp::Restore("v1".into())).is_ok());
        assert_eq!(text(&doc), "hello world");
        let txn = doc.transact();
        assert_eq!(map.get(&txn, "k").unwrap().to_string(&txn), "v1");
        assert!(map.get(&txn, "new").is_none());
        drop(txn);
        // The restore is one more change for the clients and the log.
        assert!(!room.take_changes().is_empty());
        assert_eq!(
            room.answer(DocOp::Restore("nope".into())).err(),
            Some(DocError::NoSuchVersion("nope".into()))
        );
    }

    #[test]
    fn restoring_reaches_types_only_clients_declared() {
        // A client's XML fragment (ProseMirror's), unknown to the server's doc.
        let client = Doc::new();
        let fragment = client.get_or_insert_xml_fragment("prosemirror");
        fragment.insert(&mut client.transact_mut(), 0, XmlTextPrelim::new("first"));
        let room = DocRoom::new(false);
        let state = client
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        room.doc()
            .transact_mut()
            .apply_update(Update::decode_v1(&state).unwrap())
            .unwrap();
        room.answer(DocOp::Save("v".into())).unwrap();
        fragment.remove_range(&mut client.transact_mut(), 0, 1);
        fragment.insert(&mut client.transact_mut(), 0, XmlTextPrelim::new("second"));
        let diff = client
            .transact()
            .encode_diff_v1(&room.doc().transact().state_vector());
        room.doc()
            .transact_mut()
            .apply_update(Update::decode_v1(&diff).unwrap())
            .unwrap();
        room.take_changes();
        room.answer(DocOp::Restore("v".into())).unwrap();
        // The client applies the room's changes and reads the version back.
        for change in room.take_changes() {
            client
                .transact_mut()
                .apply_update(Update::decode_v1(&change.update).unwrap())
                .unwrap();
        }
        assert_eq!(fragment.get_string(&client.transact()), "first");
    }
}
