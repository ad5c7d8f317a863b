//! The connections to Redis: two multiplexed connections (the `redis`
//! crate's `ConnectionManager`, which reconnects), one for saves and
//! leases taken (which may end in a `WAIT` for replicas, which blocks its
//! connection) and one for everything else (heartbeats, renewals, loads),
//! so that a slow replica never delays a heartbeat; to a fixed address
//! (`redis://`, `redis+unix://`) or to the primary that Redis Sentinel
//! names (`redis+sentinel://host:port[,host:port…]/{master}[/{db}]`).
//! With Sentinel, any failed command makes the link ask the sentinels who
//! the primary is now (at most every 100 ms) and move to it: a primary that
//! died, or that came back as a replica (its writes answer `READONLY`).

use super::err;
use crate::engine::store::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::{Sentinel, SentinelNodeConnectionInfo};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How often, at most, the sentinels are asked after failures.
const RESOLVE_EVERY: Duration = Duration::from_millis(100);

/// The connection, and how to find the primary again.
pub(super) struct Link {
    current: RwLock<Pair>,
    sentinels: Option<Sentinels>,
}

/// The two connections to one server.
#[derive(Clone)]
struct Pair {
    general: ConnectionManager,
    writes: ConnectionManager,
}

impl Pair {
    async fn open(
        client: redis::Client,
        config: &ConnectionManagerConfig,
    ) -> Result<Pair, StoreError> {
        let general = ConnectionManager::new_with_config(client.clone(), config.clone())
            .await
            .map_err(err)?;
        let writes = ConnectionManager::new_with_config(client, config.clone())
            .await
            .map_err(err)?;
        Ok(Pair { general, writes })
    }
}

/// A Sentinel deployment: the sentinels, the master's name, and where the
/// link's connection points now.
struct Sentinels {
    sentinel: tokio::sync::Mutex<Sentinel>,
    master: String,
    node: SentinelNodeConnectionInfo,
    config: ConnectionManagerConfig,
    /// The primary's address the connection points at.
    primary: Mutex<String>,
    /// When the sentinels were last asked.
    asked: Mutex<Option<Instant>>,
}

/// A `redis+sentinel://` URL's parts: the sentinels' URLs, the master's
/// name, the database.
pub(super) fn parse_sentinel_url(url: &str) -> Option<(Vec<String>, String, i64)> {
    let rest = url.strip_prefix("redis+sentinel://")?;
    let (hosts, path) = rest.split_once('/')?;
    let mut parts = path.split('/').filter(|part| !part.is_empty());
    let master = parts.next()?.to_owned();
    let db = match parts.next() {
        Some(db) => db.parse().ok()?,
        None => 0,
    };
    let sentinels: Vec<String> = hosts
        .split(',')
        .filter(|host| !host.is_empty())
        .map(|host| format!("redis://{host}"))
        .collect();
    (!sentinels.is_empty() && parts.next().is_none()).then_some((sentinels, master, db))
}

impl Link {
    /// Connects to `url`; commands fail after `timeout`.
    pub(super) async fn open(url: &str, timeout: Duration) -> Result<Link, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(timeout);
        if url.starts_with("redis+sentinel://") {
            let Some((hosts, master, db)) = parse_sentinel_url(url) else {
                return Err(StoreError::backend(
                    "redis",
                    "a Sentinel URL is redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER[/DB]",
                ));
            };
            let mut sentinel = Sentinel::build(hosts).map_err(err)?;
            let node = SentinelNodeConnectionInfo::default()
                .set_redis_connection_info(redis::RedisConnectionInfo::default().set_db(db));
            let client = sentinel
                .async_master_for(&master, Some(&node))
                .await
                .map_err(err)?;
            let primary = client.get_connection_info().addr().to_string();
            info!(%primary, master, "Redis primary found through Sentinel");
            let pair = Pair::open(client, &config).await?;
            return Ok(Link {
                current: RwLock::new(pair),
                sentinels: Some(Sentinels {
                    sentinel: tokio::sync::Mutex::new(sentinel),
                    master,
                    node,
                    config,
                    primary: Mutex::new(primary),
                    asked: Mutex::new(None),
                }),
            });
        }
        let client = redis::Client::open(url).map_err(err)?;
        let pair = Pair::open(client, &config).await?;
        Ok(Link {
            current: RwLock::new(pair),
            sentinels: None,
        })
    }

    fn pair(&self) -> Pair {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The connection for reads, heartbeats and renewals (a cheap clone).
    pub(super) fn connection(&self) -> ConnectionManager {
        self.pair().general
    }

    /// The connection for saves and leases taken, which a `WAIT` may hold.
    pub(super) fn writes(&self) -> ConnectionManager {
        self.pair().writes
    }

    /// A command failed: with Sentinel, ask who the primary is and move to
    /// it if it changed.
    pub(super) async fn failed(&self) {
        let Some(sentinels) = &self.sentinels else {
            return;
        };
        {
            let mut asked = sentinels
                .asked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if asked.is_some_and(|at| at.elapsed() < RESOLVE_EVERY) {
                return;
            }
            *asked = Some(Instant::now());
        }
        let Ok(mut sentinel) = sentinels.sentinel.try_lock() else {
            return; // another command is asking already
        };
        let client = match sentinel
            .async_master_for(&sentinels.master, Some(&sentinels.node))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                tracing::debug!(%error, "the sentinels named no primary yet");
                return;
            }
        };
        let primary = client.get_connection_info().addr().to_string();
        let moved = {
            let known = sentinels
                .primary
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *known != primary
        };
        if !moved {
            return;
        }
        match Pair::open(client, &sentinels.config).await {
            Ok(pair) => {
                *self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = pair;
                warn!(%primary, "the Redis primary changed (Sentinel failover); following it");
                *sentinels
                    .primary
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = primary;
            }
            Err(error) => tracing::debug!(%error, %primary, "the new primary does not answer yet"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_urls_parse_and_bad_ones_do_not() {
        let (hosts, master, db) =
            parse_sentinel_url("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/rooms/2").unwrap();
        assert_eq!(hosts, ["redis://10.0.0.1:26379", "redis://10.0.0.2:26379"]);
        assert_eq!((master.as_str(), db), ("rooms", 2));
        let (_, master, db) = parse_sentinel_url("redis+sentinel://s:26379/rooms").unwrap();
        assert_eq!((master.as_str(), db), ("rooms", 0));
        assert!(parse_sentinel_url("redis+sentinel://s:26379/").is_none());
        assert!(parse_sentinel_url("redis+sentinel:///rooms").is_none());
        assert!(parse_sentinel_url("redis+sentinel://s:26379/rooms/x").is_none());
        assert!(parse_sentinel_url("redis://s:6379/0").is_none());
    }
}
