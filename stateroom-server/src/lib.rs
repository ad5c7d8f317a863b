//! The runtime that hosts Stateroom rooms: tokio, hyper 1 and hyper-tungstenite.
//!
//! Users normally reach it through the `stateroom` facade. The server is a few
//! parts whose names say what they hold:
//!
//! - `http`: route, upgrade, refuse (the table of answers is in
//!   `docs/protocol.md`); `answer` (`/healthz`, `/readyz`, `/metrics`) and
//!   `admin` (the operator's listener and `/admin/rooms`);
//! - `connection`: one client's socket loop;
//! - `event`: what connections tell rooms;
//! - `room`: the task that owns a room's state and serialises its events;
//! - `room_core`, `members`, `resume`: a room's logic without I/O (its
//!   service, its clients and their sessions), shared with the test kit;
//! - `rooms`: the registry that creates, finds and frees rooms;
//! - `shared`: what every part shares (config, registry, metrics);
//!   `metrics` and `stats`: the Prometheus exposition and rooms' own counts;
//! - [`config`]: the [`Server`] builder and its [`Limits`];
//! - [`cli`]: the same options as flags and environment variables.
//!
//! ```no_run
//! use stateroom_core::{ClientId, MessageRecipient, SimpleStateroomService, StateroomContext};
//! use stateroom_server::Server;
//!
//! struct Echo;
//!
//! impl SimpleStateroomService for Echo {
//!     fn new(_room_id: &str, _ctx: &impl StateroomContext) -> Self {
//!         Echo
//!     }
//!     fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
//!         ctx.send_message(client, text);
//!     }
//! }
//!
//! fn main() {
//!     Server::new().port(8080).serve::<Echo>().expect("server failed");
//! }
//! ```

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;
pub mod config;
pub mod data;
mod edge;
mod engine;
mod error;
pub mod room_id;
mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub use cli::{LogFormat, ServerArgs, TypesFn, init_logging, init_logging_as, run, run_with};
pub use config::{Limits, Server};
pub use edge::answer::ResponseBody;
pub use edge::cluster;
pub use edge::embed::{Embedded, RoomsService};
pub use engine::{handle, store};
pub use error::ServerError;
pub use server::ServerHandle;
