use crate::StateError;
use crate::{
    ClientData, ClientId, Command, CommandError, Durability, JoinRequest, Reject, Reply,
    RoomRequest, RoomResponse, StateroomContext, TimerKey,
};
use std::time::Duration;

/// A stateful WebSocket service: one instance per room.
///
/// The runtime calls [`new`](Self::new) when the first client joins a room, then
/// calls the other hooks, one at a time and in the order the events happened, for
/// as long as the room lives. Every hook but `new` does nothing by default.
///
/// The `#[stateroom::service]` macro writes this implementation for you from a
/// plain `impl` block; implementing the trait by hand is equally supported.
///
/// ```
/// use stateroom_core::{ClientId, MessageRecipient, SimpleStateroomService, StateroomContext};
///
/// struct Echo;
///
/// impl SimpleStateroomService for Echo {
///     fn new(_room_id: &str, _ctx: &impl StateroomContext) -> Self {
///         Echo
///     }
///
///     fn message(&mut self, client: ClientId, message: &str, ctx: &impl StateroomContext) {
///         ctx.send_message(MessageRecipient::Client(client), message);
///     }
/// }
/// ```
pub trait SimpleStateroomService: Send + Sized + 'static {
    /// How long a client whose connection dropped keeps its seat (its
    /// `ClientId`, its data, the frames sent to it meanwhile) for a resume;
    /// `None`, the default, turns reconnection off. The server's
    /// `reconnect_window` option overrides it. See `docs/protocol.md`.
    const RECONNECT_WINDOW: Option<Duration> = None;

    /// `Some` for a persisted service (`#[stateroom::service(persist)]`):
    /// rooms survive restarts, saved as JSON snapshots of the whole struct.
    /// `None`, the default: rooms live in memory only.
    const PERSIST: Option<Durability> = None;

    /// The version of the persisted state's shape; bump it when a change
    /// needs a migration (`migrate_state`). Snapshots record it.
    const STATE_VERSION: u32 = 1;

    /// The state as JSON, for a snapshot (persisted services only; the
    /// macro writes it with `serde_json`).
    ///
    /// # Errors
    /// When the state cannot be written as JSON, or the service is not
    /// persisted.
    fn save_state(&self) -> Result<String, StateError> {
        Err(StateError::NotPersisted)
    }

    /// Rebuilds the state from a snapshot written at `version`, migrating it
    /// first when `version` is older than [`STATE_VERSION`](Self::STATE_VERSION).
    ///
    /// # Errors
    /// When the snapshot does not decode or migrate, or is newer than the
    /// code: the room is then refused and the snapshot left as it is.
    fn load_state(version: u32, json: &str) -> Result<Self, StateError> {
        let _ = (version, json);
        Err(StateError::NotPersisted)
    }

    /// A room was loaded from its snapshot (after a restart, or after it was
    /// unloaded while idle). Timers are re-armed before it runs.
    fn restore(&mut self, context: &impl StateroomContext) {
        let _ = context;
    }

    /// Builds the room's state when its first client joins.
    fn new(room_id: &str, context: &impl StateroomContext) -> Self;

    /// Decides whether a client may join, before the WebSocket upgrade (a
    /// rejection answers the HTTP request with its status and body, opens no
    /// socket and runs no other hook). An accepted join attaches data to the
    /// client, read later with
    /// [`StateroomContext::client_data`]. Runs for every connection,
    /// resumes included (a resumed client keeps its first data). Accepts
    /// everyone by default.
    fn join(
        &self,
        request: &JoinRequest,
        context: &impl StateroomContext,
    ) -> Result<ClientData, Reject> {
        let _ = (request, context);
        Ok(ClientData::none())
    }

    /// A client has joined the room.
    fn connect(&mut self, client: ClientId, context: &impl StateroomContext) {
        let _ = (client, context);
    }

    /// A client has left the room: it closed the connection, the connection
    /// dropped (and, with reconnection on, it did not come back in time), or
    /// the server removed it. Runs exactly once per client. Messages sent to
    /// it from now on are discarded.
    fn disconnect(&mut self, client: ClientId, context: &impl StateroomContext) {
        let _ = (client, context);
    }

    /// Whether rooms answer HTTP (`GET`/`POST /rooms/{id}`) through
    /// [`request`](Self::request); without it those requests get 404.
    const ANSWERS_HTTP: bool = false;

    /// A command from Rust code outside the room (a server-side handle's
    /// `command::<C, R>`), with its reply. Runs in the room's task like every
    /// other event.
    ///
    /// # Errors
    /// [`CommandError::NoHook`] by default; the macro's version reports a
    /// command of the wrong type.
    fn command(
        &mut self,
        command: Command,
        context: &impl StateroomContext,
    ) -> Result<Reply, CommandError> {
        let _ = (command, context);
        Err(CommandError::NoHook)
    }

    /// An HTTP request to the room (when [`ANSWERS_HTTP`](Self::ANSWERS_HTTP)),
    /// after the `join` hook accepted it.
    fn request(&mut self, request: &RoomRequest, context: &impl StateroomContext) -> RoomResponse {
        let _ = (request, context);
        RoomResponse::error(
            http::StatusCode::NOT_FOUND,
            "not_found",
            "this room does not answer HTTP",
        )
    }

    /// A client whose connection dropped came back within the reconnection
    /// window, with the same `ClientId`; the frames it missed have already
    /// been sent again.
    fn reconnect(&mut self, client: ClientId, context: &impl StateroomContext) {
        let _ = (client, context);
    }

    /// A client sent a text frame.
    fn message(&mut self, client: ClientId, message: &str, context: &impl StateroomContext) {
        let _ = (client, message, context);
    }

    /// A client sent a binary frame.
    fn binary(&mut self, client: ClientId, message: &[u8], context: &impl StateroomContext) {
        let _ = (client, message, context);
    }

    /// The timer set with [`StateroomContext::set_timer`] has fired.
    fn timer(&mut self, context: &impl StateroomContext) {
        let _ = context;
    }

    /// Whether rooms sync state: the runtime calls [`view`](Self::view) and
    /// [`private_view`](Self::private_view) only when this is `true`. The
    /// macro sets it when the impl has a `view` or `private_view` hook.
    const SYNC: bool = false;

    /// Whether the room sends its clients who is in it, as the `presence`
    /// document (`#[stateroom::service(presence)]`, or
    /// `presence = "count"`): see [`Presence`](crate::Presence). Off by
    /// default.
    const PRESENCE: crate::Presence = crate::Presence::Off;

    /// Whether the room directory (`GET /rooms`, the live lobby) shows this
    /// service's rooms on the public port (`#[stateroom::service(listed)]`).
    /// Unlisted rooms are listed only on the admin listener. Matchmaking
    /// works for both.
    const LISTED: bool = false;

    /// How often a synced room (one with a [`view`](Self::view)) sends its
    /// patches: `None`, the default, after every batch of events; `Some(d)`
    /// at most once per `d` (`#[stateroom::service(patch_rate = "50ms")]`).
    const PATCH_RATE: Option<Duration> = None;

    /// What every client sees of the room, as JSON: the runtime sends it as a
    /// snapshot when a client joins, then, after each batch of events (or at
    /// [`PATCH_RATE`](Self::PATCH_RATE)), the JSON Patch from what each
    /// client last received, when there is one (`docs/protocol.md`, "State
    /// sync"). `None`, the default: the room does not sync state.
    ///
    /// The macro writes it from a `fn view(&self) -> T` hook with
    /// `serde_json::to_value`.
    fn view(&self) -> Option<Result<serde_json::Value, serde_json::Error>> {
        None
    }

    /// What only `client` sees, synced as a second document beside the
    /// shared [`view`](Self::view) (a player's hand of cards). `None`, the
    /// default: no private view.
    fn private_view(
        &self,
        client: ClientId,
    ) -> Option<Result<serde_json::Value, serde_json::Error>> {
        let _ = client;
        None
    }

    /// Whether rooms hold a Yjs document that `y-websocket` clients sync
    /// with over binary frames (`#[stateroom::service(doc)]`): binary frames
    /// then carry the y-protocols messages instead of reaching
    /// [`binary`](Self::binary). See [`doc`](crate::doc).
    #[cfg(feature = "yjs")]
    const DOC: bool = false;

    /// A doc room's document is new (the room was created, not restored):
    /// fill it with its first content. Edits made here are sent and saved
    /// like any other.
    #[cfg(feature = "yjs")]
    fn seed(&mut self, doc: &yrs::Doc, context: &impl StateroomContext) {
        let _ = (doc, context);
    }

    /// A client sent `update` to the document: `Ok` applies it (and
    /// broadcasts it, once durable); a [`Reject`] drops it and tells the
    /// client with a y-protocols permission-denied message carrying
    /// [`Reject::body`]. Accepts everything by default.
    ///
    /// # Errors
    /// The rejection the client is told.
    #[cfg(feature = "yjs")]
    fn doc_update(
        &mut self,
        client: ClientId,
        update: &crate::doc::DocUpdate<'_>,
        context: &impl StateroomContext,
    ) -> Result<(), Reject> {
        let _ = (client, update, context);
        Ok(())
    }

    /// The document changed during the last batch of events (by clients or
    /// by hooks): once per batch, after the changes were applied. Edits made
    /// here are sent and saved, but do not run this hook again.
    #[cfg(feature = "yjs")]
    fn doc_changed(&mut self, doc: &yrs::Doc, context: &impl StateroomContext) {
        let _ = (doc, context);
    }

    /// A named timer set with [`StateroomContext::set_timeout`] or
    /// [`StateroomContext::set_interval`] has fired.
    fn alarm(&mut self, key: &TimerKey, context: &impl StateroomContext) {
        let _ = (key, context);
    }
}
