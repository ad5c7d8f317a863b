use crate::{MessageRecipient, TimerKey};
use serde::Serialize;
use std::time::Duration;

/// What a service can do to the world around it: send messages to the clients of
/// its room and schedule timers.
///
/// The runtime passes a context to every hook of a
/// [`SimpleStateroomService`](crate::SimpleStateroomService). Every method is
/// non-blocking: messages are queued for delivery in the order they were sent.
///
/// # Timers
///
/// A room has the seed's single timer ([`set_timer`](Self::set_timer), which
/// runs the `timer` hook) and any number of named timers
/// ([`set_timeout`](Self::set_timeout), [`set_interval`](Self::set_interval),
/// [`cancel_timer`](Self::cancel_timer)), which run the `alarm` hook with their
/// key. Timers fire in deadline order (ties in the order they were set), die
/// with their room, and cost the room one runtime timer however many are
/// pending.
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

    /// Schedules (or, if `key` is pending, replaces) a named timer: `alarm`
    /// runs with `key` after `after`, then, if `every` is given, every `every`
    /// after that on a fixed schedule (no drift; ticks a late room missed are
    /// skipped, not bunched). A zero period counts as 1 ms.
    ///
    /// [`set_timeout`](Self::set_timeout) and [`set_interval`](Self::set_interval)
    /// are the usual way in.
    fn schedule(&self, key: TimerKey, after: Duration, every: Option<Duration>);

    /// Cancels the named timer `key`, if pending.
    fn cancel(&self, key: &TimerKey);

    /// Runs `alarm` with `key` once, `after` from now, replacing any pending
    /// timer with the same key.
    ///
    /// ```
    /// # use stateroom_core::StateroomContext;
    /// # use std::time::Duration;
    /// # fn example(ctx: &impl StateroomContext) {
    /// ctx.set_timeout("turn-over", Duration::from_secs(30));
    /// # }
    /// ```
    fn set_timeout<K: Serialize + ?Sized>(&self, key: &K, after: Duration) {
        match TimerKey::new(key) {
            Ok(key) => self.schedule(key, after, None),
            Err(error) => report_serialize_error(&error),
        }
    }

    /// Runs `alarm` with `key` every `period`, first one `period` from now,
    /// replacing any pending timer with the same key.
    fn set_interval<K: Serialize + ?Sized>(&self, key: &K, period: Duration) {
        match TimerKey::new(key) {
            Ok(key) => self.schedule(key, period, Some(period)),
            Err(error) => report_serialize_error(&error),
        }
    }

    /// Cancels the named timer `key` (timeout or interval), if pending.
    fn cancel_timer<K: Serialize + ?Sized>(&self, key: &K) {
        if let Ok(key) = TimerKey::new(key) {
            self.cancel(&key);
        }
    }

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
    eprintln!("stateroom: could not serialise a message or timer key: {error}");
}
