//! How a client behaves.

use crate::backoff::Backoff;

/// How a client behaves; the defaults are `@stateroom/client`'s.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Number what is sent and resend what the room has not applied, so
    /// that each message is applied exactly once through dropped
    /// connections (rooms with reconnection on). Default `true`.
    pub exactly_once: bool,
    /// Most messages kept while no connection is open. Default 1,000.
    pub max_queued: usize,
    /// When to reconnect after a connection ends.
    pub backoff: Backoff,
    /// Query parameters for every connection (a token for the `join` hook).
    pub query: Vec<(String, String)>,
    /// A seat reservation from the matchmaker, presented by the first
    /// connection only.
    pub reservation: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            exactly_once: true,
            max_queued: 1_000,
            backoff: Backoff::default(),
            query: Vec::new(),
            reservation: None,
        }
    }
}
