//! HTTP answers every listener gives: the body type, plain responses and
//! refusals in the framework's error shape.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

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

/// A `503` that tells the client to come back soon (`Retry-After: 1`).
pub(crate) fn retry_soon(why: impl std::fmt::Display) -> HttpResponse {
    let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, why);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

pub(crate) fn not_found() -> HttpResponse {
    refuse(
        StatusCode::NOT_FOUND,
        "not found; rooms are at /ws/{room_id}",
    )
}
