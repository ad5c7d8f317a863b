//! Yjs documents: what a `doc` service's hooks see
//! (`#[stateroom::service(doc)]`, feature `yjs`).
//!
//! A doc room holds one [`yrs::Doc`] that stock `y-websocket` clients sync
//! with over binary frames (`docs/protocol.md`, "Yjs documents"). The
//! runtime owns the document and its awareness; the service validates what
//! clients send ([`SimpleStateroomService::doc_update`]), reacts to changes
//! ([`SimpleStateroomService::doc_changed`]), seeds a new document
//! ([`SimpleStateroomService::seed`]), and edits it from any hook through
//! [`StateroomContext::doc`].
//!
//! [`SimpleStateroomService::doc_update`]: crate::SimpleStateroomService::doc_update
//! [`SimpleStateroomService::doc_changed`]: crate::SimpleStateroomService::doc_changed
//! [`SimpleStateroomService::seed`]: crate::SimpleStateroomService::seed
//! [`StateroomContext::doc`]: crate::StateroomContext::doc

/// The `yrs` crate the runtime's documents are built with: use this one
/// (`stateroom::yjs::yrs`) so that the types match.
pub use yrs;

/// An update a client sent to a doc room, before it is applied: what the
/// `update` hook validates (a read-only client, a size limit, a schema).
#[derive(Debug)]
pub struct DocUpdate<'a> {
    bytes: &'a [u8],
    update: yrs::Update,
}

impl<'a> DocUpdate<'a> {
    /// An update as the runtime decoded it from `bytes` (lib0 v1 encoding).
    #[doc(hidden)]
    #[must_use]
    pub fn new(bytes: &'a [u8], update: yrs::Update) -> Self {
        DocUpdate { bytes, update }
    }

    /// The decoded update, to apply.
    #[doc(hidden)]
    #[must_use]
    pub fn into_update(self) -> yrs::Update {
        self.update
    }

    /// The update as the client encoded it (Yjs's v1 update encoding).
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Its size in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether it carries nothing (an empty update: no insertions, no
    /// deletions).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.update.is_empty()
    }

    /// The decoded update: its blocks and delete set, for schema checks.
    #[must_use]
    pub fn update(&self) -> &yrs::Update {
        &self.update
    }
}
