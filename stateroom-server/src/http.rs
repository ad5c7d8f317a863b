//! HTTP: route each request, answer `/healthz`, refuse what is not a valid
//! WebSocket join, and upgrade the rest.
//!
//! | request | answer |
//! |---|---|
//! | `GET /healthz` | 200, `{"status":"ok","rooms":R,"connections":C}` |
//! | `GET /readyz`, `GET /metrics`, `/admin/…` | see `admin` (here only without an admin listener) |
//! | `GET /ws/{room_id}` with upgrade headers | 101, then the WebSocket |
//! | `GET /ws/{room_id}` with a bad room id | 400 |
//! | `GET /ws/{room_id}` without `Upgrade: websocket` | 426 |
//! | upgrade headers present but `Sec-WebSocket-Key`/`-Version: 13` missing | 400 |
//! | `Origin` outside the configured allow-list | 403 |
//! | the service's `join` hook rejects the request | its status (401, 403, …) and body |
//! | room full, server at its connection or room limit | 503 |
//! | server shutting down | 503 |
//! | another method on a known path | 405 |
//! | any other path | 404 |

use crate::admin;
use crate::answer::{HttpResponse, ResponseBody, healthz, metrics, readyz, refuse};
use crate::connection::{self, Admitted};
use crate::event::RoomEvent;
use crate::resume::ResumeRequest;
use crate::room_id::validate_room_id;
use crate::rooms::JoinRefused;
use crate::shared::{Claim, Shared};
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_tungstenite::tungstenite::protocol::WebSocketConfig;
use stateroom_core::{ClientId, JoinRequest};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tracing::{Instrument, debug, debug_span, warn};

/// Client ids are unique within the process, across servers, and start at 1.
static NEXT_CLIENT_ID: AtomicU32 = AtomicU32::new(1);

fn next_client_id() -> ClientId {
    ClientId::from(NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed))
}

