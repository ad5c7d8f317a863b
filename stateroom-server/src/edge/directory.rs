//! The directory and matchmaking over HTTP, and the live lobby.
//!
//! | request | answer |
//! |---|---|
//! | `GET /rooms?kind=&filter[field]=&sort=&available=` | 200, `{"rooms":[RoomInfo…]}`: the rooms of listed kinds (`#[stateroom::service(listed)]`) |
//! | the same with WebSocket upgrade headers | 101, then the live lobby: a `rooms` snapshot, then patches (`docs/protocol.md`) |
//! | a kind that is not listed, or not hosted | 404 |
//! | an unknown parameter or sort | 400 |
//! | `POST /matchmake/{kind}` (`POST /matchmake` on a server of one service), body `{"filter":{…},"sort":"…","options":…}` | 200, a [`Reservation`](crate::Reservation) |
//! | a body that is not that JSON, or over 64 KiB | 400, 413 |
//! | no room with a seat and none can be created | 503 |
//! | `Origin` outside the allow-list | 403 |
//!
//! The admin listener's `GET /admin/rooms` takes the same query and lists
//! every kind.

use crate::edge::Edge;
use crate::edge::admission::origin_allowed;
use crate::edge::answer::{HttpResponse, ResponseBody, refuse, respond, retry_soon};
use crate::engine::directory::{Query, RoomInfo};
use crate::engine::matchmaker::{MatchError, matchmake};
use crate::engine::sync::Document;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::WebSocketConfig;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use serde_json::{Map, Value};
use stateroom_core::sync::Doc;
use std::sync::Arc;
use std::time::Duration;

/// How often a live lobby looks at the directory again after a change:
/// at most one patch per tick, however many rooms changed within it.
pub(crate) const LOBBY_TICK: Duration = Duration::from_millis(100);

/// How often a live lobby in a cluster reads the other nodes' rooms.
const REMOTE_LOOK: Duration = Duration::from_millis(500);

/// The largest matchmaking body.
const MAX_MATCHMAKE_BODY: usize = 64 * 1024;

/// The directory's path: the HTTP prefix without its last slash (`/rooms`).
pub(crate) fn directory_path(edge: &Edge) -> &str {
    let prefix = edge.engine.config.http_prefix.as_str();
    prefix.strip_suffix('/').unwrap_or(prefix)
}

/// The public query in `raw`, or the status and reason it is refused
/// with: 400 for one the directory cannot answer, 404 for a kind it does
/// not list.
fn public_query(edge: &Edge, raw: Option<&str>) -> Result<Query, (StatusCode, String)> {
    let query = Query::from_url_query(raw.unwrap_or_default())
        .map_err(|error| (StatusCode::BAD_REQUEST, error.to_string()))?;
    if let Some(kind) = &query.kind
        && !edge.engine.kinds.get(kind).is_some_and(|k| k.listed)
    {
        let why = format!("the directory does not list room kind `{kind}` here");
        return Err((StatusCode::NOT_FOUND, why));
    }
    Ok(query)
}

/// The rooms of listed kinds that `query` asks for, across the cluster.
async fn listed_rooms(edge: &Edge, query: &Query) -> Vec<RoomInfo> {
    let rooms = crate::engine::directory::all_rooms(&edge.engine).await;
    let kinds = &edge.engine.kinds;
    let shown = rooms
        .into_iter()
        .filter(|room| kinds.get(&room.kind).is_some_and(|kind| kind.listed));
    query.apply(shown)
}

