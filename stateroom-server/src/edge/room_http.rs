//! Rooms that answer HTTP: `GET`/`POST /rooms/{id}` (the prefix is
//! configurable) reach the service's `request` hook in the room's task,
//! after its `join` hook accepted the request.
//!
//! | request | answer |
//! |---|---|
//! | the service has no `request` hook | 404 |
//! | a method other than `GET` or `POST` | 405 |
//! | a bad room id | 400 |
//! | `Origin` outside the allow-list | 403 |
//! | a body over `--max-message-size` | 413 |
//! | a body that cannot be read | 400 |
//! | the `join` hook rejects it | its status and body |
//! | the room failed (a hook panicked, or the save that would make the answer durable failed), or did not answer in 10 s | 500, 503 |
//! | otherwise | what the `request` hook returned |

use crate::edge::Edge;
use crate::edge::admission::{
    JOIN_TIMEOUT, join_request, locate, no_such_room, origin_allowed, refused_join,
};
use crate::edge::answer::{HttpResponse, refuse, respond};
use crate::engine::Claim;
use crate::engine::event::RoomEvent;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use stateroom_core::RoomRequest;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) async fn answer<B>(
    edge: &Arc<Edge>,
    request: Request<B>,
    room_id: &str,
    peer: Option<SocketAddr>,
) -> HttpResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let located = match locate(edge, room_id) {
        Ok(located) => located,
        Err(error) => return no_such_room(&error),
    };
    if !located.kind.answers_http {
        return refuse(
            StatusCode::NOT_FOUND,
            "this service's rooms do not answer HTTP",
        );
    }
    if request.method() != Method::GET && request.method() != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST");
    }
    let limits = &edge.engine.config.limits;
    if !origin_allowed(&edge.engine.config.allowed_origins, &request) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this origin may not reach rooms here",
        );
    }
    let join = join_request(located.id(), &request, peer)
        .with_trusted_proxies(&edge.engine.config.trusted_proxies);
    let (parts, body) = request.into_parts();
    let body: Bytes = match Limited::new(body, limits.max_message_size).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {} bytes", limits.max_message_size),
            );
        }
        Err(error) => return refuse(StatusCode::BAD_REQUEST, format!("unreadable body: {error}")),
    };
    let mut room_request = RoomRequest::new(parts.method.clone(), body).with_headers(parts.headers);
    if let Some(query) = parts.uri.query() {
        room_request = room_request.with_query(query);
    }
    let claim = match Claim::take(&edge.engine, &located) {
        Ok(claim) => claim,
        Err(refused) => return refused_join(room_id, refused),
    };
    let (reply, verdict) = tokio::sync::oneshot::channel();
    let ask = async {
        let event = RoomEvent::Request {
            request: Box::new((join, room_request)),
            reply,
        };
        claim.events().send(event).await.ok()?;
        verdict.await.ok()
    };
    // The claim is given back when it drops, whatever happens.
    match tokio::time::timeout(JOIN_TIMEOUT, ask).await {
        Ok(Some(Ok(response))) => {
            let status = response.status();
            let mut answer = respond(status, response.content_type(), response.body().to_vec());
            answer
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            answer
        }
        Ok(Some(Err(reject))) => {
            let status = reject.status();
            refuse(status, reject.body())
        }
        Ok(None) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "the room failed"),
        Err(_) => refuse(StatusCode::SERVICE_UNAVAILABLE, "the room is overloaded"),
    }
}
