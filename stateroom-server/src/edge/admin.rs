//! The operator's view: `/metrics`, `/readyz` and `/admin/rooms`, on their own
//! listener when `--admin-port` is given (so they are not exposed with the
//! WebSocket port), else on the public one.
//!
//! | request | answer |
//! |---|---|
//! | `GET /healthz`, `/readyz`, `/metrics` | as on the public port |
//! | `GET /admin/rooms[?kind=&filter[field]=&sort=&available=]` | 200, `{"rooms":[{"id","kind","room","node","clients","capacity","reserved","locked","metadata"}]}`, every kind, across the cluster (`id` is the room's path: `{room}` or `{kind}/{room}`; `node` its owner); this node's rooms add `connections`, `age_ms`, `idle_ms` |
//! | `DELETE /admin/rooms/{id}` | 200 (clients closed with 1001), 404 for no such room |
//! | `/admin/…` without the configured bearer token | 401 |

use crate::edge::Edge;
use crate::edge::answer::{HttpResponse, not_found, refuse, respond};
use crate::edge::ops::{healthz, metrics, readyz};
use crate::engine::directory::Query;
use crate::engine::event::RoomEvent;
use crate::engine::registry::RoomSummary;
use hyper::header;
use hyper::{Method, Request, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;

/// Routes a request on the admin listener.
pub(crate) async fn handle<B>(edge: &Arc<Edge>, request: &Request<B>) -> HttpResponse {
    let method = request.method();
    match request.uri().path() {
        "/healthz" => healthz(&edge.engine, method),
        "/readyz" => readyz(&edge.engine, method),
        "/metrics" => metrics(&edge.engine, method),
        path if path == "/admin/rooms" || path.starts_with("/admin/rooms/") => {
            rooms(edge, method, path, request.uri().query(), request.headers()).await
        }
        _ => not_found(),
    }
}

/// Whether the request carries the configured admin token (constant-time).
fn authorised(edge: &Edge, headers: &hyper::HeaderMap) -> bool {
    let Some(token) = &edge.engine.config.admin_token else {
        return true;
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    presented.len() == token.len()
        && presented
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// `/admin/rooms` and `/admin/rooms/{id}`.
pub(crate) async fn rooms(
    edge: &Arc<Edge>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &hyper::HeaderMap,
) -> HttpResponse {
    if !authorised(edge, headers) {
        let mut response = refuse(StatusCode::UNAUTHORIZED, "a bearer token is required");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    match (method, path.strip_prefix("/admin/rooms/")) {
        (&Method::GET, None) => {
            let query = match Query::from_url_query(query.unwrap_or_default()) {
                Ok(query) => query,
                Err(error) => return refuse(StatusCode::BAD_REQUEST, error),
            };
            let summaries = edge.engine.rooms.list();
            let by_path: HashMap<&str, &RoomSummary> =
                summaries.iter().map(|room| (&*room.id, room)).collect();
            let everywhere = crate::engine::directory::all_rooms(&edge.engine).await;
            let rooms: Vec<_> = query
                .apply(everywhere)
                .into_iter()
                .map(|info| {
                    let mut entry = serde_json::json!({
                        "id": info.path(),
                        "kind": info.kind,
                        "room": info.id,
                        "node": info.node,
                        "clients": info.clients,
                        "capacity": info.capacity,
                        "reserved": info.reserved,
                        "locked": info.locked,
                        "metadata": info.metadata,
                    });
                    // This node's rooms: what only the owner knows.
                    if let Some(room) = by_path.get(info.path().as_str()) {
                        entry["clients"] = room.clients.into();
                        entry["connections"] = room.connections.into();
                        entry["age_ms"] = (room.age.as_millis() as u64).into();
                        entry["idle_ms"] = (room.idle.as_millis() as u64).into();
                    }
                    entry
                })
                .collect();
            let body = serde_json::json!({ "rooms": rooms });
            respond(StatusCode::OK, "application/json", body.to_string())
        }
        (&Method::DELETE, Some(id)) => match edge.engine.rooms.evict(id) {
            Some(events) => {
                let end = RoomEvent::End {
                    reason: "room closed by an operator",
                };
                let _ = events.send(end).await;
                tracing::info!(room = id, "room closed by an operator");
                respond(
                    StatusCode::OK,
                    "application/json",
                    serde_json::json!({ "closed": id }).to_string(),
                )
            }
            None => refuse(StatusCode::NOT_FOUND, "no such room"),
        },
        _ => refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "GET /admin/rooms or DELETE /admin/rooms/{id}",
        ),
    }
}
