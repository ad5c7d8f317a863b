//! Doc rooms in the test kit (feature `yjs`): the room's document, and
//! [`Replica`], a test client's copy that speaks the y-websocket protocol
//! as a provider does.

use super::{Received, TestRoom};
use stateroom_core::{ClientId, SimpleStateroomService};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, Transact, Update};

impl<S: SimpleStateroomService> TestRoom<S> {
    /// The room's Yjs document (a `doc` service).
    ///
    /// # Panics
    /// If the service is not a `doc` service.
    #[must_use]
    pub fn doc(&self) -> &Doc {
        self.core
            .doc()
            .unwrap_or_else(|| panic!("the service is not a `doc` service"))
    }
}

/// A test client's copy of a doc room's document, kept in sync as a
/// `y-websocket` provider keeps it: it greets with sync step 1, applies
/// the room's sync replies and updates, answers the room's step 1, and
/// sends its own edits as updates.
///
/// ```
/// # #[cfg(feature = "yjs")] {
/// use stateroom_server::testing::{Replica, TestRoom};
/// use yrs::{GetString, Text, Transact};
/// # #[derive(Default)] struct Notes;
/// # impl stateroom_core::SimpleStateroomService for Notes {
/// #     const DOC: bool = true;
/// #     fn new(_: &str, _: &impl stateroom_core::StateroomContext) -> Self { Notes }
/// # }
/// let mut room = TestRoom::<Notes>::new("notes");
/// let (a, b) = (room.connect(), room.connect());
/// let (mut ra, mut rb) = (Replica::new(), Replica::new());
/// ra.open(&mut room, a);
/// rb.open(&mut room, b);
/// ra.edit(&mut room, a, |doc| {
///     doc.get_or_insert_text("body").push(&mut doc.transact_mut(), "hi");
/// });
/// rb.sync(&mut room, b);
/// assert_eq!(rb.text("body"), "hi");
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Replica {
    doc: Doc,
    denied: Vec<String>,
    awareness: Vec<yrs::sync::AwarenessUpdate>,
    closed: Option<u16>,
}

impl Replica {
    /// An empty copy.
    #[must_use]
    pub fn new() -> Self {
        Replica::default()
    }

    /// The copy's document.
    #[must_use]
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The text of the copy's root `Y.Text` named `name`.
    #[must_use]
    pub fn text(&self, name: &str) -> String {
        use yrs::GetString;
        self.doc
            .get_or_insert_text(name)
            .get_string(&self.doc.transact())
    }

    /// The reasons of the permission-denied messages the room sent.
    #[must_use]
    pub fn denied(&self) -> &[String] {
        &self.denied
    }

    /// The awareness updates the room sent, in order.
    #[must_use]
    pub fn awareness(&self) -> &[yrs::sync::AwarenessUpdate] {
        &self.awareness
    }

    /// The close code the room closed the connection with, if it did.
    #[must_use]
    pub fn closed(&self) -> Option<u16> {
        self.closed
    }

    /// What a provider does as its socket opens: sync step 1 with the
    /// copy's state vector, then everything the room answered.
    pub fn open<S: SimpleStateroomService>(&mut self, room: &mut TestRoom<S>, client: ClientId) {
        let step1 = Message::Sync(SyncMessage::SyncStep1(self.doc.transact().state_vector()));
        room.send_binary(client, &step1.encode_v1());
        self.sync(room, client);
    }

    /// Applies what the room sent `client` since the last call (sync
    /// replies, updates, awareness, denials), answering its step 1.
    ///
    /// # Panics
    /// If the room sent something that is not the protocol.
    pub fn sync<S: SimpleStateroomService>(&mut self, room: &mut TestRoom<S>, client: ClientId) {
        for frame in room.take(client) {
            let data = match frame {
                Received::Binary(data) => data,
                Received::Closed { code, .. } => {
                    self.closed = Some(code);
                    continue;
                }
                Received::Text(_) => continue,
            };
            let message = Message::decode_v1(&data)
                .unwrap_or_else(|e| panic!("the room sent a frame that is not y-protocols: {e}"));
            match message {
                Message::Sync(SyncMessage::SyncStep1(vector)) => {
                    let diff = self.doc.transact().encode_diff_v1(&vector);
                    let reply = Message::Sync(SyncMessage::SyncStep2(diff));
                    room.send_binary(client, &reply.encode_v1());
                }
                Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                    let update = Update::decode_v1(&update).unwrap_or_else(|e| {
                        panic!("the room sent an update that does not decode: {e}")
                    });
                    self.doc
                        .transact_mut()
                        .apply_update(update)
                        .unwrap_or_else(|e| {
                            panic!("the room sent an update that does not apply: {e}")
                        });
                }
                Message::Auth(Some(reason)) => self.denied.push(reason),
                Message::Awareness(update) => self.awareness.push(update),
                Message::Auth(None) | Message::AwarenessQuery | Message::Custom(..) => {}
            }
        }
    }

    /// Edits the copy with `edit` (which opens its own transactions) and
    /// sends the change to the room as one update.
    pub fn edit<S: SimpleStateroomService>(
        &mut self,
        room: &mut TestRoom<S>,
        client: ClientId,
        edit: impl FnOnce(&Doc),
    ) {
        let before = self.doc.transact().state_vector();
        edit(&self.doc);
        let update = self.doc.transact().encode_diff_v1(&before);
        let message = Message::Sync(SyncMessage::Update(update));
        room.send_binary(client, &message.encode_v1());
    }
}
