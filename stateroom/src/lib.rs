//! Stateful WebSocket rooms: write a struct and one `impl` block, get a
//! production server.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use stateroom::{ClientId, MessageRecipient, StateroomContext};
//! use std::collections::HashMap;
//!
//! #[derive(Deserialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatIn {
//!     Say { text: String },
//! }
//!
//! #[derive(Serialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatOut<'a> {
//!     Said { from: ClientId, text: &'a str },
//! }
//!
//! #[derive(Default)]
//! struct Chat {
//!     said: HashMap<ClientId, usize>,
//! }
//!
//! #[stateroom::service]
//! impl Chat {
//!     fn message(&mut self, client: ClientId, msg: ChatIn, ctx: &impl StateroomContext) {
//!         let ChatIn::Say { text } = msg;
//!         *self.said.entry(client).or_default() += 1;
//!         ctx.send(MessageRecipient::Broadcast, &ChatOut::Said { from: client, text: &text });
//!     }
//! }
//! ```
//!
//! `cargo run` then serves it: clients open `ws://127.0.0.1:8080/ws/{room_id}`;
//! each room is an independent `Chat`, created on its first join. A text frame
//! that does not decode as a `ChatIn` gets an [`ErrorFrame`] back, and the room is
//! unharmed.
//!
//! A `join` hook decides who may enter before the socket opens, and what the
//! room knows about them; `#[stateroom::service(reconnect = "30s")]` lets a
//! client whose network dropped come back as itself (see the
//! [`service`] attribute and `docs/protocol.md`).
//!
//! The macro is sugar over [`SimpleStateroomService`], which can also be
//! implemented by hand and served with [`Server`] or [`run`].
//!
//! With the `testing` feature (for example in `[dev-dependencies]`), the
//! `stateroom::testing` module runs a service in-process with a virtual clock,
//! through the same decoding, error frames and timer order as the server.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `serde_json`, whose `Value` a `migrate` hook takes and returns.
pub use serde_json;
pub use stateroom_core::sync;
pub use stateroom_core::{
    ClientData, ClientId, Command, CommandError, Durability, ErrorCode, ErrorFrame, JoinRequest,
    MessageRecipient, Presence, Reject, Reply, ResumeRefused, RoomRequest, RoomResponse, Seat,
    SessionFrame, SimpleStateroomService, StateError, StateroomContext, TimerKey, http,
};
#[cfg(feature = "cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
pub use stateroom_server::ClusterOptions;
pub use stateroom_server::store;
pub use stateroom_server::{
    ClusterError, Embedded, KindError, Limits, LogFormat, MatchError, Query, QueryError,
    Reservation, Room, RoomError, RoomInfo, Rooms, RoomsService, Server, ServerArgs, ServerError,
    ServerHandle, Sort, init_logging, init_logging_as, room_id, run, run_rooms,
};

#[cfg(feature = "testing")]
pub mod testing;

