//! The Redis engine as the cluster's ownership registry: leases, node
//! heartbeats and revocations, and the room directory.

use super::{RedisEngine, directory_key, err, fence_key, lease_key, millis, node_key, snap_key};
use crate::edge::cluster::{Acquired, Heartbeat, Holder, Ownership, RegistryFuture};
use crate::engine::store::StoreError;
use redis::AsyncCommands;
use std::time::Duration;

impl Ownership for RedisEngine {
    fn ping(&self) -> RegistryFuture<'_, ()> {
        Box::pin(self.timed("ping", async move {
            let mut connection = self.connection();
            connection.ping::<String>().await.map(drop).map_err(err)
        }))
    }

    fn acquire<'a>(
        &'a self,
        key: &'a str,
        me: &'a Holder,
        ttl: Duration,
        dead: Option<&'a str>,
    ) -> RegistryFuture<'a, Acquired> {
        Box::pin(self.timed("acquire", async move {
            let mut connection = self.writes();
            let (taken, value): (i64, String) = self
                .acquire
                .key(lease_key(key))
                .key(fence_key(key))
                .key(snap_key(key))
                .arg(&me.node)
                .arg(&me.boot)
                .arg(&me.addr)
                .arg(millis(ttl))
                .arg(dead.unwrap_or_default())
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            let holder = Holder::decode(&value).ok_or_else(|| {
                StoreError::Corrupt(format!("a lease that does not decode: {value}"))
            })?;
            if taken == 1 {
                // A lease (and its fence) a failover could lose is not used.
                self.replicated(&mut connection).await?;
            }
            Ok(if taken == 1 {
                Acquired::Mine(holder)
            } else {
                Acquired::Theirs(holder)
            })
        }))
    }

    fn renew<'a>(
        &'a self,
        leases: Vec<(String, String)>,
        ttl: Duration,
    ) -> RegistryFuture<'a, Vec<bool>> {
        Box::pin(self.timed("renew", async move {
            let ttl = millis(ttl);
            // Pipelined by the multiplexed connection: one round trip's worth.
            let renewals = leases.iter().map(|(key, value)| {
                let mut connection = self.connection();
                let mut invocation = self.renew.key(lease_key(key));
                invocation.arg(value).arg(ttl);
                async move { invocation.invoke_async::<i64>(&mut connection).await }
            });
            let results = futures_util::future::join_all(renewals).await;
            results
                .into_iter()
                .map(|result| result.map(|renewed| renewed == 1).map_err(err))
                .collect()
        }))
    }

    fn heartbeat<'a>(
        &'a self,
        service: &'a str,
        me: &'a Holder,
        ttl: Duration,
    ) -> RegistryFuture<'a, Heartbeat> {
        Box::pin(self.timed("heartbeat", async move {
            let mut connection = self.connection();
            let answer: i64 = self
                .heartbeat
                .key(node_key(service, &me.node))
                .arg(&me.boot)
                .arg(millis(ttl))
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(match answer {
                2 => Heartbeat::Revoked,
                1 => Heartbeat::Kept,
                _ => Heartbeat::Lapsed,
            })
        }))
    }

    fn node<'a>(&'a self, service: &'a str, node: &'a str) -> RegistryFuture<'a, Option<String>> {
        Box::pin(self.timed("node", async move {
            let mut connection = self.connection();
            connection.get(node_key(service, node)).await.map_err(err)
        }))
    }

    fn nodes<'a>(&'a self, service: &'a str) -> RegistryFuture<'a, Vec<(String, String)>> {
        Box::pin(self.timed("nodes", async move {
            let mut connection = self.connection();
            let prefix = node_key(service, "");
            let mut keys: Vec<String> = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{prefix}*"))
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut connection)
                    .await
                    .map_err(err)?;
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            keys.sort();
            keys.dedup();
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            // One round trip for every node's value (a key that expired
            // since the scan reads as nothing).
            let values: Vec<Option<String>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(keys
                .iter()
                .zip(values)
                .filter_map(|(key, value)| Some((key.strip_prefix(&prefix)?.to_owned(), value?)))
                .collect())
        }))
    }

    fn revoke<'a>(
        &'a self,
        service: &'a str,
        node: &'a str,
        ttl: Duration,
    ) -> RegistryFuture<'a, bool> {
        Box::pin(self.timed("revoke", async move {
            let mut connection = self.connection();
            let revoked: i64 = self
                .revoke
                .key(node_key(service, node))
                .arg(millis(ttl))
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(revoked == 1)
        }))
    }

    fn holder<'a>(&'a self, key: &'a str) -> RegistryFuture<'a, Option<Holder>> {
        Box::pin(self.timed("holder", async move {
            let mut connection = self.connection();
            let value: Option<String> = connection.get(lease_key(key)).await.map_err(err)?;
            Ok(value.as_deref().and_then(Holder::decode))
        }))
    }

    fn publish<'a>(
        &'a self,
        service: &'a str,
        written: Vec<(String, String)>,
        removed: Vec<String>,
    ) -> RegistryFuture<'a, ()> {
        Box::pin(self.timed("publish", self.publish_entries(service, written, removed)))
    }

    fn directory<'a>(&'a self, service: &'a str) -> RegistryFuture<'a, Vec<(String, String)>> {
        Box::pin(self.timed("directory", async move {
            let mut connection = self.connection();
            connection
                .hgetall(directory_key(service))
                .await
                .map_err(err)
        }))
    }

    fn prune<'a>(
        &'a self,
        service: &'a str,
        expired: Vec<(String, String)>,
    ) -> RegistryFuture<'a, ()> {
        Box::pin(self.timed("prune", async move {
            if expired.is_empty() {
                return Ok(());
            }
            let mut connection = self.connection();
            let mut invocation = self.prune.key(directory_key(service));
            for (field, value) in &expired {
                invocation.arg(field).arg(value);
            }
            let _: i64 = invocation
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(())
        }))
    }

    fn release<'a>(&'a self, key: &'a str, value: &'a str) -> RegistryFuture<'a, ()> {
        Box::pin(self.timed("release", async move {
            let mut connection = self.connection();
            let _: i64 = self
                .release
                .key(lease_key(key))
                .arg(value)
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            Ok(())
        }))
    }
}

impl RedisEngine {
    async fn publish_entries(
        &self,
        service: &str,
        written: Vec<(String, String)>,
        removed: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection();
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