/// `GET /rooms`, as JSON or as a live lobby.
pub(crate) async fn rooms<B>(edge: &Arc<Edge>, request: &mut Request<B>) -> HttpResponse {
    if request.method() != Method::GET {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    if !origin_allowed(&edge.engine.config.allowed_origins, request) {
        return refuse(StatusCode::FORBIDDEN, "this origin may not list rooms here");
    }
    let query = match public_query(edge, request.uri().query()) {
        Ok(query) => query,
        Err((status, why)) => return refuse(status, why),
    };
    if !hyper_tungstenite::is_upgrade_request(request) {
        let found = listed_rooms(edge, &query).await;
        let mut answer = respond(
            StatusCode::OK,
            "application/json",
            serde_json::json!({ "rooms": found }).to_string(),
        );
        answer
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return answer;
    }
    let guard = match crate::engine::Watcher::take(&edge.engine) {
        Ok(guard) => guard,
        Err(refused) => return refuse(StatusCode::SERVICE_UNAVAILABLE, refused),
    };
    let config = Arc::new(WebSocketConfig::default().max_message_size(Some(4096)));
    let (response, upgrading) = match crate::edge::socket::accept(request, config) {
        Ok(upgrade) => upgrade,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error),
    };
    let edge = edge.clone();
    tokio::spawn(async move {
        let _guard = guard;
        if let Ok(socket) = upgrading.socket().await {
            lobby(&edge, socket, &query).await;
        }
    });
    response.map(ResponseBody::from)
}

/// The lobby document: the rooms the query lists, by path.
async fn lobby_document(edge: &Edge, query: &Query) -> Value {
    let map: Map<String, Value> = listed_rooms(edge, query)
        .await
        .into_iter()
        .map(|room| {
            let value = serde_json::to_value(&room).unwrap_or(Value::Null);
            (room.path(), value)
        })
        .collect();
    Value::Object(map)
}

/// One live lobby: a snapshot, then a patch per tick in which the listed
/// rooms changed; pings at the heartbeat interval; closed with 1001 at
/// shutdown.
async fn lobby(edge: &Edge, mut socket: crate::edge::socket::Socket, query: &Query) {
    let mut changes = edge.engine.rooms.watch_directory();
    let mut heartbeat = tokio::time::interval(edge.engine.config.heartbeat_interval);
    heartbeat.reset();
    // In a cluster, other nodes' rooms change without a local signal: look
    // again at each of their publications' pace.
    let mut remote = tokio::time::interval(REMOTE_LOOK);
    remote.reset();
    let clustered = edge.cluster.is_some();
    let mut document = Document::new(lobby_document(edge, query).await);
    if socket.send(document.snapshot(Doc::Rooms)).await.is_err() {
        return;
    }
    loop {
        // What to send after this wake-up, if anything.
        let frame = tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(LOBBY_TICK).await;
                changes.mark_unchanged();
                if edge.engine.rooms.is_shutting_down() {
                    let frame = crate::engine::outbox::close_frame(CloseCode::Away, "server shutting down");
                    let _ = socket.close(Some(frame)).await;
                    return;
                }
                document.update(Doc::Rooms, lobby_document(edge, query).await)
            }
            _ = remote.tick(), if clustered => {
                document.update(Doc::Rooms, lobby_document(edge, query).await)
            }
            _ = heartbeat.tick() => Some(Message::Ping(Default::default())),
            incoming = socket.next() => match incoming {
                // A resync request (or anything) gets a fresh snapshot.
                Some(Ok(Message::Text(_))) => {
                    document = Document::new(lobby_document(edge, query).await);
                    Some(document.snapshot(Doc::Rooms))
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => None,
            },
        };
        if let Some(frame) = frame
            && socket.send(frame).await.is_err()
        {
            return;
        }
    }
}

/// `POST /matchmake/{kind}`.
pub(crate) async fn matchmake_http<B>(
    edge: &Arc<Edge>,
    request: Request<B>,
    kind: &str,
    forwarded: bool,
) -> HttpResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if request.method() != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use POST");
    }
    if !origin_allowed(&edge.engine.config.allowed_origins, &request) {
        return refuse(StatusCode::FORBIDDEN, "this origin may not matchmake here");
    }
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let (query, options) = match matchmake_body(&body) {
        Ok(parsed) => parsed,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    match matchmake(&edge.engine, kind, &query, options, forwarded).await {
        Ok(reservation) => {
            let mut answer = respond(
                StatusCode::OK,
                "application/json",
                serde_json::to_string(&reservation).unwrap_or_default(),
            );
            answer
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            answer
        }
        Err(error @ MatchError::NoSuchKind(_)) => refuse(StatusCode::NOT_FOUND, error),
        Err(error) => retry_soon(error),
    }
}

