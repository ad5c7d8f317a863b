#![doc = include_str!("../README.md")]
//!
//! ---
//!
//! A typed Rust client for Stateroom rooms, as complete as
//! `@stateroom/client`: the session frame, reconnection with backoff and
//! jitter, resume with the token and `ack`, exactly-once sends (numbered,
//! kept until the room applied them, resent after a drop), a bounded
//! offline queue, the synced state (`view`, `private_view`) and presence,
//! and status changes. The wire protocol is `docs/protocol.md`.
//!
//! The message types are the service's own: put them in a crate both the
//! server and the client depend on, and the compiler checks both ends.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use serde::{Deserialize, Serialize};
//! use stateroom_client::{Client, Received};
//!
//! #[derive(Serialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatIn { Say { text: String } }
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatOut { Said { from: u32, text: String } }
//!
//! let client = Client::<ChatIn, ChatOut>::connect("ws://127.0.0.1:8080/ws/lobby").await?;
//! client.send(&ChatIn::Say { text: "hello".into() })?;
//! while let Some(received) = client.recv().await {
//!     match received {
//!         Received::Message(ChatOut::Said { from, text }) => println!("{from}: {text}"),
//!         Received::Status(status) => println!("now {status:?}"),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Another transport
//!
//! [`Protocol`] is the whole protocol as a state machine with no I/O and no
//! clock: tell it a connection opened ([`Protocol::opened`]: it answers with
//! the frames to send), a frame arrived ([`Protocol::frame`]: events, and
//! frames to send back), the connection closed ([`Protocol::closed_with`]:
//! when to reconnect); ask it for the next connection's query
//! ([`Protocol::query`]). The `tokio` feature (on by default) adds
//! [`Client`] over `tokio-tungstenite`. A build for the browser through
//! WebAssembly would drive the same machine from `web_sys::WebSocket`'s
//! callbacks with a timer from the browser (`gloo-timers`), with the
//! `tokio` feature off; the randomness for the jitter comes from
//! `getrandom`, which needs its `wasm_js` backend there.

mod backoff;
#[cfg(feature = "tokio")]
pub mod bots;
#[cfg(feature = "tokio")]
mod client;
#[cfg(feature = "tokio")]
mod directory;
mod docs;
mod protocol;

pub use backoff::{Backoff, Reconnect, retried_close_code};
#[cfg(feature = "tokio")]
pub use client::{Client, ConnectError, Received, Status};
#[cfg(feature = "tokio")]
pub use directory::{
    MatchRequest, MatchmakeError, Reservation, join_or_create, matchmake, watch_rooms,
};
pub use protocol::{Event, Frame, Options, Protocol, Received as ProtocolOutput, SendError};
pub use stateroom_core::sync::Doc;
pub use stateroom_core::{ErrorFrame, ResumeRefused, SessionFrame};
