//! What a test client holds of a synced room, rebuilt from the frames it
//! received with an independent JSON Patch implementation (the `json-patch`
//! crate), as a client would.

use super::{TestRoom, unwrap_hook};
use serde::de::DeserializeOwned;
use serde_json::Value;
use stateroom_core::sync::{Doc, SyncFrame};
use stateroom_core::{ClientId, SimpleStateroomService};

/// One of a client's synced documents, as the client holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The version it is at.
    pub version: u64,
    /// The document.
    pub value: Value,
}

/// What a client holds of a synced room: its shared and private documents,
/// rebuilt from every sync frame it received, in order, across its
/// connections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Synced {
    /// The shared view (`view`), once a snapshot of it arrived.
    pub shared: Option<Document>,
    /// The client's private view (`private_view`), once one arrived.
    pub private: Option<Document>,
    /// Who is in the room (services with presence), once a snapshot arrived.
    pub presence: Option<Document>,
    /// A live lobby's rooms (never sent in a room; here so that a lobby's
    /// frames apply to the same model).
    pub rooms: Option<Document>,
    /// How many sync frames it received (snapshots and patches).
    pub frames: usize,
}

impl Synced {
    /// Applies one sync frame as a client does: a snapshot replaces the
    /// document; a patch must name the version held as its base.
    ///
    /// # Errors
    /// A patch whose base is not the version held (or that arrives before
    /// any snapshot), or whose operations do not apply.
    pub fn apply(&mut self, frame: SyncFrame) -> Result<(), String> {
        self.frames += 1;
        match frame {
            SyncFrame::Snapshot { doc, v, state } => {
                *self.doc_mut(doc) = Some(Document {
                    version: v,
                    value: state,
                });
                Ok(())
            }
            SyncFrame::Patch { doc, base, ops } => {
                let held = self
                    .doc_mut(doc)
                    .as_mut()
                    .ok_or_else(|| format!("a {} patch before any snapshot", doc.as_str()))?;
                if held.version != base {
                    return Err(format!(
                        "a {} patch on version {base}, but the client holds version {}",
                        doc.as_str(),
                        held.version
                    ));
                }
                let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops))
                    .map_err(|e| format!("not a JSON Patch: {e}"))?;
                json_patch::patch(&mut held.value, &patch)
                    .map_err(|e| format!("the patch does not apply: {e}"))?;
                held.version += 1;
                Ok(())
            }
        }
    }

    fn doc_mut(&mut self, doc: Doc) -> &mut Option<Document> {
        match doc {
            Doc::Shared => &mut self.shared,
            Doc::Private => &mut self.private,
            Doc::Presence => &mut self.presence,
            Doc::Rooms => &mut self.rooms,
        }
    }
}

impl<S: SimpleStateroomService> TestRoom<S> {
    /// Runs the room's state sync as the server does after each batch of
    /// events. Every step of the kit ends with it.
    pub(super) fn settle(&mut self) {
        unwrap_hook(self.core.sync(self.now));
    }

    /// The sync frames `client` received, in order, over all its
    /// connections, as text: to check what reached it (and what did not:
    /// another player's hand).
    ///
    /// # Panics
    /// If `client` never connected to this room.
    #[must_use]
    pub fn sync_frames(&self, client: ClientId) -> Vec<String> {
        self.test_client(client)
            .conns
            .iter()
            .flat_map(|(_, inbox)| inbox.0.borrow().sync.clone())
            .collect()
    }

    /// What `client` holds of the room's views, rebuilt from the sync frames
    /// it received (a snapshot replaces a document; each patch applies to
    /// the version its base names).
    ///
    /// # Panics
    /// If `client` never connected, or it received a patch its document
    /// cannot take (a wrong base, operations that do not apply): a bug in
    /// the sync, which a test should see.
    #[must_use]
    pub fn synced(&self, client: ClientId) -> Synced {
        let mut synced = Synced::default();
        for text in self.sync_frames(client) {
            let frame = SyncFrame::from_json(&text).unwrap_or_else(|| {
                panic!("client {client} received a malformed sync frame: {text}")
            });
            if let Err(error) = synced.apply(frame) {
                panic!("client {client}: {error} (frame {text})");
            }
        }
        synced
    }

    /// The shared view as `client` holds it, decoded as a `T`.
    ///
    /// # Panics
    /// As [`synced`](Self::synced); also when no snapshot reached it or the
    /// document is not a `T`.
    #[must_use]
    pub fn state<T: DeserializeOwned>(&self, client: ClientId) -> T {
        decode(client, Doc::Shared, self.synced(client).shared)
    }

    /// The private view as `client` holds it, decoded as a `T`.
    ///
    /// # Panics
    /// As [`state`](Self::state).
    #[must_use]
    pub fn private_state<T: DeserializeOwned>(&self, client: ClientId) -> T {
        decode(client, Doc::Private, self.synced(client).private)
    }

    /// The presence document as `client` holds it: `{"<client id>":
    /// presence, …}`, or `{"count": N}` (see
    /// [`Presence`](stateroom_core::Presence)).
    ///
    /// # Panics
    /// As [`synced`](Self::synced); also when no presence snapshot reached it.
    #[must_use]
    pub fn presence(&self, client: ClientId) -> Value {
        decode(client, Doc::Presence, self.synced(client).presence)
    }

    /// Checks that every connected client holds exactly the room's views as
    /// they are now: the shared `view`, and its own `private_view`. (With a
    /// patch rate, true right after a tick; between ticks clients lag.)
    ///
    /// # Panics
    /// With the first client whose documents differ, and how.
    pub fn assert_synced(&self) {
        let service = self.core.service();
        for &client in self.clients.keys() {
            if !self.core.is_connected(client) {
                continue;
            }
            let synced = self.synced(client);
            let expected = service.view().map(|view| {
                view.unwrap_or_else(|e| panic!("the view cannot be written as JSON: {e}"))
            });
            let held = synced.shared.map(|doc| doc.value);
            assert_eq!(
                held, expected,
                "client {client}'s shared state differs from the view"
            );
            let expected = service.private_view(client).map(|view| {
                view.unwrap_or_else(|e| panic!("the private view cannot be written as JSON: {e}"))
            });
            let held = synced.private.map(|doc| doc.value);
            assert_eq!(
                held, expected,
                "client {client}'s private state differs from its private view"
            );
        }
    }
}

/// A document `client` holds, decoded as a `T`.
fn decode<T: DeserializeOwned>(client: ClientId, doc: Doc, document: Option<Document>) -> T {
    let document =
        document.unwrap_or_else(|| panic!("client {client} holds no {} state", doc.as_str()));
    serde_json::from_value(document.value).unwrap_or_else(|e| {
        panic!(
            "client {client}'s {} state is not a `{}`: {e}",
            doc.as_str(),
            std::any::type_name::<T>()
        )
    })
}
