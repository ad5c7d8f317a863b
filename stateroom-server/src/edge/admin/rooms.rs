//! `/admin/rooms`: every room across the cluster, and closing one.

use crate::edge::Edge;
use crate::edge::answer::{HttpResponse, refuse, respond};
use crate::engine::directory::Query;
use crate::engine::event::RoomEvent;
use crate::engine::registry::RoomSummary;
use hyper::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;

/// `/admin/rooms` and `/admin/rooms/{id}`.
pub(super) async fn rooms(
    edge: &Arc<Edge>,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> HttpResponse {
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
