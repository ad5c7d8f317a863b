//! Redis as the cluster's room store: snapshots saved and deleted under
//! the room's fence, loaded, listed and expired.

use super::{RedisEngine, doc_key, doc_log_key, err, fence_key, fenced, lease_key, snap_key};
use crate::edge::cluster::room_key;
use crate::engine::store::{
    DocVersion, RoomStore, SaveOutcome, StoreFuture, StoredDoc, StoredRoom,
};
use redis::AsyncCommands;

impl RoomStore for RedisEngine {
    fn acquire_fence(&self) -> StoreFuture<'_, u64> {
        // In a cluster each room's fence comes with its lease.
        Box::pin(async { Ok(0) })
    }

    fn load<'a>(&'a self, service: &'a str, room: &'a str) -> StoreFuture<'a, Option<StoredRoom>> {
        Box::pin(self.timed("load", async move {
            let mut connection = self.connection();
            let fields: std::collections::HashMap<String, String> = connection
                .hgetall(snap_key(&room_key(service, room)))
                .await
                .map_err(err)?;
            if fields.is_empty() {
                return Ok(None);
            }
            let number = |name: &str| {
                fields
                    .get(name)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let key = room_key(service, room);
            let mut fields_doc: std::collections::HashMap<String, Vec<u8>> =
                connection.hgetall(doc_key(&key)).await.map_err(err)?;
            let updates: Vec<Vec<u8>> = connection
                .lrange(doc_log_key(&key), 0, -1)
                .await
                .map_err(err)?;
            let base = fields_doc.remove("base");
            let mut versions = fields_doc
                .into_iter()
                .filter_map(|(field, value)| {
                    let name = field.strip_prefix("v:")?.to_owned();
                    Some(DocVersion::decode(name, &value))
                })
                .collect::<Result<Vec<_>, _>>()?;
            versions.sort_by(|a, b| (a.at_ms, &a.name).cmp(&(b.at_ms, &b.name)));
            Ok(Some(StoredRoom {
                room_id: room.to_owned(),
                fence: number("fence"),
                seq: number("seq"),
                state_version: u32::try_from(number("version")).unwrap_or(u32::MAX),
                state: fields.get("state").cloned().unwrap_or_default(),
                meta: fields.get("meta").cloned().unwrap_or_default(),
                updated_at_ms: number("updated"),
                doc: StoredDoc {
                    base,
                    updates,
                    versions: Some(versions),
                },
            }))
        }))
    }

    fn save_batch<'a>(
        &'a self,
        service: &'a str,
        batch: Vec<StoredRoom>,
    ) -> StoreFuture<'a, Vec<SaveOutcome>> {
        Box::pin(self.timed("save", async move {
            // Each room's save is atomic (one script); rooms are independent,
            // so the batch is pipelined, not one transaction.
            let saves = batch.iter().map(|room| {
                let mut connection = self.writes();
                let key = room_key(service, &room.room_id);
                let mut invocation = self.save.key(snap_key(&key));
                invocation
                    .key(fence_key(&key))
                    .key(doc_key(&key))
                    .key(doc_log_key(&key))
                    .arg(room.fence)
                    .arg(room.seq)
                    .arg(room.state_version)
                    .arg(&room.state)
                    .arg(&room.meta)
                    .arg(room.updated_at_ms);
                let doc = &room.doc;
                match &doc.base {
                    Some(base) => invocation.arg("1").arg(base.as_slice()),
                    None => invocation.arg("0").arg(""),
                };
                match &doc.versions {
                    Some(versions) => {
                        invocation.arg(versions.len());
                        for version in versions {
                            invocation.arg(&version.name).arg(version.encode());
                        }
                    }
                    None => {
                        invocation.arg(-1);
                    }
                }
                for update in &doc.updates {
                    invocation.arg(update.as_slice());
                }
                async move { invocation.invoke_async::<i64>(&mut connection).await }
            });
            let results = futures_util::future::join_all(saves).await;
            let outcomes = results
                .into_iter()
                .map(|result| result.map_err(err).map(fenced))
                .collect::<Result<Vec<_>, _>>()?;
            // Durable only once the replicas asked for have it too.
            self.replicated(&mut self.writes()).await?;
            Ok(outcomes)
        }))
    }

    fn delete<'a>(
        &'a self,
        service: &'a str,
        room: &'a str,
        fence: u64,
    ) -> StoreFuture<'a, SaveOutcome> {
        Box::pin(self.timed("delete", async move {
            // Like a save: a destroy counts once the replicas asked for have it.
            let mut connection = self.writes();
            let key = room_key(service, room);
            let deleted: i64 = self
                .delete
                .key(snap_key(&key))
                .key(fence_key(&key))
                .key(doc_key(&key))
                .key(doc_log_key(&key))
                .arg(fence)
                .invoke_async(&mut connection)
                .await
                .map_err(err)?;
            self.replicated(&mut connection).await?;
            Ok(fenced(deleted))
        }))
    }

    fn list<'a>(&'a self, service: &'a str) -> StoreFuture<'a, Vec<StoredRoom>> {
        Box::pin(self.timed("list", async move {
            let mut connection = self.connection();
            // Every snapshot key of the service: `snap_key(room_key(service, …))`.
            let prefix = format!("stateroom:snap:{{{service}:");
            let pattern = format!("{prefix}*");
            let mut keys: Vec<String> = Vec::new();
            {
                let mut iter = connection
                    .scan_match::<_, String>(&pattern)
                    .await
                    .map_err(err)?;
                while let Some(key) = futures_util::StreamExt::next(&mut iter).await {
                    keys.push(key.map_err(err)?);
                }
            }
            keys.sort();
            let mut rooms = Vec::new();
            for key in keys {
                let Some(room) = key.strip_prefix(&prefix).and_then(|k| k.strip_suffix('}')) else {
                    continue;
                };
                if let Some(stored) = self.load(service, room).await? {
                    rooms.push(stored);
                }
            }
            Ok(rooms)
        }))
    }

    fn max_client_id<'a>(&'a self, _service: &'a str) -> StoreFuture<'a, u32> {
        // Each room raises the node's client ids above its own when it loads.
        Box::pin(async { Ok(0) })
    }

    fn expire<'a>(&'a self, service: &'a str, before_ms: u64) -> StoreFuture<'a, u64> {
        Box::pin(self.timed("expire", async move {
            let mut expired = 0;
            for room in self.list(service).await? {
                if room.updated_at_ms < before_ms {
                    let key = room_key(service, &room.room_id);
                    let mut connection = self.connection();
                    let held: Option<String> =
                        connection.get(lease_key(&key)).await.map_err(err)?;
                    if held.is_none()
                        && self.delete(service, &room.room_id, room.fence).await?
                            == SaveOutcome::Saved
                    {
                        expired += 1;
                    }
                }
            }
            Ok(expired)
        }))
    }
}
