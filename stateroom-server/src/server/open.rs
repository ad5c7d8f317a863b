//! What a server opens before it serves: the persisted service's store
//! (and its fence, client-id floor and retention) and, in a cluster, the
//! registry that is also the store.

use crate::config::Server;
use crate::engine::kinds::Kinds;
use crate::engine::metrics::Metrics;
use crate::engine::persistence::Persistence;
use crate::engine::store::{RoomStore, unix_ms};
#[cfg(feature = "cluster")]
use crate::error::ClusterError;
use crate::error::ServerError;
#[cfg(feature = "cluster")]
use std::net::SocketAddr;
use std::sync::Arc;
use tracing::info;

/// Opens the persisted service's store (the embedded SQLite one unless the
/// builder was given another), takes this process's fence, raises the client
/// ids above every stored one, and applies the retention period.
pub(super) async fn open_store(
    config: &Server,
    kinds: &Kinds,
    metrics: Option<Arc<Metrics>>,
) -> Result<Persistence, ServerError> {
    let store: Arc<dyn RoomStore> = match &config.store {
        Some(store) => store.0.clone(),
        None => default_store(&config.data_dir)?,
    };
    let service = config
        .service_name
        .clone()
        .unwrap_or_else(|| kinds.service_name());
    let fence = store.acquire_fence().await.map_err(ServerError::Store)?;
    let floor = store
        .max_client_id(&service)
        .await
        .map_err(ServerError::Store)?;
    crate::engine::client_ids::raise_client_floor(floor);
    if let Some(retention) = config.retention {
        let before =
            unix_ms().saturating_sub(u64::try_from(retention.as_millis()).unwrap_or(u64::MAX));
        let expired = store
            .expire(&service, before)
            .await
            .map_err(ServerError::Store)?;
        info!(expired, "rooms past the retention period deleted");
    }
    info!(%service, fence, "persistence: rooms are stored");
    Ok(Persistence::start(
        store,
        service,
        fence,
        config.store_retry,
        metrics,
    ))
}

#[cfg(feature = "sqlite")]
fn default_store(dir: &std::path::Path) -> Result<Arc<dyn RoomStore>, ServerError> {
    let store = crate::engine::store::SqliteStore::open(dir).map_err(ServerError::Store)?;
    info!(path = %store.path().display(), "embedded store opened");
    Ok(Arc::new(store))
}

#[cfg(not(feature = "sqlite"))]
fn default_store(_dir: &std::path::Path) -> Result<Arc<dyn RoomStore>, ServerError> {
    Err(ServerError::NoStore)
}

/// Joins the cluster: connects to the registry (which is also the store of
/// persisted rooms), checks its durability and the internal port's
/// protection.
#[cfg(feature = "cluster")]
pub(super) async fn join_cluster(
    options: &crate::config::ClusterOptions,
    (internal, public_port): (SocketAddr, u16),
    config: &Server,
    kinds: &Kinds,
    metrics: Option<crate::engine::cluster_metrics::ClusterMetrics>,
) -> Result<
    (
        Arc<crate::edge::cluster::Cluster>,
        Option<Arc<dyn RoomStore>>,
    ),
    ServerError,
> {
    use crate::edge::cluster::redis::RedisEngine;
    if !internal.ip().is_loopback() && options.secret.is_none() {
        return Err(ClusterError::UnprotectedInternalPort { addr: internal }.into());
    }
    let timeout = (options.lease_ttl / 3).max(std::time::Duration::from_millis(100));
    let replicas = options.replicas_to_wait_for();
    let engine = RedisEngine::connect(&options.url, timeout, replicas, metrics)
        .await
        .map_err(|error| ServerError::from(ClusterError::Registry(error)))?;
    if kinds.persist() == Some(stateroom_core::Durability::Gated)
        && !options.accept_redis_durability
    {
        engine.durable().await?;
    }
    let service = config
        .service_name
        .clone()
        .unwrap_or_else(|| kinds.service_name());
    let node = options
        .node_id
        .clone()
        .unwrap_or_else(|| crate::edge::cluster::default_node_id(public_port));
    let engine = Arc::new(engine);
    let cluster = crate::edge::cluster::Cluster::new(
        engine.clone(),
        service,
        node,
        internal,
        (options.lease_ttl, options.node_ttl),
        options.secret.clone(),
    );
    let store: Option<Arc<dyn RoomStore>> = kinds.persist().map(|_| engine as Arc<dyn RoomStore>);
    Ok((cluster, store))
}