/// A body of at most [`MAX_MATCHMAKE_BODY`] bytes, or the answer to one
/// that is not.
async fn read_body<B>(request: Request<B>) -> Result<bytes::Bytes, HttpResponse>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(request.into_body(), MAX_MATCHMAKE_BODY)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {MAX_MATCHMAKE_BODY} bytes"),
        )),
        Err(error) => Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("unreadable body: {error}"),
        )),
    }
}

/// `POST /__stateroom/reserve/{room}` on the internal port: the
/// matchmaker on another node reserves a seat in a room this node owns
/// (200 `{"reservation":…}`; 404 when it is not live here; 409 or 423
/// when it has no seat).
pub(crate) async fn reserve_http<B>(
    edge: &Arc<Edge>,
    request: Request<B>,
    room: &str,
) -> HttpResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let options: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(events) = edge.engine.rooms.events(room) else {
        return refuse(StatusCode::NOT_FOUND, "no such room here");
    };
    match crate::engine::matchmaker::reserve(&events, options, None).await {
        Ok(token) => respond(
            StatusCode::OK,
            "application/json",
            serde_json::json!({ "reservation": token }).to_string(),
        ),
        Err(why @ crate::engine::listing::NoSeat::Locked) => refuse(StatusCode::LOCKED, why),
        Err(why) => refuse(StatusCode::CONFLICT, why),
    }
}

/// `{"filter":{"mode":"duel"},"sort":"-clients","options":{…}}`, every
/// field optional; an empty body is `{}`.
fn matchmake_body(body: &[u8]) -> Result<(Query, Value), String> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?
    };
    let Value::Object(mut fields) = value else {
        return Err(
            "the body is a JSON object: {\"filter\":{…},\"sort\":\"…\",\"options\":…}".into(),
        );
    };
    let mut query = String::new();
    let mut serializer = form_urlencoded::Serializer::new(&mut query);
    match fields.remove("filter") {
        None | Some(Value::Null) => {}
        Some(Value::Object(filter)) => {
            for (field, value) in filter {
                let text = match value {
                    Value::String(text) => text,
                    value @ (Value::Number(_) | Value::Bool(_)) => value.to_string(),
                    _ => return Err(format!("filter `{field}` is a string, number or boolean")),
                };
                serializer.append_pair(&format!("filter[{field}]"), &text);
            }
        }
        Some(_) => return Err("`filter` is an object of field: value".into()),
    }
    match fields.remove("sort") {
        None | Some(Value::Null) => {}
        Some(Value::String(sort)) => {
            serializer.append_pair("sort", &sort);
        }
        Some(_) => return Err("`sort` is a string such as \"-clients\"".into()),
    }
    let options = fields.remove("options").unwrap_or(Value::Null);
    if let Some(other) = fields.keys().next() {
        return Err(format!(
            "unknown field `{other}`; the body takes filter, sort and options"
        ));
    }
    serializer.finish();
    let query = Query::from_url_query(&query).map_err(|error| error.to_string())?;
    Ok((query, options))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn matchmake_bodies() {
        let (query, options) =
            matchmake_body(br#"{"filter":{"mode":"duel","size":2},"options":{"name":"ada"}}"#)
                .unwrap();
        assert_eq!(
            query.filter,
            vec![
                ("mode".to_owned(), "duel".to_owned()),
                ("size".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(options, serde_json::json!({"name": "ada"}));
        assert!(matchmake_body(b"").unwrap().1.is_null());
        for bad in [
            &b"[1]"[..],
            br#"{"filter":[1]}"#,
            br#"{"filter":{"a":{}}}"#,
            br#"{"sort":"sideways"}"#,
            br#"{"colour":1}"#,
            b"{",
        ] {
            assert!(
                matchmake_body(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
