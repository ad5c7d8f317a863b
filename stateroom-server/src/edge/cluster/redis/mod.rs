//! Redis as the cluster's ownership registry and room store, in one engine
//! so that the fence check is atomic with the write. Each operation is one
//! Lua script. Keys share a hash tag per room (`{service:room}`), so a
//! Redis Cluster keeps a room's keys in one slot:
//!
//! - `stateroom:lease:{K}`: the lease, `node|boot|fence|addr`, with a TTL;
//! - `stateroom:fence:{K}`: the room's last fence (only grows);
//! - `stateroom:snap:{K}`: the snapshot, a hash (`fence seq version state
//!   meta updated`);
//! - `stateroom:dir:{service}`: the room directory, a field per room path
//!   (`edge::cluster::directory`);
//! - `stateroom:node:{service}:{node}`: a node's heartbeat, its boot id with
//!   a short TTL (`--node-ttl`), or `revoked|{boot}` after an operator
//!   revoked that boot.
//!
//! This module is the engine and its scripts; `registry.rs` is the
//! `Ownership` side (leases, heartbeats, the directory), `store.rs` the
//! `RoomStore` side (snapshots). Every command is timed into
//! `stateroom_redis_command_seconds` (and `stateroom_redis_errors_total`).

mod link;
mod registry;
mod store;

use crate::engine::cluster_metrics::ClusterMetrics;
use crate::engine::store::{SaveOutcome, StoreError};
use crate::error::ClusterError;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use std::time::Duration;

/// Takes a lease when it is free, held by the same node (any boot), or
/// still holding exactly ARGV[5], a dead node's lease:
/// fence = max(counter + 1, stored snapshot's fence + 1).
const ACQUIRE: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  local node = string.match(held, '^([^|]*)|')
  if node ~= ARGV[1] and held ~= ARGV[5] then return {0, held} end
end
local f = redis.call('INCR', KEYS[2])
local stored = tonumber(redis.call('HGET', KEYS[3], 'fence') or '0')
if stored >= f then
  f = stored + 1
  redis.call('SET', KEYS[2], f)
end
local value = ARGV[1] .. '|' .. ARGV[2] .. '|' .. f .. '|' .. ARGV[3]
redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
return {1, value}
";

/// Extends a lease still holding exactly this value.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// Deletes a lease still holding exactly this value.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// A node's heartbeat: 2 when an operator revoked this boot (the marker
/// stays until it expires), else sets the key and answers 1 when it still
/// held this boot, 0 when it had lapsed (other nodes may have judged this
/// one dead and taken its rooms).
const HEARTBEAT: &str = r"
local held = redis.call('GET', KEYS[1])
if held == 'revoked|' .. ARGV[1] then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if held == ARGV[1] then return 1 end
return 0
";

/// Revokes the boot a node's heartbeat names, for ARGV[1] ms: 1 when a
/// live boot was revoked, 0 when the node had no heartbeat.
const REVOKE: &str = r"
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, 8) ~= 'revoked|' then
  redis.call('SET', KEYS[1], 'revoked|' .. held, 'PX', ARGV[1])
  return 1
end
return 0
";

/// Commits a snapshot unless a newer fence was handed out for the room.
const SAVE: &str = r"
local f = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
local stored = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if f < current or f < stored then return 0 end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'seq', ARGV[2], 'version', ARGV[3],
  'state', ARGV[4], 'meta', ARGV[5], 'updated', ARGV[6])
-- A doc room's document: ARGV[7] '1' with ARGV[8] a new base (a compaction),
-- ARGV[9] how many versions follow as name/value pairs (-1: keep them),
-- then the updates to append.
if ARGV[7] == '1' then
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[3], 'base', ARGV[8])
end
local i = 10
local versions = tonumber(ARGV[9])
if versions >= 0 then
  for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
    if string.sub(field, 1, 2) == 'v:' then redis.call('HDEL', KEYS[3], field) end
  end
  for _ = 1, versions do
    redis.call('HSET', KEYS[3], 'v:' .. ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
for j = i, #ARGV do redis.call('RPUSH', KEYS[4], ARGV[j]) end
return 1
";

/// Deletes a snapshot unless a newer fence was handed out for the room.
const DELETE: &str = r"
local f = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if f < current then return 0 end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
return 1
";

/// Removes directory entries that still hold exactly the expired value.
const PRUNE: &str = r"
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return removed
";

/// The Redis engine.
#[derive(Clone)]
pub(crate) struct RedisEngine {
    link: std::sync::Arc<link::Link>,
    /// How many replicas must confirm a save or a lease taken before it
    /// counts (`WAIT`); 0 for a Redis without replicas.
    replicas: usize,
    /// `WAIT`'s timeout.
    wait: Duration,
    acquire: Script,
    renew: Script,
    release: Script,
    save: Script,
    delete: Script,
    prune: Script,
    heartbeat: Script,
    revoke: Script,
    /// The node's metrics, when they are on.
    metrics: Option<ClusterMetrics>,
}

impl std::fmt::Debug for RedisEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisEngine")
    }
}

