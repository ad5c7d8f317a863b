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
//!   (`edge::cluster::directory`).
//!
//! This module is the engine and the registry's operations; `store.rs` is
//! the `RoomStore` side (snapshots).

mod store;

use super::{Acquired, Holder, Ownership, RegistryFuture};
use crate::engine::store::{SaveOutcome, StoreError};
use crate::error::ClusterError;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use std::time::Duration;

/// Takes a lease when it is free or held by the same node (any boot):
/// fence = max(counter + 1, stored snapshot's fence + 1).
const ACQUIRE: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  local node = string.match(held, '^([^|]*)|')
  if node ~= ARGV[1] then return {0, held} end
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
    connection: ConnectionManager,
    acquire: Script,
    renew: Script,
    release: Script,
    save: Script,
    delete: Script,
    prune: Script,
}

impl std::fmt::Debug for RedisEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisEngine")
    }
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
    /// Connects to `url` (`redis://…` or `redis+unix://…`); commands fail
    /// after `timeout` rather than wait on a Redis that went away.
    ///
    /// # Errors
    /// When the URL is invalid or Redis cannot be reached.
    pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(err)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(timeout);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(err)?;
        Ok(RedisEngine {
            connection,
            acquire: Script::new(ACQUIRE),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
            save: Script::new(SAVE),
            delete: Script::new(DELETE),
            prune: Script::new(PRUNE),
        })
    }

    /// Checks that Redis keeps every acknowledged write through a crash:
    /// `appendonly yes` and `appendfsync always`.
    ///
    /// # Errors
    /// [`ClusterError::RedisNotDurable`] with what it has, or
    /// [`ClusterError::Registry`] when Redis cannot be asked.
    pub(crate) async fn durable(&self) -> Result<(), ClusterError> {
        let mut connection = self.connection.clone();
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

impl Ownership for RedisEngine {
    fn ping(&self) -> RegistryFuture<'_, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            connection.ping::<String>().await.map(drop).map_err(err)
        })
    }

    fn acquire<'a>(
        &'a self,
        key: &'a str,
        me: &'a Holder,
        ttl: Duration,
    ) -> RegistryFuture<'a, Acquired> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let (taken, value): (i64, String) = self
                .acquire
                .key(lease_key(key))
                .key(fence_key(key))
                .key(snap_key(key))
                .arg(&me.node)
                .arg(&me.boot)
                .arg(&me.addr)
                .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            let holder = Holder::decode(&value).ok_or_else(|| {
                StoreError::Corrupt(format!("a lease that does not decode: {value}"))
            })?;
            Ok(if taken == 1 {
                Acquired::Mine(holder)
            } else {
                Acquired::Theirs(holder)
            })
        })
    }

    fn renew<'a>(
        &'a self,
        leases: Vec<(String, String)>,
        ttl: Duration,
    ) -> RegistryFuture<'a, Vec<bool>> {
        Box::pin(async move {
            let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
            // Pipelined by the multiplexed connection: one round trip's worth.
            let renewals = leases.iter().map(|(key, value)| {
                let mut connection = self.connection.clone();
                let mut invocation = self.renew.key(lease_key(key));
                invocation.arg(value).arg(ttl);
                async move { invocation.invoke_async::<i64>(&mut connection).await }
            });
            let results = futures_util::future::join_all(renewals).await;
            results
                .into_iter()
                .map(|result| result.map(|renewed| renewed == 1).map_err(err))
                .collect()
        })
    }

    fn publish<'a>(
        &'a self,
        service: &'a str,
        written: Vec<(String, String)>,
        removed: Vec<String>,
    ) -> RegistryFuture<'a, ()> {
        Box::pin(self.publish_entries(service, written, removed))
    }

    fn directory<'a>(&'a self, service: &'a str) -> RegistryFuture<'a, Vec<(String, String)>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            connection
                .hgetall(directory_key(service))
                .await
                .map_err(err)
        })
    }

    fn prune<'a>(
        &'a self,
        service: &'a str,
        expired: Vec<(String, String)>,
    ) -> RegistryFuture<'a, ()> {
        Box::pin(async move {
            if expired.is_empty() {
                return Ok(());
            }
            let mut connection = self.connection.clone();
            let mut invocation = self.prune.key(directory_key(service));
            for (field, value) in &expired {
                invocation.arg(field).arg(value);
            }
            let _: i64 = invocation
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a str, value: &'a str) -> RegistryFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let _: i64 = self
                .release
                .key(lease_key(key))
                .arg(value)
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(())
        })
    }
}

impl RedisEngine {
    async fn publish_entries(
        &self,
        service: &str,
        written: Vec<(String, String)>,
        removed: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let key = directory_key(service);
        let mut pipe = redis::pipe();
        if !written.is_empty() {
            pipe.hset_multiple(&key, &written).ignore();
        }
        if !removed.is_empty() {
            pipe.hdel(&key, removed).ignore();
        }
        pipe.query_async::<()>(&mut connection).await.map_err(err)
    }
}
