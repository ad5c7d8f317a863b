//! HTTP answers both listeners give: plain responses, refusals, and the
//! endpoints an operator or a load balancer reads (`/healthz`, `/readyz`,
//! `/metrics`).

use crate::shared::Shared;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};

pub(crate) type HttpResponse = Response<ResponseBody>;

/// The body of every answer the server gives: bytes in memory, or a file
/// streamed from disk (`Server::static_dir`).
pub struct ResponseBody(Inner);

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Inner::Full(_) => "ResponseBody(bytes)",
            Inner::File(_) => "ResponseBody(file)",
        })
    }
}

enum Inner {
    Full(Full<Bytes>),
    File(tower_http::services::fs::ServeFileSystemResponseBody),
}

impl ResponseBody {
    pub(crate) fn file(body: tower_http::services::fs::ServeFileSystemResponseBody) -> Self {
        ResponseBody(Inner::File(body))
    }
}

impl From<Full<Bytes>> for ResponseBody {
    fn from(body: Full<Bytes>) -> Self {
        ResponseBody(Inner::Full(body))
    }
}

impl hyper::body::Body for ResponseBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        match &mut self.get_mut().0 {
            Inner::Full(body) => std::pin::Pin::new(body)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            Inner::File(body) => std::pin::Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Full(body) => body.is_end_stream(),
            Inner::File(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match &self.0 {
            Inner::Full(body) => body.size_hint(),
            Inner::File(body) => body.size_hint(),
        }
    }
}

pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut response = Response::new(ResponseBody::from(Full::new(body.into())));
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
