//! Collaborative notes: each room holds one Yjs document that stock
//! `y-websocket` providers edit (the page in `web/`, or any editor binding:
//! ProseMirror, CodeMirror, Monaco). The service decides who may write
//! (`?mode=view` links only read), bounds the size of a change, and keeps
//! each room's word count in the room directory.
//!
//! `cargo run -p example-notes`, then open <http://127.0.0.1:8080/>. Flags
//! as every Stateroom server's: `--data-dir` for where notes are kept,
//! `--cluster` for many nodes. The tests drive it with the real `yjs` and
//! `y-websocket` packages, in Node and in Chromium.

use serde::{Deserialize, Serialize};
use stateroom::yjs::{Doc, DocUpdate, GetString, Text, Transact};
use stateroom::{ClientId, JoinRequest, Reject, StateroomContext};

/// The largest change a client may send at once.
const MAX_UPDATE: usize = 256 * 1024;

/// What a client may do, decided when it joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Edit the note.
    Edit,
    /// Only read it (`?mode=view`).
    View,
}

/// One note. Its text lives in the room's Yjs document (`body`); the state
/// here is what the server keeps beside it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Notes {
    /// Batches of edits applied.
    edits: u64,
}

#[stateroom::service(doc, persist, listed, static_dir = "web")]
impl Notes {
    fn join(&self, request: &JoinRequest) -> Result<Access, Reject> {
        match request.query_param("mode").as_deref() {
            None | Some("edit") => Ok(Access::Edit),
            Some("view") => Ok(Access::View),
            Some(other) => Err(Reject::new(
                stateroom::http::StatusCode::BAD_REQUEST,
                format!("unknown mode `{other}`: use `edit` or `view`"),
            )),
        }
    }

    fn seed(&mut self, doc: &Doc) {
        doc.get_or_insert_text("title")
            .push(&mut doc.transact_mut(), "Untitled note");
    }

    fn update(
        &mut self,
        client: ClientId,
        update: &DocUpdate,
        ctx: &impl StateroomContext,
    ) -> Result<(), Reject> {
        if ctx.client_data::<Access>(client) != Some(&Access::Edit) {
            return Err(Reject::forbidden(
                "read-only: this link can view the note but not edit it",
            ));
        }
        if update.len() > MAX_UPDATE {
            return Err(Reject::forbidden("a change is at most 256 KiB"));
        }
        Ok(())
    }

    fn changed(&mut self, doc: &Doc, ctx: &impl StateroomContext) {
        self.edits += 1;
        let body = doc.get_or_insert_text("body").get_string(&doc.transact());
        let title = doc.get_or_insert_text("title").get_string(&doc.transact());
        ctx.set_metadata(&serde_json::json!({
            "title": title,
            "words": body.split_whitespace().count(),
        }));
    }
}
