//! The runtime that hosts Stateroom rooms: tokio, hyper 1 and hyper-tungstenite.
//!
//! Users normally reach it through the `stateroom` facade. The server is an
//! engine and an edge, with imports that point one way (the edge imports the
//! engine, never the reverse):
//!
//! - `engine`: rooms and their state: the room task (`room`), a room's logic
//!   without I/O (`room_core`, `members`, `gate`, `resume`, `timers`), the
//!   clients' queues (`outbox`), the registry, persistence and the store
//!   trait ([`store`]), and `handle` ([`Rooms`], [`Room`]: reaching rooms
//!   from Rust code);
//! - `edge`: between the network and the engine: listeners, HTTP routing
//!   and admission, answers and the operator's endpoints, static files,
//!   sockets and connections, embedding, and the cluster's transport;
//! - [`config`]: the [`Server`] builder, its [`Limits`] and the cluster's
//!   options; [`cli`]: the same options as flags and environment variables;
//!   [`data`]: the stored rooms' subcommands.
//!
//! `docs/architecture.md` maps every folder.
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
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cli;
pub mod config;
#[doc(hidden)]
pub mod data;
mod edge;
mod engine;
mod error;
pub mod room_id;
mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub use cli::{LogFormat, ServerArgs, init_logging, init_logging_as, run, run_rooms};
// The facade's `main` (and the macro's) start here; not an API of its own.
#[doc(hidden)]
pub use cli::{TypesFn, run_with};
#[cfg(feature = "cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
pub use config::ClusterOptions;
pub use config::{Limits, Server};
pub use edge::answer::ResponseBody;
pub use edge::embed::{Embedded, RoomsService};
pub use engine::directory::{Query, QueryError, RoomInfo, Sort};
pub use engine::handle::{Room, RoomError, Rooms};
pub use engine::kinds::KindError;
pub use engine::matchmaker::{MatchError, Reservation};
pub use engine::store;
#[cfg(feature = "yjs")]
pub use engine::yjs::{DocError, VersionInfo};
pub use error::{ClusterError, ServerError};
pub use server::ServerHandle;
