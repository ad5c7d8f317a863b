use crate::{ClientData, ClientId, ErrorCode, ErrorFrame, MessageRecipient, Publish, TimerKey};
use serde::Serialize;
use std::any::Any;
use std::time::Duration;

/// What a service can do to the world around it: send messages to the clients of
/// its room, know who they are, close them, and schedule timers.
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
/// # Clients
///
/// [`clients`](Self::clients) lists the room's clients: connected ones and,
/// for a service with reconnection enabled, those whose connection dropped
/// and whose seat is held for them ([`is_connected`](Self::is_connected) tells
/// them apart). What the `join` hook attached to a client is read with
/// [`client_data`](Self::client_data). [`close`](Self::close) removes a
/// client (a kick).
pub trait StateroomContext {
    /// The id of the room this context belongs to.
    fn room_id(&self) -> &str;

    /// The room's clients, in id order: connected ones, and those whose seat
    /// is held while they reconnect.
    fn clients(&self) -> Vec<ClientId>;

    /// Whether `client` is in the room with an open connection (`false` for
    /// a client that left, and for one whose seat is held while it
    /// reconnects).
    fn is_connected(&self, client: ClientId) -> bool;

    /// What the `join` hook attached to `client`, type-erased; `None` if the
    /// client is not in the room. [`client_data`](Self::client_data) is the
    /// typed way in; this is the runtime's side of it (hidden, like the other
    /// plumbing a context implements).
    #[doc(hidden)]
    fn client_data_any(&self, client: ClientId) -> Option<&ClientData>;

    /// What the `join` hook attached to `client`, if the client is in the
    /// room and the data is a `T`. Asking for another type than the one the
    /// hook attached is a bug in the service: the server logs it (the test
    /// kit fails the test) and this returns `None`.
    fn client_data<T: Any>(&self, client: ClientId) -> Option<&T> {
        let data = self.client_data_any(client)?;
        let value = data.downcast_ref::<T>();
        if value.is_none() {
            self.report_bug(&format!(
                "client {client}'s data is a `{}`, not the `{}` asked for",
                data.type_name(),
                std::any::type_name::<T>()
            ));
        }
        value
    }

    /// The room's Yjs document (a `doc` service, `#[stateroom::service(doc)]`;
    /// `None` otherwise). Edit it in a transaction from any hook: the
    /// runtime sends the change to every client and saves it as it does
    /// the clients' own updates.
    #[cfg(feature = "yjs")]
    fn doc(&self) -> Option<&yrs::Doc> {
        None
    }

    /// Closes `client`'s connection with `code` and `reason` after every
    /// frame already sent to it, and removes it from the room: its
    /// `disconnect` runs once, right after the current hook. Its seat is not
    /// held for a reconnection.
    ///
    /// `code` must be 1000, 1008 or 3000–4999 (an application's own); any
    /// other becomes 1008. `reason` is cut to 123 bytes.
    fn close(&self, client: ClientId, code: u16, reason: &str);

    /// Sends `client` an [`ErrorFrame`] with the application's own `code`:
    /// `{"error":{"code":"not_your_turn","message":"…"}}`, the same shape as
    /// the runtime's own error frames, so a client handles one error shape.
    fn send_error(&self, client: ClientId, code: &str, message: &str) {
        self.send_message(client, &ErrorFrame::new(code, message).to_json());
    }

    /// Persisted rooms in `manual` durability: saves the room's state at the
    /// end of the current batch of events; frames sent after this call wait
    /// until the save is durable. In other modes it saves as the mode would
    /// anyway; for rooms that are not persisted it does nothing.
    fn save(&self) {}

    /// Persisted rooms: deletes the room's stored state and closes the room
    /// once the current hook returns (clients get 1000 `room destroyed`, each
    /// its one `disconnect`). For other rooms it closes the room the same way.
    fn destroy(&self) {}

    /// Reports a bug in the service that the runtime cannot turn into an
    /// error value (a message that cannot be serialised, a timer key of the
    /// wrong type, client data asked for under the wrong type). The server
    /// logs it; the test kit fails the test with `message`.
    #[doc(hidden)]
    fn report_bug(&self, message: &str) {
        eprintln!("stateroom: {message}");
    }

    /// Counts a frame the room could not accept (an error frame with `code`
    /// went back to its sender), for the server's metrics.
    #[doc(hidden)]
    fn report_invalid(&self, code: &ErrorCode) {
        let _ = code;
    }

    /// Sends a text frame to `recipient`.
    ///
    /// A broadcast shares one copy of `message` among all recipients.
    fn send_message(&self, recipient: impl Into<MessageRecipient>, message: &str);

