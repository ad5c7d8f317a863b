//! HTTP answers both listeners give: plain responses, refusals, and the
//! endpoints an operator or a load balancer reads (`/healthz`, `/readyz`,
//! `/metrics`).

use crate::shared::Shared;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};

pub(crate) type HttpResponse = Response<Full<Bytes>>;

pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A plain-text error answer whose body says what went wrong.
pub(crate) fn refuse(status: StatusCode, why: impl std::fmt::Display) -> HttpResponse {
    respond(status, "text/plain; charset=utf-8", format!("{why}\n"))
}

pub(crate) fn not_found() -> HttpResponse {
    refuse(
        StatusCode::NOT_FOUND,
        "not found; rooms are at /ws/{room_id}",
    )
}

/// Only `GET` (and `HEAD`) read these endpoints.
fn readable(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// `GET /healthz`: the process is alive (cheap: two counters). Stays 200
/// until the process exits, shutdown included.
pub(crate) fn healthz(shared: &Shared, method: &Method) -> HttpResponse {
    if !readable(method) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let body = serde_json::json!({
        "status": "ok",
        "rooms": shared.rooms.room_count(),
        "connections": shared.rooms.connection_count(),
    });
    respond(StatusCode::OK, "application/json", body.to_string())
}

/// `GET /readyz`: may a load balancer send new clients here? 503 from the
/// moment shutdown begins, and while the server is at its connection limit.
pub(crate) fn readyz(shared: &Shared, method: &Method) -> HttpResponse {
    if !readable(method) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let why = if shared.rooms.is_shutting_down() {
        Some("shutting_down")
    } else if shared.rooms.connection_count() >= shared.config.limits.max_connections {
        Some("at_connection_limit")
    } else {
        None
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
pub(crate) fn metrics(shared: &Shared, method: &Method) -> HttpResponse {
    let Some(metrics) = &shared.metrics else {
        return not_found();
    };
    if !readable(method) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let text = metrics.render(shared.rooms.connection_count(), shared.rooms.room_count());
    respond(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        text,
    )
}
