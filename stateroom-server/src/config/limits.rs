//! The limits a server enforces on rooms, connections and messages.

use super::{Server, defaults};
use std::time::Duration;

/// Bounds the server enforces on clients. Every field has a documented default;
/// see `docs/protocol.md` for what a client sees when it hits one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message (text or binary, after reassembling fragments) a client may
    /// send, in bytes. A larger one closes the connection with code 1009.
    /// Default: 64 KiB.
    pub max_message_size: usize,
    /// Longest room id, in bytes. Default: 64.
    pub max_room_id_len: usize,
    /// Most frames queued for one client before it counts as stalled. Default: 1024.
    /// Held in 32 bits: values past 4,294,967,295 count as that, and 0 as 1.
    pub max_queued_messages: usize,
    /// Most bytes queued for one client before it counts as stalled. Default: 4 MiB.
    /// Held in 32 bits: values past 4 GiB count as 4 GiB, and 0 as 1.
    pub max_queued_bytes: usize,
    /// How long a client's socket may refuse bytes, with its queue past
    /// `max_queued_messages` or `max_queued_bytes`, before the client is cut
    /// (close 1008): a client that stopped reading. A queue past the bound on
    /// a socket that takes bytes means the server is behind, and pauses the
    /// room instead. Default: 500 ms. Held in milliseconds, in 32 bits:
    /// at most about 49 days.
    pub slow_reader_grace: Duration,
    /// The hard limit on a client's queue, as a multiple of
    /// `max_queued_messages` and `max_queued_bytes`: past it the client is
    /// cut (1008) whatever the reason, so memory stays bounded while the
    /// server is behind. Default: 4. A multiple of 0 counts as 1.
    pub hard_queue_multiple: usize,
    /// Most clients in one room; further joins get HTTP 503. Default: 10,000.
    pub max_clients_per_room: usize,
    /// Most open WebSocket connections on the server; further upgrades get HTTP
    /// 503. Default: 50,000.
    pub max_connections: usize,
    /// Most live rooms on the server; a join that would create another gets HTTP
    /// 503. Default: 100,000.
    pub max_rooms: usize,
    /// With reconnection on: most frames kept per client for a resume (the
    /// latest ones sent). Default: 256.
    pub max_resume_messages: usize,
    /// With reconnection on: most bytes kept per client for a resume.
    /// Default: 1 MiB.
    pub max_resume_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: defaults::MAX_MESSAGE_SIZE,
            max_room_id_len: defaults::MAX_ROOM_ID_LEN,
            max_queued_messages: defaults::MAX_QUEUED_MESSAGES,
            max_queued_bytes: defaults::MAX_QUEUED_BYTES,
            slow_reader_grace: defaults::duration(defaults::SLOW_READER_GRACE),
            hard_queue_multiple: defaults::HARD_QUEUE_MULTIPLE,
            max_clients_per_room: defaults::MAX_CLIENTS_PER_ROOM,
            max_connections: defaults::MAX_CONNECTIONS,
            max_rooms: defaults::MAX_ROOMS,
            max_resume_messages: defaults::MAX_RESUME_MESSAGES,
            max_resume_bytes: defaults::MAX_RESUME_BYTES,
        }
    }
}

/// The builder's setters for [`Limits`], one per field.
impl Server {
    /// See [`Limits::max_resume_messages`].
    pub fn max_resume_messages(mut self, messages: usize) -> Self {
        self.limits.max_resume_messages = messages;
        self
    }

    /// See [`Limits::max_resume_bytes`].
    pub fn max_resume_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_resume_bytes = bytes;
        self
    }

    /// See [`Limits::max_message_size`].
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.limits.max_message_size = bytes;
        self
    }

    /// See [`Limits::max_room_id_len`].
    pub fn max_room_id_len(mut self, bytes: usize) -> Self {
        self.limits.max_room_id_len = bytes;
        self
    }

    /// See [`Limits::max_queued_messages`].
    pub fn max_queued_messages(mut self, messages: usize) -> Self {
        self.limits.max_queued_messages = messages;
        self
    }

    /// See [`Limits::max_queued_bytes`].
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_queued_bytes = bytes;
        self
    }

    /// See [`Limits::slow_reader_grace`].
    pub fn slow_reader_grace(mut self, grace: Duration) -> Self {
        self.limits.slow_reader_grace = grace;
        self
    }

    /// See [`Limits::hard_queue_multiple`].
    pub fn hard_queue_multiple(mut self, multiple: usize) -> Self {
        self.limits.hard_queue_multiple = multiple;
        self
    }

    /// See [`Limits::max_clients_per_room`].
    pub fn max_clients_per_room(mut self, clients: usize) -> Self {
        self.limits.max_clients_per_room = clients;
        self
    }

    /// See [`Limits::max_connections`].
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.limits.max_connections = connections;
        self
    }

    /// See [`Limits::max_rooms`].
    pub fn max_rooms(mut self, rooms: usize) -> Self {
        self.limits.max_rooms = rooms;
        self
    }
}
