//! Steering a node and its cluster: who owns a room, which nodes are alive,
//! revoking a dead (or sick) node's rooms, and draining this node.

use crate::edge::Edge;
use crate::edge::answer::{HttpResponse, refuse, respond, retry_soon};
use crate::engine::store::StoreError;
use hyper::{Method, StatusCode};
use std::sync::Arc;

fn json(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    respond(status, "application/json", body.to_string())
}

/// The answer off a cluster.
fn not_a_cluster() -> HttpResponse {
    refuse(StatusCode::NOT_FOUND, "this server is not a cluster node")
}

/// A registry that did not answer: 503, retry soon (logged at debug: the
/// heartbeat and renewal loops warn once per outage).
fn unavailable(error: &StoreError) -> HttpResponse {
    tracing::debug!(%error, "an admin request could not reach the registry");
    retry_soon("the cluster's registry is unavailable; retry")
}

/// `GET /admin/owner/{id}`.
pub(super) async fn owner(edge: &Edge, method: &Method, room: &str) -> HttpResponse {
    if method != Method::GET {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "GET /admin/owner/{id}");
    }
    let Some(cluster) = &edge.cluster else {
        let open = edge
            .engine
            .rooms
            .list()
            .iter()
            .any(|summary| &*summary.id == room);
        if !open {
            return refuse(StatusCode::NOT_FOUND, "no such room");
        }
        let body = serde_json::json!({ "room": room, "node": null, "open": true });
        return json(StatusCode::OK, &body);
    };
    match cluster.owner(room).await {
        Ok(Some((holder, alive))) => json(
            StatusCode::OK,
            &serde_json::json!({
                "room": room,
                "node": holder.node,
                "addr": holder.addr,
                "fence": holder.fence,
                "alive": alive,
            }),
        ),
        Ok(None) => refuse(StatusCode::NOT_FOUND, "no node holds this room"),
        Err(error) => unavailable(&error),
    }
}

/// `GET /admin/nodes`.
pub(super) async fn nodes(edge: &Edge, method: &Method) -> HttpResponse {
    if method != Method::GET {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "GET /admin/nodes");
    }
    let Some(cluster) = &edge.cluster else {
        return not_a_cluster();
    };
    match cluster.nodes().await {
        Ok(nodes) => {
            let nodes: Vec<_> = nodes
                .into_iter()
                .map(|(node, value)| match value.strip_prefix("revoked|") {
                    Some(boot) => {
                        serde_json::json!({ "node": node, "boot": boot, "state": "revoked" })
                    }
                    None => serde_json::json!({ "node": node, "boot": value, "state": "live" }),
                })
                .collect();
            let body = serde_json::json!({ "node": cluster.node_id(), "nodes": nodes });
            json(StatusCode::OK, &body)
        }
        Err(error) => unavailable(&error),
    }
}

/// `POST /admin/nodes/{node}/revoke`.
pub(super) async fn revoke(edge: &Edge, method: &Method, rest: &str) -> HttpResponse {
    let Some(node) = rest.strip_suffix("/revoke").filter(|node| !node.is_empty()) else {
        return refuse(StatusCode::NOT_FOUND, "POST /admin/nodes/{node}/revoke");
    };
    if method != Method::POST {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST /admin/nodes/{node}/revoke",
        );
    }
    let Some(cluster) = &edge.cluster else {
        return not_a_cluster();
    };
    if node == cluster.node_id() {
        return refuse(
            StatusCode::CONFLICT,
            "this is the node answering: drain it (POST /admin/drain) instead",
        );
    }
    match cluster.revoke(node).await {
        Ok(revoked) => json(
            StatusCode::OK,
            &serde_json::json!({ "node": node, "revoked": revoked }),
        ),
        Err(error) => unavailable(&error),
    }
}

/// `POST /admin/drain`: starts the graceful drain and answers at once.
pub(super) fn drain(edge: &Arc<Edge>, method: &Method) -> HttpResponse {
    if method != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "POST /admin/drain");
    }
    if !edge.engine.rooms.is_shutting_down() {
        edge.engine.rooms.refuse_joins();
        tracing::info!("drain asked for by an operator");
        let edge = edge.clone();
        tokio::spawn(async move { crate::edge::drain(&edge).await });
    }
    json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "draining": true }),
    )
}
