//! The edge: everything between the network and the engine. HTTP routing
//! and admission, the answers and the operator's endpoints, static files,
//! the socket and each connection's pump, embedding in another app, and the
//! cluster's lease client and forwarding. The edge imports the engine; the
//! engine never imports the edge.
//!
//! - `listen`: the listeners and their accept loops; `http`: routing and the
//!   WebSocket upgrade; `admission`: what every way into a room checks;
//! - `answer`: the response body and the error shape; `ops`: `/healthz`,
//!   `/readyz`, `/metrics`; `admin`: the operator's listener;
//! - `files`: `--static-dir` and the development page; `room_http`: rooms
//!   that answer HTTP;
//! - `connection` and `socket`: one client's socket loop;
//! - `embed`: a `tower` service for an existing app;
//! - `cluster`: leases, placement and the one-hop forward.

pub(crate) mod admin;
pub(crate) mod admission;
pub(crate) mod answer;
// Compiled without the `cluster` feature too (the edge names its types),
// but idle: nothing can start a cluster then.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
pub(crate) mod cluster;
pub(crate) mod connection;
pub(crate) mod directory;
pub(crate) mod embed;
pub(crate) mod files;
pub(crate) mod http;
pub(crate) mod listen;
pub(crate) mod ops;
pub(crate) mod room_http;
pub(crate) mod socket;

use crate::engine::Engine;
use crate::engine::event::RoomEvent;
use crate::engine::room::SHUTDOWN;
use std::sync::Arc;
use tracing::{info, warn};

/// What every part of the edge shares: the engine, and what only the edge
/// needs.
pub(crate) struct Edge {
    pub(crate) engine: Arc<Engine>,
    /// The user's files (`Server::static_dir`), if any.
    pub(crate) static_dir: Option<files::StaticDir>,
    /// This node's part in a cluster, if it is in one.
    pub(crate) cluster: Option<Arc<cluster::Cluster>>,
    /// The WebSocket settings of every room connection, from the limits:
    /// shared, so that each connection holds a pointer, not a copy.
    pub(crate) ws_config: Arc<hyper_tungstenite::tungstenite::protocol::WebSocketConfig>,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Edge")
    }
}

/// The graceful shutdown: refuse joins (`/readyz` 503), wait out the delay,
/// end every room, and wait (bounded) for the connections and rooms to end.
pub(crate) async fn drain(edge: &Edge) {
    edge.engine.rooms.refuse_joins();
    info!("shutting down: /readyz answers 503 and new joins are refused");
    tokio::time::sleep(edge.engine.config.shutdown_delay).await;
    for events in edge.engine.rooms.live() {
        let end = RoomEvent::End { reason: SHUTDOWN };
        let _ = events.send(end).await;
    }
    let timeout = edge.engine.config.shutdown_timeout;
    if tokio::time::timeout(timeout, edge.engine.rooms.wait_idle())
        .await
        .is_err()
    {
        warn!(
            open = edge.engine.rooms.connection_count(),
            "shutdown timeout reached with connections still open"
        );
    }
    // The rooms' last saves are durable: other nodes may take them now.
    if let Some(cluster) = &edge.cluster {
        cluster.release_all().await;
    }
}
