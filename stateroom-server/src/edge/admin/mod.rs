//! The operator's view: `/metrics`, `/readyz` and `/admin/…`, on their own
//! listener when `--admin-port` is given (so they are not exposed with the
//! WebSocket port), else on the public one (`/admin/…` only with a token).
//!
//! | request | answer |
//! |---|---|
//! | `GET /healthz`, `/readyz`, `/metrics` | as on the public port |
//! | `GET /admin/rooms[?kind=&filter[field]=&sort=&available=]` | 200, `{"rooms":[{"id","kind","room","node","clients","capacity","reserved","locked","metadata"}]}`, every kind, across the cluster (`id` is the room's path: `{room}` or `{kind}/{room}`; `node` its owner); this node's rooms add `connections`, `age_ms`, `idle_ms` |
//! | `DELETE /admin/rooms/{id}` | 200 (clients closed with 1001), 404 for no such room |
//! | `GET /admin/owner/{id}` | 200, `{"room","node","addr","fence","alive"}` from the room's lease (in a cluster) or `{"room","node":null,"open":true}` (one node); 404 when nobody holds it |
//! | `GET /admin/nodes` | 200, `{"node","nodes":[{"node","boot","state"}]}`: every node with a heartbeat, `state` `live` or `revoked`; 404 off a cluster |
//! | `POST /admin/nodes/{node}/revoke` | 200, `{"node","revoked"}` (`false`: it had no heartbeat); 409 for this node itself (drain it instead); 404 off a cluster |
//! | `POST /admin/drain` | 202, `{"draining":true}`: this node refuses joins (`/readyz` 503), ends its rooms after `--shutdown-delay` (clients get 1012 or 1001), and gives their leases back; it keeps running until stopped |
//! | `/admin/…` without the configured bearer token | 401 |
//! | another method on a known path | 405 |
//! | a registry error (Redis unreachable) | 503, `Retry-After: 1` |

mod cluster;
mod rooms;

use crate::edge::Edge;
use crate::edge::answer::{HttpResponse, not_found, refuse};
use crate::edge::ops::{healthz, metrics, readyz};
use hyper::header;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Routes a request on the admin listener.
pub(crate) async fn handle<B>(edge: &Arc<Edge>, request: &Request<B>) -> HttpResponse {
    let method = request.method();
    match request.uri().path() {
        "/healthz" => healthz(&edge.engine, method),
        "/readyz" => readyz(&edge.engine, method),
        "/metrics" => metrics(&edge.engine, method),
        path if path.starts_with("/admin/") => {
            admin(edge, method, path, request.uri().query(), request.headers()).await
        }
        _ => not_found(),
    }
}

/// `/admin/…`, on either listener: the token first, then the route.
pub(crate) async fn admin(
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
    match path {
        "/admin/rooms" => rooms::rooms(edge, method, path, query).await,
        _ if path.starts_with("/admin/rooms/") => rooms::rooms(edge, method, path, query).await,
        _ if path.starts_with("/admin/owner/") => {
            cluster::owner(edge, method, &path["/admin/owner/".len()..]).await
        }
        "/admin/nodes" => cluster::nodes(edge, method).await,
        _ if path.starts_with("/admin/nodes/") => {
            cluster::revoke(edge, method, &path["/admin/nodes/".len()..]).await
        }
        "/admin/drain" => cluster::drain(edge, method),
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
