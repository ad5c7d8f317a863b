//! The y-websocket protocol on a doc room's binary frames: sync step 1
//! and 2, updates, awareness and its query, and the permission-denied
//! message a refused update gets (`docs/protocol.md`, "Yjs documents").
//!
//! What reveals the document (a sync reply, another client's update) goes
//! through the output gate like any frame; awareness is ephemeral and
//! goes around it, as presence does.

use super::{Panicked, RoomCore};
use crate::engine::members::{Leave, Outlet};
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message as Frame;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::doc::DocUpdate;
use stateroom_core::{ClientId, SimpleStateroomService};
use std::time::Duration;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact, Update};

/// A y-protocols message as a binary frame.
fn frame(message: &Message) -> Frame {
    Frame::Binary(Bytes::from(message.encode_v1()))
}

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// A client connected (or resumed): the server's sync step 1, so that
    /// the client sends what the server lacks, and who else is here.
    pub(crate) fn doc_connected(&self, client: ClientId) {
        let (Some(doc), Some(slot)) = (&self.members.doc, self.members.clients.get(&client)) else {
            return;
        };
        let step1 = Message::Sync(SyncMessage::SyncStep1(doc.doc().transact().state_vector()));
        self.members.push_or_hold(client, slot, frame(&step1));
        let awareness = doc.awareness.borrow();
        if awareness.iter().next().is_some()
            && let Ok(update) = awareness.update()
        {
            self.members
                .push(client, slot, frame(&Message::Awareness(update)));
        }
    }

    /// A binary frame from a client of a doc room: one y-protocols message.
    pub(crate) fn doc_binary(
        &mut self,
        client: ClientId,
        data: &[u8],
        now: Duration,
    ) -> Result<(), Panicked> {
        let message = match Message::decode_v1(data) {
            Ok(message) => message,
            Err(error) => return self.doc_refuse(client, &error.to_string(), now),
        };
        match message {
            Message::Sync(SyncMessage::SyncStep1(vector)) => {
                let Some(doc) = &self.members.doc else {
                    return Ok(());
                };
                let diff = doc.doc().transact().encode_diff_v1(&vector);
                let reply = Message::Sync(SyncMessage::SyncStep2(diff));
                if let Some(slot) = self.members.clients.get(&client) {
                    self.members.push_or_hold(client, slot, frame(&reply));
                }
                Ok(())
            }
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                self.doc_update(client, &update, now)
            }
            Message::Awareness(update) => {
                self.doc_awareness(client, data, update);
                self.remove_leaving(now)
            }
            Message::AwarenessQuery => {
                if let (Some(doc), Some(slot)) =
                    (&self.members.doc, self.members.clients.get(&client))
                    && let Ok(update) = doc.awareness.borrow().update()
                {
                    self.members
                        .push(client, slot, frame(&Message::Awareness(update)));
                }
                self.remove_leaving(now)
            }
            // Clients send no auth messages; other tags are extensions this
            // server does not speak (ignored, as y-websocket's server does).
            Message::Auth(_) | Message::Custom(..) => Ok(()),
        }
    }

    /// An update from `client`: validated by the `doc_update` hook, then
    /// applied (the observer collects it for the batch's broadcast and
    /// log), or refused with a permission-denied message.
    fn doc_update(
        &mut self,
        client: ClientId,
        bytes: &[u8],
        now: Duration,
    ) -> Result<(), Panicked> {
        let update = match Update::decode_v1(bytes) {
            Ok(update) => update,
            Err(error) => return self.doc_refuse(client, &error.to_string(), now),
        };
        if update.is_empty() {
            // Nothing to apply or refuse (a provider's step 2 when it has
            // nothing the room lacks).
            return Ok(());
        }
        let update = DocUpdate::new(bytes, update);
        let verdict = self.call(now, |service, ctx| service.doc_update(client, &update, ctx))?;
        let Some(doc) = &self.members.doc else {
            return Ok(());
        };
        match verdict {
            Ok(()) => {
                let applied = doc
                    .doc()
                    .transact_mut_with(u32::from(client))
                    .apply_update(update.into_update());
                match applied {
                    Ok(()) => Ok(()),
                    Err(error) => self.doc_refuse(client, &error.to_string(), now),
                }
            }
            Err(reject) => {
                if let Some(slot) = self.members.clients.get(&client)
                    && let Some(outlet) = slot.outlet()
                {
                    let denied = Message::Auth(Some(reject.body().to_owned()));
                    self.members.control(client, outlet, frame(&denied));
                }
                self.remove_leaving(now)
            }
        }
    }

    /// Awareness from `client`: applied, the ids it sets remembered as its
    /// own, and the frame passed on to the others as it came.
    fn doc_awareness(&self, client: ClientId, data: &[u8], update: yrs::sync::AwarenessUpdate) {
        let Some(doc) = &self.members.doc else {
            return;
        };
        {
            let mut controlled = doc.controlled.borrow_mut();
            let ids = controlled.entry(client).or_default();
            for (&id, entry) in &update.clients {
                let removed = entry.json.as_ref() == "null";
                match (ids.contains(&id), removed) {
                    (false, false) => ids.push(id),
                    (true, true) => ids.retain(|&other| other != id),
                    _ => {}
                }
            }
        }
        if doc.awareness.borrow_mut().apply_update(update).is_err() {
            return;
        }
        let frame = Frame::Binary(Bytes::copy_from_slice(data));
        for (&other, slot) in &self.members.clients {
            if other != client {
                self.members.push(other, slot, frame.clone());
            }
        }
    }

    /// A client left the room: its awareness states go, and the others are
    /// told (once: this runs from [`RoomCore::remove`]).
    pub(crate) fn doc_left(&self, client: ClientId) {
        let Some(doc) = &self.members.doc else {
            return;
        };
        let Some(ids) = doc.controlled.borrow_mut().remove(&client) else {
            return;
        };
        if ids.is_empty() {
            return;
        }
        let mut awareness = doc.awareness.borrow_mut();
        for &id in &ids {
            awareness.remove_state(id);
        }
        let Ok(update) = awareness.update_with_clients(ids) else {
            return;
        };
        let frame = frame(&Message::Awareness(update));
        for (&other, slot) in &self.members.clients {
            self.members.push(other, slot, frame.clone());
        }
    }

    /// Sends the changes committed since the last call to every client but
    /// the one each came from (behind the gate), and logs them. Whether
    /// there were any.
    fn doc_send_changes(&self) -> bool {
        let Some(doc) = &self.members.doc else {
            return false;
        };
        let changes = doc.take_changes();
        for change in &changes {
            let frame = frame(&Message::Sync(SyncMessage::Update(change.update.clone())));
            for (&client, slot) in &self.members.clients {
                if change.origin != Some(client) {
                    self.members.push_or_hold(client, slot, frame.clone());
                }
            }
        }
        !changes.is_empty()
    }

    /// The end of a batch: the document's changes go out, the
    /// `doc_changed` hook runs once if there were any, and what it changed
    /// goes out too.
    pub(crate) fn doc_flush(&mut self, now: Duration) -> Result<(), Panicked> {
        if !self.doc_send_changes() {
            return Ok(());
        }
        let Some(doc) = self.members.doc.as_ref().map(|doc| doc.doc().clone()) else {
            return Ok(());
        };
        self.call(now, |service, ctx| service.doc_changed(&doc, ctx))?;
        self.doc_send_changes();
        self.remove_leaving(now)
    }

    /// A frame that is not the protocol: the client is closed with 1007.
    fn doc_refuse(&mut self, client: ClientId, why: &str, now: Duration) -> Result<(), Panicked> {
        tracing::debug!(%client, %why, "a malformed Yjs message; closing the client with 1007");
        if let Some(outlet) = self
            .members
            .clients
            .get(&client)
            .and_then(|slot| slot.outlet())
        {
            outlet.close(Some(CloseFrame {
                code: CloseCode::Invalid,
                reason: "malformed Yjs message".into(),
            }));
            self.members
                .leaving
                .borrow_mut()
                .push((client, Leave::Kicked));
        }
        self.remove_leaving(now)
    }
}

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// A room handle's operation on the document (`engine::yjs::DocOp`),
    /// run with panics caught like a hook (it may run the caller's closure).
    pub(crate) fn doc_command(
        &mut self,
        command: stateroom_core::Command,
        now: Duration,
    ) -> Result<stateroom_core::Reply, Panicked> {
        use crate::engine::yjs::{DocError, DocOp};
        let Ok(op) = command.take::<DocOp>() else {
            return Ok(stateroom_core::Reply::new(()));
        };
        let answer = self.call(now, |_, ctx| match &ctx.members.doc {
            Some(doc) => doc.answer(op),
            None => Err(DocError::NotADoc),
        })?;
        Ok(stateroom_core::Reply::new(answer))
    }

    /// What the next save writes of the document (nothing for other rooms).
    pub(crate) fn doc_for_save(&self) -> crate::engine::store::StoredDoc {
        self.members
            .doc
            .as_ref()
            .map(crate::engine::yjs::DocRoom::for_save)
            .unwrap_or_default()
    }
}

#[cfg(feature = "testing")]
impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// The room's document, if it holds one.
    pub(crate) fn doc(&self) -> Option<&yrs::Doc> {
        self.members
            .doc
            .as_ref()
            .map(crate::engine::yjs::DocRoom::doc)
    }

    /// The test kit's restart: the document as a store would give it back
    /// (its whole state as the base, its versions).
    pub(crate) fn doc_reloaded(&self) -> crate::engine::members::DocField {
        let doc = self.members.doc.as_ref()?;
        let stored = crate::engine::store::StoredDoc {
            base: Some(doc.state()),
            updates: Vec::new(),
            versions: Some(doc.versions.borrow().clone()),
        };
        let persisted = self.members.settings.persist.is_some();
        Some(
            crate::engine::yjs::DocRoom::load(&stored, persisted)
                .unwrap_or_else(|why| panic!("the document does not reload: {why}")),
        )
    }
}
