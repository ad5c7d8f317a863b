//! Admission: what every way into a room (a WebSocket join, an HTTP request
//! to a room, a forwarded join) checks and builds before the room decides:
//! the `Origin` allow-list, the `JoinRequest` the `join` hook sees, how long
//! it waits for the room's verdict, and the answer to a refused claim.

use crate::edge::Edge;
use crate::edge::answer::{HttpResponse, ResponseBody, refuse};
use crate::engine::kinds::{Located, PathError};
use crate::engine::registry::JoinRefused;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use stateroom_core::JoinRequest;
use std::net::SocketAddr;
use std::time::Duration;
use tracing::debug;

/// The room a request's path names.
pub(crate) fn locate(edge: &Edge, path: &str) -> Result<Located, PathError> {
    let max_len = edge.engine.config.limits.max_room_id_len;
    edge.engine.kinds.locate(path, max_len)
}

/// The answer to a path that names no room: 404 for a kind this server
/// does not host, 400 for a bad room id.
pub(crate) fn no_such_room(error: &PathError) -> HttpResponse {
    match error {
        PathError::BadId(_) => refuse(StatusCode::BAD_REQUEST, error),
        PathError::NoSuchKind { .. } | PathError::NeedsKind { .. } => {
            refuse(StatusCode::NOT_FOUND, error)
        }
    }
}

/// What the `join` hook sees of `request`.
pub(crate) fn join_request<B>(
    room_id: &str,
    request: &Request<B>,
    peer: Option<SocketAddr>,
) -> JoinRequest {
    let join = JoinRequest::new(room_id)
        .with_path(request.uri().path())
        .with_headers(request.headers().clone());
    let join = match peer {
        Some(peer) => join.with_peer(peer),
        None => join,
    };
    match request.uri().query() {
        Some(query) => join.with_query(query),
        None => join,
    }
}

/// The answer to a join the registry refused (a limit, or shutdown): 503,
/// with `Retry-After` unless the server is going away.
pub(crate) fn refused_join(room_id: &str, refused: JoinRefused) -> HttpResponse {
    debug!(room = room_id, %refused, "join refused");
    let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, refused);
    if refused != JoinRefused::ShuttingDown {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response.map(ResponseBody::from)
}

/// How long a join (or an HTTP request to a room) waits for its room's verdict (the room handles events in
/// order; a room this far behind is overloaded).
pub(crate) const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the request's `Origin` (if any) may open a socket. Browsers always
/// send one; a request without it is not from a browser page, which is what
/// the list guards against (cross-site WebSocket hijacking).
pub(crate) fn origin_allowed<B>(allowed: &[String], request: &Request<B>) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return true;
    };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    allowed
        .iter()
        .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
}
