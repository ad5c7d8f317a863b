//! Every setting's default, written once. The builder (`Server::default`,
//! `Limits::default`, `ClusterOptions::new`) and the flags (`ServerArgs`'s
//! `default_value`s) both read these; a test checks the options table of
//! `docs/protocol.md` and `docs/scale-out.md` against what `--help` prints,
//! flags, variables and defaults alike, so the docs follow too.

use std::time::Duration;

pub(crate) const HOST: &str = "127.0.0.1";
pub(crate) const PORT: u16 = 8080;
pub(crate) const ROOM_GRACE: &str = "5s";
pub(crate) const SEAT_RESERVATION: &str = "15s";
pub(crate) const STORE_RETRY: &str = "10s";
pub(crate) const SHUTDOWN_TIMEOUT: &str = "10s";
pub(crate) const HEARTBEAT_INTERVAL: &str = "15s";
pub(crate) const HEARTBEAT_TIMEOUT: &str = "45s";
pub(crate) const SHUTDOWN_DELAY: &str = "0s";
pub(crate) const ADMIN_HOST: &str = "127.0.0.1";
pub(crate) const METRICS: bool = true;
pub(crate) const DATA_DIR: &str = "stateroom-data";
pub(crate) const SLOW_READER_GRACE: &str = "500ms";
pub(crate) const MAX_MESSAGE_SIZE: usize = 64 * 1024;
pub(crate) const MAX_ROOM_ID_LEN: usize = 64;
pub(crate) const MAX_QUEUED_MESSAGES: usize = 1024;
pub(crate) const MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;
pub(crate) const HARD_QUEUE_MULTIPLE: usize = 4;
pub(crate) const MAX_CLIENTS_PER_ROOM: usize = 10_000;
pub(crate) const MAX_CONNECTIONS: usize = 50_000;
pub(crate) const MAX_ROOMS: usize = 100_000;
pub(crate) const MAX_RESUME_MESSAGES: usize = 256;
pub(crate) const MAX_RESUME_BYTES: usize = 1024 * 1024;
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
pub(crate) const INTERNAL_ADDR: &str = "127.0.0.1:0";
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
pub(crate) const LEASE_TTL: &str = "10s";
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
pub(crate) const NODE_TTL: &str = "2s";

/// A default duration above, as a `Duration` (each parses: a test says so).
pub(crate) fn duration(text: &str) -> Duration {
    super::parse_duration(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_duration_parses() {
        for text in [
            ROOM_GRACE,
            SEAT_RESERVATION,
            STORE_RETRY,
            SHUTDOWN_TIMEOUT,
            HEARTBEAT_INTERVAL,
            HEARTBEAT_TIMEOUT,
            SHUTDOWN_DELAY,
            SLOW_READER_GRACE,
            LEASE_TTL,
            NODE_TTL,
        ] {
            assert!(super::super::parse_duration(text).is_ok(), "{text}");
        }
        assert_eq!(duration(ROOM_GRACE), Duration::from_secs(5));
        assert_eq!(duration(SLOW_READER_GRACE), Duration::from_millis(500));
    }
}