    /// Sends a binary frame to `recipient`.
    fn send_binary(&self, recipient: impl Into<MessageRecipient>, message: &[u8]);

    /// The seed crate's single timer, kept so that its services compile:
    /// schedules the room's `timer` hook to run once, `ms_delay` milliseconds
    /// from now; calling it again before it fired replaces it. New code uses
    /// named timers: [`set_timeout`](Self::set_timeout),
    /// [`set_interval`](Self::set_interval) and
    /// [`cancel_timer`](Self::cancel_timer), delivered to `alarm`.
    fn set_timer(&self, ms_delay: u32);

    /// Schedules (or, if `key` is pending, replaces) a named timer: `alarm`
    /// runs with `key` after `after`, then, if `every` is given, every `every`
    /// after that on a fixed schedule (no drift; ticks a late room missed are
    /// skipped, not bunched). A zero period counts as 1 ms.
    ///
    /// The runtime's primitive under [`set_timeout`](Self::set_timeout),
    /// [`set_interval`](Self::set_interval) and
    /// [`cancel_timer`](Self::cancel_timer), which are the way to say it.
    #[doc(hidden)]
    fn schedule(&self, key: TimerKey, after: Duration, every: Option<Duration>);

    /// Cancels the named timer `key`, if pending (the primitive under
    /// [`cancel_timer`](Self::cancel_timer)).
    #[doc(hidden)]
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
            Err(error) => self.report_bug(&unserialisable("timer key", &error)),
        }
    }

    /// Runs `alarm` with `key` every `period`, first one `period` from now,
    /// replacing any pending timer with the same key.
    fn set_interval<K: Serialize + ?Sized>(&self, key: &K, period: Duration) {
        match TimerKey::new(key) {
            Ok(key) => self.schedule(key, period, Some(period)),
            Err(error) => self.report_bug(&unserialisable("timer key", &error)),
        }
    }

    /// Cancels the named timer `key` (timeout or interval), if pending.
    fn cancel_timer<K: Serialize + ?Sized>(&self, key: &K) {
        if let Ok(key) = TimerKey::new(key) {
            self.cancel(&key);
        }
    }

    /// The primitive under [`set_presence`](Self::set_presence),
    /// [`set_metadata`](Self::set_metadata),
    /// [`set_capacity`](Self::set_capacity), [`lock`](Self::lock) and
    /// [`unlock`](Self::unlock). The default ignores it.
    #[doc(hidden)]
    fn publish(&self, change: Publish) {
        let _ = change;
    }

    /// Sets what the other clients see of `client` in the room's presence
    /// document (a cursor, "typing", a status), when the service has
    /// presence on ([`Presence`](crate::Presence)). Clients get the change
    /// as a patch at the next tick, however often it is set before.
    fn set_presence<P: Serialize + ?Sized>(&self, client: ClientId, presence: &P) {
        match serde_json::to_value(presence) {
            Ok(value) => self.publish(Publish::Presence(client, value)),
            Err(error) => self.report_bug(&unserialisable("presence", &error)),
        }
    }

    /// Sets what the room directory shows of this room (`GET /rooms`, the
    /// live lobby, matchmaking filters): any value that serialises to JSON,
    /// usually an object (`{"mode": "duel", "map": "dust"}`), whose fields
    /// `filter[field]=value` matches.
    fn set_metadata<M: Serialize + ?Sized>(&self, metadata: &M) {
        match serde_json::to_value(metadata) {
            Ok(value) => self.publish(Publish::Metadata(value)),
            Err(error) => self.report_bug(&unserialisable("metadata", &error)),
        }
    }

    /// The most clients the room seats (`None`, the default: only the
    /// server's `max_clients_per_room`). Past it, a join is refused with
    /// 503 `the room is full` unless it resumes a held seat or brings a seat
    /// reservation; matchmaking reserves only free seats.
    fn set_capacity(&self, seats: Option<u32>) {
        self.publish(Publish::Capacity(seats));
    }

    /// Takes the room out of matchmaking and refuses new joins (423
    /// `the room is locked`), except resumes and reserved seats: a match
    /// that has started. The directory still lists it, as locked.
    fn lock(&self) {
        self.publish(Publish::Locked(true));
    }

    /// Undoes [`lock`](Self::lock).
    fn unlock(&self) {
        self.publish(Publish::Locked(false));
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
            Err(error) => self.report_bug(&unserialisable("message", &error)),
        }
    }
}

/// The bug report for a value that cannot be serialised as JSON.
#[cold]
#[must_use]
pub fn unserialisable(what: &str, error: &serde_json::Error) -> String {
    format!("could not serialise a {what} as JSON ({error}); nothing was sent or scheduled")
}
