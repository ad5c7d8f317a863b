//! The endpoints an operator or a load balancer reads, on the public
//! listener or the admin one: `/healthz`, `/readyz`, `/metrics`.

use crate::edge::answer::{HttpResponse, not_found, refuse, respond};
use crate::engine::Engine;
use hyper::{Method, StatusCode};

/// Only `GET` (and `HEAD`) read these endpoints.
fn readable(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// `GET /healthz`: the process is alive (cheap: two counters). Stays 200
/// until the process exits, shutdown included.
pub(crate) fn healthz(engine: &Engine, method: &Method) -> HttpResponse {
    if !readable(method) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let body = serde_json::json!({
        "status": "ok",
        "rooms": engine.rooms.room_count(),
        "connections": engine.rooms.connection_count(),
    });
    respond(StatusCode::OK, "application/json", body.to_string())
}

/// `GET /readyz`: may a load balancer send new clients here? 503 from the
/// moment shutdown (or a drain) begins, while the server is at its
/// connection limit, and, in a cluster, while the node cannot reach the
/// cluster's store or an operator's revocation of it holds.
pub(crate) fn readyz(engine: &Engine, method: &Method) -> HttpResponse {
    if !readable(method) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let why = if engine.rooms.is_shutting_down() {
        Some("shutting_down")
    } else if engine.rooms.connection_count() >= engine.config.limits.max_connections {
        Some("at_connection_limit")
    } else {
        // In a cluster, a node that cannot reach Redis (or that an operator
        // revoked) can take no room.
        engine.leases.as_ref().and_then(|leases| leases.not_ready())
    };
    match why {
        None => respond(StatusCode::OK, "application/json", r#"{"status":"ready"}"#),
        Some(why) => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            format!(r#"{{"status":"{why}"}}"#),
        ),
    }
}

/// `GET /metrics`: the Prometheus exposition (404 when metrics are off).
pub(crate) fn metrics(engine: &Engine, method: &Method) -> HttpResponse {
    let Some(metrics) = &engine.metrics else {
        return not_found();
    };
    if !readable(method) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let mut kinds: Vec<(String, usize, usize)> = engine
        .kinds
        .names()
        .map(|name| (name.to_owned(), 0, 0))
        .collect();
    for room in engine.rooms.list() {
        let (kind, _) = room.id.rsplit_once('/').unwrap_or(("", &room.id));
        if let Some(entry) = kinds.iter_mut().find(|(name, _, _)| name == kind) {
            entry.1 += 1;
            entry.2 += room.clients;
        }
    }
    if let Some(shards) = &engine.shards {
        // The shards' flushers' writes since the last scrape.
        metrics.socket_writes(shards.take_writes());
    }
    let text = metrics.render(
        engine.rooms.connection_count(),
        engine.rooms.room_count(),
        &kinds,
    );
    respond(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        text,
    )
}
