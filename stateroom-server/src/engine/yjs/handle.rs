//! A room handle's way to a doc room's document: its named versions, and
//! closures run on it (an agent editing, an export). Each is a command to
//! the room, answered behind the output gate: an edit's answer arrives once
//! the edit is as durable as the room promises.

use super::history::{DocError, DocOp, VersionInfo};
use crate::engine::handle::{Room, RoomError};
use std::any::Any;
use yrs::Doc;

impl Room {
    async fn doc_op<T: Any>(&self, op: DocOp) -> Result<T, RoomError> {
        let answer = self
            .command::<DocOp, Result<Box<dyn Any + Send>, DocError>>(op)
            .await?
            .map_err(|error| RoomError::Doc {
                room: self.id().to_owned(),
                error,
            })?;
        answer.downcast::<T>().map(|value| *value).map_err(|_| {
            RoomError::Command(stateroom_core::CommandError::WrongType {
                expected: std::any::type_name::<T>(),
                got: "another type",
            })
        })
    }

    /// The document's named versions, oldest first.
    ///
    /// # Errors
    /// [`RoomError::Doc`] when the room's service is not a `doc` service,
    /// or the room could not be reached.
    pub async fn doc_versions(&self) -> Result<Vec<VersionInfo>, RoomError> {
        self.doc_op(DocOp::Versions).await
    }

    /// Keeps the document as it is now as version `name` (replacing a
    /// version of that name), saved with the room.
    ///
    /// # Errors
    /// As [`doc_versions`](Self::doc_versions).
    pub async fn save_doc_version(&self, name: &str) -> Result<VersionInfo, RoomError> {
        self.doc_op(DocOp::Save(name.to_owned())).await
    }

    /// Makes the document's content version `name`'s again, as one change
    /// every client receives (history is kept: the change can itself be
    /// undone by restoring a later version).
    ///
    /// # Errors
    /// [`RoomError::Doc`] with [`DocError::NoSuchVersion`], or as
    /// [`doc_versions`](Self::doc_versions).
    pub async fn restore_doc_version(&self, name: &str) -> Result<(), RoomError> {
        self.doc_op(DocOp::Restore(name.to_owned())).await
    }

    /// Deletes version `name`; whether it existed.
    ///
    /// # Errors
    /// As [`doc_versions`](Self::doc_versions).
    pub async fn delete_doc_version(&self, name: &str) -> Result<bool, RoomError> {
        self.doc_op(DocOp::Delete(name.to_owned())).await
    }

    /// Runs `edit` on the room's document, in the room's task, and returns
    /// what it returns. Changes it makes (in transactions) reach every
    /// client and the store like a client's; the answer arrives once they
    /// are as durable as the room promises.
    ///
    /// ```no_run
    /// # async fn agent(room: stateroom_server::Room) -> Result<(), stateroom_server::RoomError> {
    /// use yrs::{Text, Transact};
    /// room.with_doc(|doc| {
    ///     let body = doc.get_or_insert_text("body");
    ///     body.push(&mut doc.transact_mut(), "\n-- summarised by the agent");
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`doc_versions`](Self::doc_versions).
    pub async fn with_doc<R: Send + 'static>(
        &self,
        edit: impl FnOnce(&Doc) -> R + Send + 'static,
    ) -> Result<R, RoomError> {
        let run = Box::new(move |doc: &Doc| Box::new(edit(doc)) as Box<dyn Any + Send>);
        self.doc_op(DocOp::Run(run)).await
    }
}