/// A duration as Redis takes it (`PX`, `WAIT`): whole milliseconds.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn err(error: redis::RedisError) -> StoreError {
    StoreError::backend("redis", error)
}

fn lease_key(key: &str) -> String {
    format!("stateroom:lease:{{{key}}}")
}

fn fence_key(key: &str) -> String {
    format!("stateroom:fence:{{{key}}}")
}

fn snap_key(key: &str) -> String {
    format!("stateroom:snap:{{{key}}}")
}

/// A doc room's document: its base (`base`) and versions (`v:{name}`).
fn doc_key(key: &str) -> String {
    format!("stateroom:doc:{{{key}}}")
}

/// A doc room's update log, a list.
fn doc_log_key(key: &str) -> String {
    format!("stateroom:doclog:{{{key}}}")
}

/// A node's heartbeat key.
fn node_key(service: &str, node: &str) -> String {
    format!("stateroom:node:{{{service}}}:{node}")
}

/// A service's room directory: one hash, a field per room path.
fn directory_key(service: &str) -> String {
    format!("stateroom:dir:{{{service}}}")
}

/// A script's answer for a fenced write: 1 when it was applied, 0 when a
/// newer fence had been handed out.
fn fenced(applied: i64) -> SaveOutcome {
    if applied == 1 {
        SaveOutcome::Saved
    } else {
        SaveOutcome::StaleFence
    }
}

impl RedisEngine {
    /// Connects to `url` (`redis://…`, `redis+unix://…`, or
    /// `redis+sentinel://…` for the primary Sentinel names); commands fail
    /// after `timeout` rather than wait on a Redis that went away. A save
    /// or a lease counts once `replicas` replicas confirm it (`WAIT`).
    ///
    /// # Errors
    /// When the URL is invalid or Redis cannot be reached.
    pub(crate) async fn connect(
        url: &str,
        timeout: Duration,
        replicas: usize,
        metrics: Option<ClusterMetrics>,
    ) -> Result<Self, StoreError> {
        let link = link::Link::open(url, timeout).await?;
        Ok(RedisEngine {
            link: std::sync::Arc::new(link),
            replicas,
            wait: timeout / 2,
            acquire: Script::new(ACQUIRE),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
            save: Script::new(SAVE),
            delete: Script::new(DELETE),
            prune: Script::new(PRUNE),
            heartbeat: Script::new(HEARTBEAT),
            revoke: Script::new(REVOKE),
            metrics,
        })
    }

    /// Runs one command, timing it into the metrics.
    async fn timed<T>(
        &self,
        command: &'static str,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = std::time::Instant::now();
        let result = work.await;
        if let Some(metrics) = &self.metrics {
            metrics.redis(command, started.elapsed(), result.is_ok());
        }
        if result.is_err() {
            self.link.failed().await;
        }
        result
    }

    /// The connection for reads, heartbeats and renewals.
    fn connection(&self) -> ConnectionManager {
        self.link.connection()
    }

    /// The connection for saves and leases taken (`WAIT` may hold it).
    fn writes(&self) -> ConnectionManager {
        self.link.writes()
    }

    /// Waits until `self.replicas` replicas have every write sent so far on
    /// the connection (`WAIT`); an error when fewer confirm in time (the
    /// write is then not counted as durable: a save is retried, a lease
    /// not used).
    async fn replicated(&self, connection: &mut ConnectionManager) -> Result<(), StoreError> {
        if self.replicas == 0 {
            return Ok(());
        }
        let confirmed: i64 = redis::cmd("WAIT")
            .arg(self.replicas)
            .arg(millis(self.wait))
            .query_async(connection)
            .await
            .map_err(err)?;
        if usize::try_from(confirmed).unwrap_or(0) < self.replicas {
            return Err(StoreError::backend(
                "redis",
                format!(
                    "{confirmed} of {} replicas confirmed the write in time",
                    self.replicas
                ),
            ));
        }
        Ok(())
    }

    /// Checks that Redis keeps every acknowledged write through a crash:
    /// `appendonly yes` and `appendfsync always`.
    ///
    /// # Errors
    /// [`ClusterError::RedisNotDurable`] with what it has, or
    /// [`ClusterError::Registry`] when Redis cannot be asked.
    pub(crate) async fn durable(&self) -> Result<(), ClusterError> {
        let mut connection = self.connection();
        let get = |name: &'static str| {
            let mut connection = connection.clone();
            async move {
                let pair: Vec<String> = redis::cmd("CONFIG")
                    .arg("GET")
                    .arg(name)
                    .query_async(&mut connection)
                    .await
                    .map_err(err)?;
                Ok::<_, StoreError>(pair.get(1).cloned().unwrap_or_default())
            }
        };
        let appendonly = get("appendonly").await.map_err(ClusterError::Registry)?;
        let appendfsync = get("appendfsync").await.map_err(ClusterError::Registry)?;
        let _: Result<(), _> = connection.ping::<()>().await;
        if appendonly == "yes" && appendfsync == "always" {
            Ok(())
        } else {
            Err(ClusterError::RedisNotDurable {
                config: format!("appendonly {appendonly}, appendfsync {appendfsync}"),
            })
        }
    }
}
