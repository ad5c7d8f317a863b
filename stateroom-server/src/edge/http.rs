//! HTTP: route each request, answer `/healthz`, refuse what is not a valid
//! WebSocket join, and upgrade the rest.
//!
//! | request | answer |
//! |---|---|
//! | `GET /healthz` | 200, `{"status":"ok","rooms":R,"connections":C}` |
//! | `GET /rooms`, `POST /matchmake/{kind}` | see `directory` |
//! | `GET /readyz`, `GET /metrics`, `/admin/…` | see `admin` (here only without an admin listener) |
//! | `GET /ws/{room_id}` with upgrade headers | 101, then the WebSocket |
//! | `GET /ws/{room_id}` with a bad room id | 400 |
//! | a kind this server does not host (`/ws/{kind}/{room_id}` on a server of several services) | 404 |
//! | `GET /ws/{room_id}` without `Upgrade: websocket` | 426 |
//! | upgrade headers present but `Sec-WebSocket-Key`/`-Version: 13` missing | 400 |
//! | `Origin` outside the configured allow-list | 403 |
//! | the service's `join` hook rejects the request | its status (401, 403, …) and body |
//! | room full, server at its connection or room limit | 503 |
//! | server shutting down | 503 |
//! | another method on a known path | 405 |
//! | any other path | 404 |

use crate::edge::Edge;
use crate::edge::admin;
use crate::edge::admission::{
    JOIN_TIMEOUT, join_request, locate, no_such_room, origin_allowed, refused_join,
};
use crate::edge::answer::{HttpResponse, ResponseBody, refuse, retry_soon};
use crate::edge::connection::{self, Admitted};
use crate::edge::ops::{healthz, metrics, readyz};
use crate::engine::Claim;
use crate::engine::client_ids::next_client_id;
use crate::engine::event::RoomEvent;
use crate::engine::registry::JoinRefused;
use crate::engine::resume::ResumeRequest;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tracing::{Instrument, debug, debug_span, warn};

