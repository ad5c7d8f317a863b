use crate::MessageRecipient;
use serde::Serialize;

/// What a service can do to the world around it: send messages to the clients of
/// its room and schedule its timer.
///
/// The runtime passes a context to every hook of a
/// [`SimpleStateroomService`](crate::SimpleStateroomService). Every method is
/// non-blocking: messages are queued for delivery in the order they were sent.
pub trait StateroomContext {
    /// Sends a text frame to `recipient`.
    ///
    /// A broadcast shares one copy of `message` among all recipients.
    fn send_message(&self, recipient: impl Into<MessageRecipient>, message: &str);

    /// Sends a binary frame to `recipient`.
    fn send_binary(&self, recipient: impl Into<MessageRecipient>, message: &[u8]);

    /// Schedules the room's `timer` hook to run once, `ms_delay` milliseconds from
    /// now. Calling it again before the timer has fired replaces the pending timer.
    fn set_timer(&self, ms_delay: u32);

    /// Serialises `message` as JSON once and sends it as a text frame to
    /// `recipient`.
    ///
    /// Serialisation only fails for values JSON cannot represent (for example a map
    /// with non-string keys); such a value is a bug in the service, and the runtime
    /// logs it and sends nothing.
    fn send<T: Serialize + ?Sized>(&self, recipient: impl Into<MessageRecipient>, message: &T) {
        match serde_json::to_string(message) {
            Ok(text) => self.send_message(recipient, &text),
            Err(error) => report_serialize_error(&error),
        }
    }
}

#[cold]
fn report_serialize_error(error: &serde_json::Error) {
    // The core crate has no logger; the server's context overrides `send` and
    // logs through `tracing`. Other contexts (tests) see it on stderr.
    eprintln!("stateroom: could not serialise an outbound message: {error}");
}
