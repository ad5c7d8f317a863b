//! The room directory and matchmaking from Rust (`docs/protocol.md`, "The
//! room directory" and "Matchmaking"): [`watch_rooms`] opens a live lobby,
//! [`matchmake`] reserves a seat (`POST /matchmake/{kind}`), and
//! [`join_or_create`] reserves one and joins it. Plain HTTP/1.1 over tokio,
//! so the crate needs no HTTP client of its own; `https://` is not spoken
//! yet (put the client next to the server, or behind a proxy that speaks
//! TLS for it).

use crate::client::{Client, ConnectError};
use crate::protocol::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
pub use stateroom_core::Reservation;
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a matchmaking call asks for.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct MatchRequest {
    /// Metadata fields the room must have (a room created for the call
    /// starts with them).
    pub filter: BTreeMap<String, String>,
    /// Which matching room to try first (default `-clients`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// What the room's `join` hook reads with `JoinRequest::reservation`.
    pub options: Value,
}

impl MatchRequest {
    /// A request with no filter and no options.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter field.
    #[must_use]
    pub fn filter(mut self, field: &str, value: &str) -> Self {
        self.filter.insert(field.to_owned(), value.to_owned());
        self
    }

    /// Sets the options the room's `join` hook reads.
    #[must_use]
    pub fn options(mut self, options: Value) -> Self {
        self.options = options;
        self
    }
}

/// Why no seat was reserved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchmakeError {
    /// The URL is not `http://` or `ws://`.
    #[error("not a plain HTTP or WebSocket URL: {0}")]
    Url(String),
    /// The server could not be reached or answered nonsense.
    #[error("{0}")]
    Io(String),
    /// The server refused: its status and reason (404 no such kind, 503
    /// no seat to be had).
    #[error("the server refused: {status} {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// The seat could not be joined.
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

/// `host:port` of a server URL (`http://host:port`, `ws://host:port/…`).
fn authority(url: &str) -> Result<String, MatchmakeError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| MatchmakeError::Url(url.to_owned()))?;
    let host = rest.split('/').next().unwrap_or(rest);
    Ok(if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    })
}

/// Reserves a seat in a room of `kind` (`""` on a server of one service)
/// at the server `url` (`http://127.0.0.1:8080`).
///
/// # Errors
/// [`MatchmakeError`].
pub async fn matchmake(
    url: &str,
    kind: &str,
    request: &MatchRequest,
) -> Result<Reservation, MatchmakeError> {
    let host = authority(url)?;
    let path = if kind.is_empty() {
        "/matchmake".to_owned()
    } else {
        format!("/matchmake/{kind}")
    };
    let body = serde_json::to_string(request).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let io = |error: std::io::Error| MatchmakeError::Io(format!("{host}: {error}"));
    let mut stream = tokio::net::TcpStream::connect(&host).await.map_err(io)?;
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(body.as_bytes()).await.map_err(io)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.map_err(io)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| MatchmakeError::Io(format!("{host} answered nonsense")))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| MatchmakeError::Io(format!("{host} answered nonsense")))?;
    if status != 200 {
        return Err(MatchmakeError::Refused {
            status,
            body: body.to_owned(),
        });
    }
    serde_json::from_str(body).map_err(|error| MatchmakeError::Io(error.to_string()))
}

/// [`matchmake`], then joins the reservation: the first connection
/// presents it, later ones resume.
///
/// # Errors
/// [`MatchmakeError`].
pub async fn join_or_create<In, Out>(
    url: &str,
    kind: &str,
    request: &MatchRequest,
    mut options: Options,
) -> Result<Client<In, Out>, MatchmakeError>
where
    In: Serialize,
    Out: DeserializeOwned,
{
    let reservation = matchmake(url, kind, request).await?;
    let host = authority(url)?;
    let path = reservation.url.split('?').next().unwrap_or_default();
    options.reservation = Some(reservation.reservation);
    Ok(Client::connect_with(&format!("ws://{host}{path}"), options).await?)
}

/// A live lobby (`docs/protocol.md`, "The room directory"): the rooms that
/// `query` (`kind=race&filter[mode]=duel`) lists at the server `url`
/// (`ws://host:8080`), kept current by the server's patches; read them with
/// [`Client::rooms`], and wait for changes with [`Client::recv`]
/// (`Received::Synced(Doc::Rooms)`). Reconnects like any client and starts
/// again from a snapshot.
///
/// # Errors
/// As [`Client::connect`]: 404 for a kind the directory does not list, 400
/// for a query it cannot answer.
pub async fn watch_rooms(url: &str, query: &str) -> Result<Client<Value, Value>, ConnectError> {
    let base = url.trim_end_matches('/');
    let mut options = Options {
        // The lobby takes no messages: nothing to number.
        exactly_once: false,
        ..Options::default()
    };
    options.query = form_pairs(query);
    Client::connect_with(&format!("{base}/rooms"), options).await
}

/// `a=1&b=2` as pairs (left as written: the protocol encodes them again).
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}