/// Yjs documents (feature `yjs`): rooms that stock `y-websocket` clients
/// join, declared with `#[stateroom::service(doc)]`.
///
/// The room holds a [`Doc`](crate::yjs::Doc); clients sync it over binary frames with the
/// y-websocket protocol (`docs/protocol.md`, "Yjs documents"). The
/// service's hooks: `seed` fills a new document, `update` validates a
/// client's change (`Err(Reject)` refuses it and tells the client), and
/// `changed` runs once per batch that changed the document. Any hook edits
/// the document through [`StateroomContext::doc`]; Rust code outside edits
/// it and keeps named versions through a [`Room`] handle
/// ([`Room::with_doc`], [`Room::save_doc_version`],
/// [`Room::restore_doc_version`]).
///
/// ```
/// use stateroom::yjs::{Doc, DocUpdate, GetString, Text, Transact};
/// use stateroom::{ClientId, JoinRequest, Reject, StateroomContext};
///
/// #[derive(Default)]
/// struct Notes;
///
/// #[stateroom::service(doc, no_main)]
/// impl Notes {
///     fn join(&self, request: &JoinRequest) -> Result<bool, Reject> {
///         // Whether this client may edit.
///         Ok(request.query_param("mode").as_deref() != Some("read"))
///     }
///
///     fn seed(&mut self, doc: &Doc) {
///         doc.get_or_insert_text("body").push(&mut doc.transact_mut(), "Hello");
///     }
///
///     fn update(&mut self, client: ClientId, update: &DocUpdate, ctx: &impl StateroomContext) -> Result<(), Reject> {
///         match ctx.client_data::<bool>(client) {
///             Some(true) if update.len() <= 64 * 1024 => Ok(()),
///             Some(true) => Err(Reject::forbidden("an update is at most 64 KiB")),
///             _ => Err(Reject::forbidden("this document is read-only for you")),
///         }
///     }
///
///     fn changed(&mut self, doc: &Doc) {
///         let body = doc.get_or_insert_text("body").get_string(&doc.transact());
///         tracing::debug!(chars = body.chars().count(), "the note changed");
///     }
/// }
/// # fn main() {}
/// ```
///
/// [`StateroomContext::doc`]: crate::StateroomContext::doc
#[cfg(feature = "yjs")]
#[cfg_attr(docsrs, doc(cfg(feature = "yjs")))]
pub mod yjs {
    pub use stateroom_core::doc::{DocUpdate, yrs};
    pub use stateroom_server::{DocError, VersionInfo};
    /// The document and the traits its methods come from.
    pub use yrs::{
        Array, Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, Update, XmlFragment,
    };
}

/// The typed Rust client (feature `client`): `stateroom::client::Client::<In,
/// Out>::connect(url)`, with the service's own message types. See the
/// `stateroom-client` crate.
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use stateroom_client as client;

pub mod types;
pub use types::{ServiceTypes, TypesError};