/// From now on, client ids are above `floor` (a restored room's clients keep
/// theirs).
pub(crate) fn raise_client_floor(floor: u32) {
    NEXT_CLIENT_ID.fetch_max(floor.saturating_add(1), Ordering::Relaxed);
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

pub(crate) async fn handle<B>(
    shared: Arc<Shared>,
    peer: Option<SocketAddr>,
    mut request: Request<B>,
) -> Result<HttpResponse, Infallible>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = request.method().clone();
    // With an admin listener, the operator's endpoints live only there.
    let operator_here = shared.config.admin_port.is_none();
    let path = request.uri().path();
    let response = match path {
        "/healthz" => healthz(&shared, &method),
        "/readyz" if operator_here => readyz(&shared, &method),
        "/metrics" if operator_here => metrics(&shared, &method),
        // Never open on the public port without a token.
        _ if path.starts_with("/admin/")
            && operator_here
            && shared.config.admin_token.is_some() =>
        {
            let path = path.to_owned();
            admin::rooms(&shared, &method, &path, request.headers()).await
        }
        _ if path.starts_with(shared.config.http_prefix.as_str()) => {
            let room_id = path[shared.config.http_prefix.len()..].to_owned();
            crate::room_http::answer(&shared, request, &room_id, peer).await
        }
        _ => match path.strip_prefix(shared.config.ws_prefix.as_str()) {
            Some(room_id) => {
                let room_id = room_id.to_owned();
                let mut response =
                    upgrade(shared.clone(), &mut request, &room_id, peer, false).await;
                if response.status() != StatusCode::SWITCHING_PROTOCOLS
                    && response.status() != StatusCode::UPGRADE_REQUIRED
                {
                    // A refused join ends the connection: the client was not
                    // going to speak HTTP on it again.
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                response
            }
            None => crate::files::answer(&shared, &method, request.uri(), request.headers()).await,
        },
    };
    if let Some(metrics) = &shared.metrics {
        metrics.http_response(response.status().as_u16());
    }
    Ok(response)
}

/// Routes a request on a cluster node's internal listener: joins that
/// another node forwarded (with the shared secret, when one is set).
pub(crate) async fn handle_internal<B>(
    shared: Arc<Shared>,
    mut request: Request<B>,
) -> Result<HttpResponse, Infallible> {
    use crate::cluster::proxy::{CLIENT, SECRET};
    let expected = shared.cluster.as_ref().and_then(|c| c.secret.clone());
    let presented = request.headers().get(SECRET).map(HeaderValue::as_bytes);
    let allowed = match (&expected, presented) {
        (None, _) => true,
        (Some(expected), Some(presented)) => {
            crate::cluster::proxy::same_secret(expected.as_bytes(), presented)
        }
        (Some(_), None) => false,
    };
    let response = if !allowed {
        // Not a node: answer once and hang up rather than keep its connection.
        let mut response = refuse(
            StatusCode::FORBIDDEN,
            "this port is for the cluster's nodes",
        );
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    } else {
        let path = request.uri().path().to_owned();
        match path.strip_prefix(shared.config.ws_prefix.as_str()) {
            Some(room_id) => {
                let peer = request
                    .headers()
                    .get(CLIENT)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                upgrade(shared.clone(), &mut request, room_id, peer, true).await
            }
            None => crate::answer::not_found(),
        }
    };
    if let Some(metrics) = &shared.metrics {
        metrics.http_response(response.status().as_u16());
    }
    Ok(response)
}

/// Routes a request on the admin listener.
pub(crate) async fn handle_admin<B>(
    shared: Arc<Shared>,
    request: Request<B>,
) -> Result<HttpResponse, Infallible> {
    let response = admin::handle(&shared, &request).await;
    if let Some(metrics) = &shared.metrics {
        metrics.http_response(response.status().as_u16());
    }
    Ok(response)
}

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

async fn upgrade<B>(
    shared: Arc<Shared>,
    request: &mut Request<B>,
    room_id: &str,
    peer: Option<SocketAddr>,
    hopped: bool,
) -> HttpResponse {
    if request.method() != Method::GET {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET with WebSocket upgrade headers",
        );
    }
    let limits = &shared.config.limits;
    if let Err(error) = validate_room_id(room_id, limits.max_room_id_len) {
        return refuse(StatusCode::BAD_REQUEST, error);
    }
    if !hyper_tungstenite::is_upgrade_request(request) {
        let mut response = refuse(
            StatusCode::UPGRADE_REQUIRED,
            "this is a WebSocket endpoint: connect with a WebSocket client",
        );
        response
            .headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        return response;
    }
    if !origin_allowed(&shared.config.allowed_origins, request) {
        debug!(room = room_id, origin = ?request.headers().get(header::ORIGIN), "origin refused");
        return refuse(
            StatusCode::FORBIDDEN,
            "this origin may not open a socket here",
        );
    }
    // In a cluster the room may live on another node: take its lease, or
    // forward the join to the node that holds it (one hop at most).
    if let Some(cluster) = &shared.cluster {
        use crate::cluster::{Placement, proxy};
        if shared.rooms.is_shutting_down() {
            return refused_join(room_id, JoinRefused::ShuttingDown);
        }
        match cluster.place(room_id).await {
            Ok(Placement::Here) => {}
            Ok(Placement::There(owner)) if !hopped => {
                let secret = cluster.secret.clone();
                return proxy::forward(request, &owner, secret.as_deref(), peer, JOIN_TIMEOUT)
                    .await;
            }
            Ok(Placement::There(_)) => {
                return proxy::retry_soon("the room is moving between nodes; retry");
            }
            Err(error) => {
                warn!(room = room_id, %error, "cannot place the room");
                return proxy::retry_soon("the cluster's registry is unavailable; retry");
            }
        }
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(crate::socket::READ_BUFFER)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(limits.max_queued_bytes.saturating_add(64 * 1024))
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size));
    let (response, upgrading) = match crate::socket::accept(request, config) {
        Ok(upgrade) => upgrade,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error),
    };
    let claim = match Claim::take(&shared, room_id) {
        Ok(claim) => claim,
        Err(refused) => return refused_join(room_id, refused),
    };
    let join = join_request(room_id, request, peer);
    let resume = ResumeRequest::from_query(&join);
    let (reply, verdict) = tokio::sync::oneshot::channel();
    let ask = async {
        let join = RoomEvent::Join {
            request: Box::new(join),
            reply,
        };
        claim.events().send(join).await.ok()?;
        verdict.await.ok()
    };
    let verdict = tokio::time::timeout(JOIN_TIMEOUT, ask).await;
    let data = match verdict {
        Ok(Some(Ok(data))) => data,
        Ok(Some(Err(reject))) => {
            let status = StatusCode::from_u16(reject.status()).unwrap_or(StatusCode::FORBIDDEN);
            return refuse(status, reject.body());
        }
        Ok(None) => {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the room failed");
        }
        Err(_) => {
            let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, "the room is overloaded");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
    };
    let membership = claim.keep();
    let conn = next_client_id();
    // Debug level: at the default `info`, per-connection spans would cost every
    // poll of every connection; connection logs carry room and client anyway.
    let span = debug_span!("connection", room = room_id, %conn);
    tokio::spawn(
        async move {
            match upgrading.socket().await {
                Ok(socket) => {
                    let admitted = Admitted {
                        membership,
                        conn,
                        data,
                        resume,
                    };
                    connection::run(shared, socket, admitted).await;
                }
                Err(error) => {
                    warn!(room = %membership.room_id, %conn, %error, "WebSocket upgrade failed");
                    shared.rooms.leave(&membership);
                }
            }
        }
        .instrument(span),
    );
    response.map(ResponseBody::from)
}