pub(crate) async fn handle<B>(
    edge: Arc<Edge>,
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
    let operator_here = edge.engine.config.admin_port.is_none();
    let path = request.uri().path();
    let response = match path {
        "/healthz" => healthz(&edge.engine, &method),
        "/readyz" if operator_here => readyz(&edge.engine, &method),
        "/metrics" if operator_here => metrics(&edge.engine, &method),
        // Never open on the public port without a token.
        _ if path.starts_with("/admin/")
            && operator_here
            && edge.engine.config.admin_token.is_some() =>
        {
            let path = path.to_owned();
            let query = request.uri().query().map(str::to_owned);
            admin::admin(&edge, &method, &path, query.as_deref(), request.headers()).await
        }
        _ if path == crate::edge::directory::directory_path(&edge) => {
            crate::edge::directory::rooms(&edge, &mut request).await
        }
        "/matchmake" => crate::edge::directory::matchmake_http(&edge, request, "", false).await,
        _ if path.starts_with("/matchmake/") => {
            let kind = path["/matchmake/".len()..].to_owned();
            crate::edge::directory::matchmake_http(&edge, request, &kind, false).await
        }
        _ if path.starts_with(edge.engine.config.http_prefix.as_str()) => {
            let room_id = path[edge.engine.config.http_prefix.len()..].to_owned();
            crate::edge::room_http::answer(&edge, request, &room_id, peer).await
        }
        _ => match path.strip_prefix(edge.engine.config.ws_prefix.as_str()) {
            Some(room_id) => {
                let room_id = room_id.to_owned();
                let mut response = upgrade(edge.clone(), &mut request, &room_id, peer, false).await;
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
            None => {
                crate::edge::files::answer(&edge, &method, request.uri(), request.headers()).await
            }
        },
    };
    if let Some(metrics) = &edge.engine.metrics {
        metrics.http_response(response.status().as_u16());
    }
    Ok(response)
}

/// Routes a request on a cluster node's internal listener (with the edge
/// secret, when one is set): joins that another node forwarded, and the
/// matchmaker's calls (`/__stateroom/matchmake/{kind}`,
/// `/__stateroom/reserve/{room}`; see `directory`).
pub(crate) async fn handle_internal<B>(
    edge: Arc<Edge>,
    mut request: Request<B>,
) -> Result<HttpResponse, Infallible>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use crate::edge::cluster::proxy::{CLIENT, SECRET};
    let expected = edge.cluster.as_ref().and_then(|c| c.secret.clone());
    let presented = request.headers().get(SECRET).map(HeaderValue::as_bytes);
    let allowed = match (&expected, presented) {
        (None, _) => true,
        (Some(expected), Some(presented)) => {
            crate::edge::cluster::proxy::same_secret(expected.as_bytes(), presented)
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
        let matchmake = path.strip_prefix("/__stateroom/matchmake/");
        let reserve = path.strip_prefix("/__stateroom/reserve/");
        match path.strip_prefix(edge.engine.config.ws_prefix.as_str()) {
            _ if path == crate::edge::cluster::link::PATH => {
                let edge = edge.clone();
                crate::edge::cluster::link::accept(&mut request, move |stream| {
                    crate::edge::listen::serve_linked(stream, edge.clone());
                })
            }
            _ if matchmake.is_some() => {
                let kind = matchmake.unwrap_or_default();
                crate::edge::directory::matchmake_http(&edge, request, kind, true).await
            }
            _ if reserve.is_some() => {
                let room = reserve.unwrap_or_default();
                crate::edge::directory::reserve_http(&edge, request, room).await
            }
            Some(room_id) => {
                let peer = request
                    .headers()
                    .get(CLIENT)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                upgrade(edge.clone(), &mut request, room_id, peer, true).await
            }
            None => crate::edge::answer::not_found(),
        }
    };
    if let Some(metrics) = &edge.engine.metrics {
        metrics.http_response(response.status().as_u16());
    }
    Ok(response)
}

/// Routes a request on the admin listener.
pub(crate) async fn handle_admin<B>(
    edge: Arc<Edge>,
    request: Request<B>,
) -> Result<HttpResponse, Infallible> {
    let response = admin::handle(&edge, &request).await;
    if let Some(metrics) = &edge.engine.metrics {
        metrics.http_response(response.status().as_u16());
    }
    Ok(response)
}

async fn upgrade<B>(
    edge: Arc<Edge>,
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
    let located = match locate(&edge, room_id) {
        Ok(located) => located,
        Err(error) => return no_such_room(&error),
    };
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
    if !origin_allowed(&edge.engine.config.allowed_origins, request) {
        debug!(room = room_id, origin = ?request.headers().get(header::ORIGIN), "origin refused");
        return refuse(
            StatusCode::FORBIDDEN,
            "this origin may not open a socket here",
        );
    }
    // In a cluster the room may live on another node: take its lease, or
    // forward the join to the node that holds it (one hop at most).
    if let Some(cluster) = &edge.cluster {
        use crate::edge::cluster::{Placement, proxy};
        if edge.engine.rooms.is_shutting_down() {
            return refused_join(room_id, JoinRefused::ShuttingDown);
        }
        match cluster.place(room_id).await {
            Ok(Placement::Here) => {}
            Ok(Placement::There(owner)) if !hopped => {
                let secret = cluster.secret.clone();
                let place = edge.engine.place();
                let hop = proxy::Hop {
                    links: &cluster.links,
                    owner: &owner.addr,
                    secret: secret.as_deref(),
                    timeout: JOIN_TIMEOUT,
                };
                let forward = proxy::forward(request, hop, peer, place);
                // A frozen owner accepts the connection and never answers:
                // once its heartbeat lapses the client is told to retry, and
                // its retry takes the room over.
                let started = std::time::Instant::now();
                let answer = tokio::select! {
                    answer = forward => answer,
                    () = cluster.until_dead(&owner) => {
                        Err("the room's node stopped answering; retry")
                    }
                };
                if let Some(metrics) = &edge.engine.metrics {
                    let status = answer
                        .as_ref()
                        .ok()
                        .map(|response| response.status().as_u16());
                    metrics.cluster.forwarded(status, started.elapsed());
                }
                return answer.unwrap_or_else(retry_soon);
            }
            Ok(Placement::There(_)) => {
                return retry_soon("the room is moving between nodes; retry");
            }
            Err(error) => {
                // The heartbeat and renewal loops warn once per outage.
                debug!(room = room_id, %error, "cannot place the room");
                return retry_soon("the cluster's registry is unavailable; retry");
            }
        }
    }
    let config = edge.ws_config.clone();
    let (response, upgrading) = match crate::edge::socket::accept(request, config) {
        Ok(upgrade) => upgrade,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error),
    };
    let claim = match Claim::take(&edge.engine, &located) {
        Ok(claim) => claim,
        Err(refused) => return refused_join(room_id, refused),
    };
    let join = join_request(located.id(), request, peer)
        .with_trusted_proxies(&edge.engine.config.trusted_proxies);
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
            if reject.status() == StatusCode::SERVICE_UNAVAILABLE {
                return retry_soon(reject.body());
            }
            return refuse(reject.status(), reject.body());
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
                    connection::run(edge, socket, admitted).await;
                }
                Err(error) => {
                    warn!(room = %membership.room_id, %conn, %error, "WebSocket upgrade failed");
                    edge.engine.rooms.leave(&membership);
                }
            }
        }
        .instrument(span),
    );
    response.map(ResponseBody::from)
}
