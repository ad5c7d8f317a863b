//! Forwarding a join to the room's owner: the request head goes to the
//! owner's internal address (with the hop marker, the edge secret and the
//! client's address) as a new stream on the link to that node (`link`),
//! and the owner's answer comes back. A `101` joins the client's
//! connection to the stream byte for byte (`link::relay`); anything else (a
//! `401` from the `join` hook, a `503`) is passed on as it is.

use super::head::{HeadError, read_head};
use super::link::{LinkStream, Links, relay};
use crate::edge::answer::{HttpResponse, ResponseBody};
use crate::engine::shards::Place;
use bytes::Bytes;
use http_body_util::Full;
use hyper::upgrade::Upgraded;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

/// Marks a request one node forwarded to another (it is never forwarded again).
pub(crate) const HOP: &str = "x-stateroom-hop";
/// The edge secret of the internal port.
pub(crate) const SECRET: &str = "x-stateroom-secret";
/// The client's address, as the forwarding node saw it.
pub(crate) const CLIENT: &str = "x-stateroom-client";

/// Longest non-101 body passed on.
const MAX_BODY: usize = 64 * 1024;

/// Compares two secrets in constant time for equal lengths.
pub(crate) fn same_secret(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len()
        && expected
            .iter()
            .zip(presented)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The owner to forward to, and how.
pub(crate) struct Hop<'a> {
    /// This node's links to the others.
    pub(crate) links: &'a Links,
    /// The owner's internal address.
    pub(crate) owner: &'a str,
    /// The cluster's edge secret.
    pub(crate) secret: Option<&'a str>,
    /// How long the owner may take to answer.
    pub(crate) timeout: Duration,
}

/// Forwards `request` (a WebSocket upgrade) to the owner: the owner's
/// answer, or, when it gave none, why (the client is then told to retry:
/// [`retry_soon`](crate::edge::answer::retry_soon)). After a `101` the
/// client's connection is relayed at `place`.
pub(crate) async fn forward<B>(
    request: &mut Request<B>,
    hop: Hop<'_>,
    peer: Option<SocketAddr>,
    place: Place,
) -> Result<HttpResponse, &'static str> {
    let Hop {
        links,
        owner,
        secret,
        timeout,
    } = hop;
    let mut upstream = links.open(owner, secret, timeout).await?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\n",
        request.method(),
        request.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    for (name, value) in request.headers() {
        let name = name.as_str();
        if name == HOP || name == SECRET || name == CLIENT {
            continue;
        }
        if let Ok(value) = value.to_str() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("{HOP}: 1\r\n"));
    if let Some(secret) = secret {
        head.push_str(&format!("{SECRET}: {secret}\r\n"));
    }
    if let Some(peer) = peer {
        head.push_str(&format!("{CLIENT}: {peer}\r\n"));
    }
    head.push_str("\r\n");
    if upstream.write_all(head.as_bytes()).await.is_err() {
        return Err("the room's node hung up; retry");
    }
    // The owner's answer head.
    let head = match tokio::time::timeout(timeout, read_head(&mut upstream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(HeadError::Nonsense)) => return Err("the room's node answered nonsense; retry"),
        Ok(Err(HeadError::Ended)) | Err(_) => return Err("the room's node did not answer; retry"),
    };
    let status = head.status;
    let mut response = Response::builder().status(status);
    let mut content_length = None;
    for (name, value) in head.headers {
        if name == hyper::header::CONTENT_LENGTH {
            content_length = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
            continue;
        }
        response = response.header(name, value);
    }
    let rest = head.rest;
    if status == StatusCode::SWITCHING_PROTOCOLS {
        let client = hyper::upgrade::on(request);
        tokio::spawn(async move {
            let Ok(client) = client.await else {
                debug!("the client left before the forwarded upgrade");
                return;
            };
            join(client, upstream, rest, place).await;
        });
        return response
            .body(ResponseBody::from(Full::new(Bytes::new())))
            .map_err(|_| "the room's node answered nonsense; retry");
    }
    // Anything else: the body, bounded, then the answer as it is.
    let mut body = rest;
    let want = content_length.unwrap_or(MAX_BODY).min(MAX_BODY);
    let _ = tokio::time::timeout(timeout, async {
        while body.len() < want {
            let mut chunk = [0u8; 2048];
            match upstream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    body.truncate(want);
    response
        .body(ResponseBody::from(Full::new(Bytes::from(body))))
        .map_err(|_| "the room's node answered nonsense; retry")
}

/// Joins the upgraded client to the owner's stream until either side
/// closes; the owner's room sees the client's frames and close exactly as if
/// it had connected directly. `early` is what the owner sent past its `101`.
///
/// Our own listener's client is a TCP stream under hyper: it then moves to
/// `place` (a shard's reactor, counted there like a room) and is relayed
/// without hyper's layers or a buffer per connection
/// ([`relay`](super::link::relay)). Another upgraded stream (an embedding
/// server's) is copied where it is.
async fn join(client: Upgraded, mut upstream: LinkStream, early: Vec<u8>, place: Place) {
    let (client, late) = match client.downcast::<TokioIo<TcpStream>>() {
        // A copy: hyper's read buffer (8 KiB) goes with its handle.
        Ok(parts) => (parts.io.into_inner(), parts.read_buf.to_vec()),
        Err(client) => {
            let mut client = TokioIo::new(client);
            if !early.is_empty() && client.write_all(&early).await.is_err() {
                return;
            }
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            return;
        }
    };
    // Off this runtime's reactor, onto the place's (on the task there).
    let Ok(client) = client.into_std() else {
        return;
    };
    place.spawn_room(async move {
        if let Ok(client) = TcpStream::from_std(client) {
            relay(client, upstream, early, late).await;
        }
    });
}

/// One request to another node's internal port (a reservation, a
/// forwarded matchmaking call): `POST path` with a JSON `body`; the
/// answer's status and body, or why there is none.
pub(crate) async fn call(
    node: &str,
    secret: Option<&str>,
    path: &str,
    body: &str,
    timeout: Duration,
) -> Result<(StatusCode, Vec<u8>), String> {
    let exchange = async {
        let mut upstream = TcpStream::connect(node)
            .await
            .map_err(|error| format!("cannot reach {node}: {error}"))?;
        let _ = upstream.set_nodelay(true);
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {node}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{HOP}: 1\r\n",
            body.len()
        );
        if let Some(secret) = secret {
            head.push_str(&format!("{SECRET}: {secret}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        upstream
            .write_all(head.as_bytes())
            .await
            .map_err(|error| format!("{node} hung up: {error}"))?;
        let head = read_head(&mut upstream)
            .await
            .map_err(|error| match error {
                HeadError::Ended => format!("{node} hung up"),
                HeadError::Nonsense => format!("{node} answered nonsense"),
            })?;
        // The body: until the node closes (`Connection: close`), bounded.
        let mut body = head.rest;
        let mut chunk = [0u8; 4096];
        while body.len() <= MAX_BODY {
            let n = upstream
                .read(&mut chunk)
                .await
                .map_err(|error| format!("{node} hung up: {error}"))?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Ok((head.status, body))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{node} did not answer in time"))?
}
