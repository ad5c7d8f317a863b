use crate::{ClientId, StateroomContext, TimerKey};

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
    /// Builds the room's state when its first client joins.
    fn new(room_id: &str, context: &impl StateroomContext) -> Self;

    /// A client has joined the room.
    fn connect(&mut self, client: ClientId, context: &impl StateroomContext) {
        let _ = (client, context);
    }

    /// A client has left the room: it closed the connection, the connection
    /// dropped, or the server removed it. Messages sent to it from now on are
    /// discarded.
    fn disconnect(&mut self, client: ClientId, context: &impl StateroomContext) {
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

    /// A named timer set with [`StateroomContext::set_timeout`] or
    /// [`StateroomContext::set_interval`] has fired.
    fn alarm(&mut self, key: &TimerKey, context: &impl StateroomContext) {
        let _ = (key, context);
    }
}
