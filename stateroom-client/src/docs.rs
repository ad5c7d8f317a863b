//! The synced documents a client holds (`docs/protocol.md`, "State sync"):
//! a snapshot sets one, a patch applies only to the version its base
//! names, and a patch that does not fit leaves the document as it was and
//! makes the client ask for snapshots. Patches are applied with the
//! `json-patch` crate (RFC 6902).

use serde_json::Value;
use stateroom_core::sync::{Doc, SyncFrame};

/// One document: its version and value.
#[derive(Debug, Clone)]
struct Held {
    version: u64,
    value: Value,
}

/// The shared and private views, presence, and a lobby's rooms.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    held: [Option<Held>; 4],
    /// A patch did not fit: patches are ignored until snapshots come.
    stale: [bool; 4],
}

fn slot(doc: Doc) -> usize {
    match doc {
        Doc::Shared => 0,
        Doc::Private => 1,
        Doc::Presence => 2,
        Doc::Rooms => 3,
    }
}

impl Documents {
    /// Applies `frame`: `Ok(Some(doc))` when a document changed, `Ok(None)`
    /// for a patch ignored while waiting for a snapshot, `Err(())` for a
    /// patch that does not fit (ask for snapshots).
    pub(crate) fn apply(&mut self, frame: SyncFrame) -> Result<Option<Doc>, ()> {
        match frame {
            SyncFrame::Snapshot { doc, v, state } => {
                self.held[slot(doc)] = Some(Held {
                    version: v,
                    value: state,
                });
                self.stale[slot(doc)] = false;
                Ok(Some(doc))
            }
            SyncFrame::Patch { doc, base, ops } => {
                let at = slot(doc);
                if self.stale[at] {
                    return Ok(None);
                }
                let applied = self.held[at]
                    .as_mut()
                    .filter(|held| held.version == base)
                    .is_some_and(|held| apply(&mut held.value, ops));
                if applied {
                    if let Some(held) = self.held[at].as_mut() {
                        held.version += 1;
                    }
                    Ok(Some(doc))
                } else {
                    self.stale[at] = true;
                    Err(())
                }
            }
        }
    }

    pub(crate) fn get(&self, doc: Doc) -> Option<&Value> {
        self.held[slot(doc)].as_ref().map(|held| &held.value)
    }

    pub(crate) fn version(&self, doc: Doc) -> u64 {
        self.held[slot(doc)].as_ref().map_or(0, |held| held.version)
    }
}

/// Applies RFC 6902 `ops` to `value` all or nothing.
fn apply(value: &mut Value, ops: Vec<Value>) -> bool {
    let Ok(patch) = serde_json::from_value::<json_patch::Patch>(Value::Array(ops)) else {
        return false;
    };
    let mut next = value.clone();
    if json_patch::patch(&mut next, &patch).is_err() {
        return false;
    }
    *value = next;
    true
}
