//! The traits and types every Stateroom service is written against.
//!
//! Users normally reach these through the `stateroom` facade (`stateroom::ClientId`,
//! `stateroom::SimpleStateroomService`, …). They live in this small crate so that
//! both the server runtime and the facade can depend on them, the way `axum-core`
//! sits under `axum`.
//!
//! A service is any type that implements [`SimpleStateroomService`]. The runtime
//! creates one instance per room, hands every event of that room to it in arrival
//! order, and lets it talk back to clients through a [`StateroomContext`].

mod client_id;
mod client_ip;
mod context;
mod directory;
#[cfg(feature = "yjs")]
pub mod doc;
mod error_frame;
mod join;
mod persist;
mod recipient;
mod room_http;
mod service;
mod session;
pub mod sync;
mod timer_key;

pub use client_id::ClientId;
pub use client_ip::{BadNet, TrustedNet};
pub use context::StateroomContext;
#[doc(hidden)]
pub use context::unserialisable;
#[doc(hidden)]
pub use directory::Publish;
pub use directory::{Presence, Reservation};
pub use error_frame::{ErrorCode, ErrorFrame};
/// The `http` crate, whose `HeaderMap` [`JoinRequest::headers`] returns.
pub use http;
pub use join::{ClientData, JoinRequest, Reject, Seat};
pub use persist::{Durability, StateError};
pub use recipient::MessageRecipient;
pub use room_http::{Command, CommandError, Reply, RoomRequest, RoomResponse};
pub use service::SimpleStateroomService;
pub use session::{ResumeRefused, SessionFrame};
pub use timer_key::TimerKey;
/// `ts-rs`, which `#[stateroom::message]` derives `TS` with.
#[cfg(feature = "typescript")]
#[doc(hidden)]
pub use ts_rs;
