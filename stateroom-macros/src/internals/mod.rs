//! The macro's internal model, in the manner of serde_derive's `internals`:
//! the hook catalogue (one table), the model a parsed `impl` block becomes,
//! and the error collector. `parse` builds the model, `validate` checks it,
//! `expand` turns it into code.

pub(crate) mod errors;
pub(crate) mod hooks;
pub(crate) mod model;

pub(crate) use errors::Errors;
pub(crate) use hooks::HookKind;
pub(crate) use model::{BinaryParam, Hook, Service, ValueParam};