/// What the generated `main` does, for a service declared with
/// `#[stateroom::service(no_main)]` (a library, or a binary with its own
/// `main` that does other things first): flags and environment variables,
/// logging, `--emit-ts`, the `data` subcommands, then serve until SIGINT or
/// SIGTERM. A hand-written service (no macro, so no TypeScript) uses
/// [`run`] instead, which has everything but `--emit-ts`.
///
/// ```no_run
/// #[derive(Default)]
/// struct Echo;
///
/// #[stateroom::service(no_main)]
/// impl Echo {
///     fn message(&mut self, client: stateroom::ClientId, text: &str, ctx: &impl stateroom::StateroomContext) {
///         ctx.send_message(client, text);
///     }
/// }
///
/// fn main() {
///     // … the binary's own start-up …
///     stateroom::main::<Echo>();
/// }
/// ```
pub fn main<S: SimpleStateroomService + ServiceTypes>() {
    types::run_typed::<S>(None);
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Turns an inherent `impl` block into a Stateroom service and, unless
/// `no_main` is given, a `main` that serves it.
///
/// ```no_run
/// use stateroom::{ClientId, MessageRecipient, StateroomContext};
///
/// #[derive(Default)]
/// struct Counter {
///     count: u64,
/// }
///
/// #[stateroom::service]
/// impl Counter {
///     fn message(&mut self, _client: ClientId, text: &str, ctx: &impl StateroomContext) {
///         if text == "+" {
///             self.count += 1;
///         }
///         ctx.send(MessageRecipient::Broadcast, &self.count);
///     }
/// }
/// ```
///
/// # Arguments
///
/// ```text
/// #[stateroom::service]                      // generate the trait impl and `fn main`
/// #[stateroom::service(no_main)]             // only the trait impl (libraries, tests, own binaries);
///                                            // `stateroom::main::<S>()` is then the generated main
/// #[stateroom::service(reconnect = "30s")]   // hold a dropped client's seat for 30 s
///                                            // (units: ms, s, m, h); combine with a comma
/// #[stateroom::service(persist)]             // rooms survive restarts (docs/persistence.md)
/// #[stateroom::service(persist(durability = "gated" | "debounced(1s)" | "manual", version = 2))]
/// #[stateroom::service(outbound = ChatOut)]  // the type rooms send, for `--emit-ts` (see `types`)
/// #[stateroom::service(patch_rate = "50ms")] // state sync: patches at most every 50 ms
///                                            // (default: after every batch of events)
/// ```
///
/// # Hooks
///
/// Methods are recognised by name; every other method stays an ordinary method.
/// Every hook is optional, and the context parameter may always be left out.
///
/// ```text
/// fn new() -> Self
/// fn new(room_id: &str) -> Self
/// fn new(room_id: &str, ctx: &impl StateroomContext) -> Self   // without `new`: `Default`
/// fn join(&self, request: &JoinRequest [, ctx: &impl StateroomContext]) -> Result<T, Reject>
///     // before the upgrade; `Ok(data)` attaches `data: T` to the client
///     // (`ctx.client_data::<T>(client)`), `Err(Reject::unauthorized(..))` answers 401
/// fn connect(&mut self, client: ClientId [, ctx: &impl StateroomContext])
/// fn reconnect(&mut self, client: ClientId [, ctx: &impl StateroomContext])  // resumed
/// fn disconnect(&mut self, client: ClientId [, ctx: &impl StateroomContext])  // once per client
/// fn message(&mut self, client: ClientId, msg: T [, ctx: &impl StateroomContext])
///     // T: serde::Deserialize (decoded from JSON text), or &str / String (raw text)
/// fn binary(&mut self, client: ClientId, data: &[u8] [, ctx: &impl StateroomContext])
///     // or data: Vec<u8>
/// fn invalid(&mut self, client: ClientId, error: &ErrorFrame [, ctx: &impl StateroomContext])
///     // a frame that did not decode (its error frame already sent)
/// fn command(&mut self, command: C [, ctx: &impl StateroomContext]) -> R
///     // from outside: server.rooms().get(id)?.command::<C, R>(c).await
/// fn request(&mut self, request: &RoomRequest [, ctx: &impl StateroomContext]) -> RoomResponse
///     // GET/POST /rooms/{id}
/// fn restore(&mut self [, ctx: &impl StateroomContext])        // persisted: loaded from a snapshot
/// fn migrate(from: u32, state: serde_json::Value) -> Result<serde_json::Value, String>
///     // persisted: one step from version `from` to `from + 1`
/// fn timer(&mut self [, ctx: &impl StateroomContext])           // ctx.set_timer(ms)
/// fn alarm(&mut self, key: K [, ctx: &impl StateroomContext])   // ctx.set_timeout / set_interval
///     // K: serde::Deserialize (decoded from the key), &TimerKey, &str or String
/// fn view(&self) -> T                                  // T: serde::Serialize; `&Board` works
///     // state sync: what every client sees, sent as a snapshot then JSON Patches
/// fn private_view(&self, client: ClientId) -> T        // what only `client` sees
/// ```
///
/// # State sync
///
/// With a `view` hook the room sends its state by itself: a snapshot when a
/// client connects or resumes, then, after each batch of events (or at
/// `patch_rate = "50ms"`), the RFC 6902 patch from what each client last
/// received, when anything changed. `private_view` adds a second document
/// per client that no other client ever receives. `docs/protocol.md`
/// ("State sync") has the wire; `@stateroom/client` holds the state as
/// `room.state`; the test kit's `TestRoom::assert_synced` checks it.
///
/// ```
/// use serde::Serialize;
/// use stateroom::{ClientId, StateroomContext};
/// use std::collections::BTreeMap;
///
/// #[derive(Serialize, Default)]
/// struct Board {
///     // Keyed by id: moving one unit is one small patch operation.
///     units: BTreeMap<u32, (i32, i32)>,
/// }
///
/// #[derive(Default)]
/// struct Game {
///     board: Board,
///     hands: BTreeMap<ClientId, Vec<u8>>,
/// }
///
/// #[stateroom::service(no_main, patch_rate = "50ms")]
/// impl Game {
///     fn message(&mut self, client: ClientId, unit: u32, _ctx: &impl StateroomContext) {
///         self.board.units.entry(unit).or_default().0 += 1;
///     }
///     fn view(&self) -> &Board {
///         &self.board
///     }
///     fn private_view(&self, client: ClientId) -> &[u8] {
///         self.hands.get(&client).map_or(&[], Vec::as_slice)
///     }
/// }
/// ```
///
/// # What it generates
///
/// For `message(&mut self, client: ClientId, msg: ChatIn, ctx: &impl StateroomContext)`
/// and no `new`, `binary` or `timer` hook, the expansion is equivalent to:
///
/// ```ignore
/// impl stateroom::SimpleStateroomService for Chat {
///     fn new(room_id: &str, ctx: &impl StateroomContext) -> Self {
///         Chat::default()
///     }
///     fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
///         match serde_json::from_str::<ChatIn>(text) {
///             Ok(msg) => Chat::message(self, client, msg, ctx),
///             // {"error":{"code":"invalid_json"|"invalid_message","message":"…"}}
///             Err(e) => ctx.send_message(client, &ErrorFrame::from_decode_error(&e).to_json()),
///         }
///     }
///     fn binary(&mut self, client: ClientId, _: &[u8], ctx: &impl StateroomContext) {
///         // {"error":{"code":"unsupported_frame",…}}
///         ctx.send_message(client, &ErrorFrame::new(ErrorCode::UnsupportedFrame, "…").to_json());
///     }
/// }
///
/// fn main() {
///     stateroom::run::<Chat>(); // flags, env vars, logging, serve until SIGINT/SIGTERM
/// }
/// ```
///
/// # Errors it reports
///
/// Each at the user's own tokens, with a fix: the attribute on something other
/// than an inherent impl (a struct, a function, a trait impl); a self type with
/// generic or lifetime parameters; a hook that is `async`, `unsafe`, `const` or
/// generic; a hook with the wrong receiver (`self`, `&self`; `&mut self` on
/// `join`) or the wrong number of parameters; a hook missing its `client`
/// parameter; a context taken as `&dyn StateroomContext`; a `new` that takes
/// `self` or returns nothing; a `join` that returns nothing; a method whose
/// name is a near miss of a hook's (`on_message`, `mesage`) when it takes
/// `&mut self`, a context or a `JoinRequest`; the same hook twice; an unknown
/// argument (`no_mian`, which then still leaves `main` out) or a bad
/// `reconnect` window; a `view` or `private_view` that takes `&mut self` or
/// returns nothing; a `patch_rate` that is not a duration above zero, or on a
/// service without a view. rustc, aimed by the macro, reports a message or timer
/// key type that is not `Deserialize` (on that type), a client parameter that
/// is not a `ClientId` (on its type), a `join` that does not return
/// `Result<T, Reject>` (on its return type), a view that is not `Serialize`
/// (on its return type), and a state with neither `new` nor `Default`.
/// Set `STATEROOM_MACROS_DEBUG=1` to print the expansion to stderr.
pub use stateroom_macros::service;

/// Gives a message type (or a type inside one) a TypeScript definition, so
/// that `--emit-ts PATH` on the service's `main` writes the types a browser
/// client sends and receives (see [`types`]). One line above the
/// `#[derive(...)]`; serde's `tag`, `content`, `untagged`, `rename`,
/// `rename_all`, `skip` and `default` shape the TypeScript as they shape the
/// JSON; a `ClientId` is a `number`.
///
/// ```
/// #[stateroom::message]
/// #[derive(serde::Deserialize)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum ChatIn {
///     Say { text: String },
///     Leave,
/// }
/// ```
///
/// It takes no arguments, and goes on a struct or an enum (not a union).
/// A type inside a message that lacks it is reported by rustc as "the trait
/// bound `Point: …ts_rs::TS` is not satisfied" on the field: mark `Point`
/// with `#[stateroom::message]` too.
pub use stateroom_macros::message;
