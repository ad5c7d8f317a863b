//! The room directory across a cluster. Each node publishes the rooms it
//! owns into one Redis hash per service (`stateroom:dir:{service}`, a field
//! per room path), each entry stamped with a lifetime of one lease TTL and
//! written again at every renewal, and at once (within 100 ms) when a room
//! is created, changes or goes. A node that dies stops refreshing: its
//! rooms drop out of every listing within the lease, and come back under
//! their new owner when their clients reconnect there. Readers skip
//! expired entries, and each node prunes them as it refreshes. No extra
//! engine: the single-owner lease makes each entry one writer's.
//!
//! The same module runs matchmaking across nodes (`ClusterRooms`): one
//! node per kind runs it (the holder of the lease `#matchmaker/{kind}`,
//! which no room path can be), reserving seats in other nodes' rooms over
//! the internal port.

use super::{Cluster, Placement, proxy};
use crate::engine::Engine;
use crate::engine::cluster_rooms::{ClusterFuture, ClusterRooms};
use crate::engine::directory::RoomInfo;
use crate::engine::listing::NoSeat;
use crate::engine::matchmaker::{MatchError, Reservation};
use crate::engine::store::unix_ms;
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tracing::warn;

/// How long a change waits before it is published (changes within it go
/// together).
const PUBLISH_DELAY: Duration = Duration::from_millis(100);

/// How long a reservation or a forwarded matchmaking call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// One directory entry as stored.
#[derive(Serialize, Deserialize)]
struct Entry {
    /// Unix time (ms) after which the entry no longer counts.
    until: u64,
    /// The owner's internal address.
    addr: String,
    room: RoomInfo,
}

/// What this node last published, and where other nodes' rooms are.
#[derive(Default)]
pub(crate) struct Published {
    /// Each of this node's rooms as last written (its entry without `until`).
    mine: Mutex<HashMap<String, String>>,
    /// The internal address of each room another node owns, as last read.
    addrs: Mutex<HashMap<String, String>>,
    /// Publishing failing (one warning per outage, not per try).
    failing: crate::engine::outage::Outage,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cluster {
    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Publishes this node's rooms: those that changed now, every one when
    /// `refresh` (each renewal period), and removes those gone.
    async fn publish(&self, engine: &Engine, refresh: bool) {
        let mut current = HashMap::new();
        for room in engine.rooms.list() {
            if !self.holds_now(&room.id) {
                continue;
            }
            let mut info = RoomInfo::from_summary(&room);
            info.node = Some(self.me.node.clone());
            let value = serde_json::to_string(&info).unwrap_or_default();
            current.insert(room.id.to_string(), value);
        }
        let until = unix_ms().saturating_add(self.ttl_ms());
        let (written, removed) = {
            let mine = lock(&self.directory.mine);
            let written: Vec<(String, String)> = current
                .iter()
                .filter(|(path, value)| refresh || mine.get(*path) != Some(value))
                .map(|(path, value)| {
                    let entry = format!(
                        r#"{{"until":{until},"addr":{},"room":{value}}}"#,
                        Value::String(self.me.addr.clone())
                    );
                    (path.clone(), entry)
                })
                .collect();
            let removed: Vec<String> = mine
                .keys()
                .filter(|path| !current.contains_key(*path))
                .cloned()
                .collect();
            (written, removed)
        };
        if written.is_empty() && removed.is_empty() {
            return;
        }
        match self.registry.publish(&self.service, written, removed).await {
            Ok(()) => {
                *lock(&self.directory.mine) = current;
                if let Some(after) = self.directory.failing.ended() {
                    let after_ms = after.as_millis() as u64;
                    tracing::info!(
                        after_ms,
                        "this node's rooms are published to the directory again"
                    );
                }
            }
            Err(error) if self.directory.failing.failed() => {
                warn!(%error, "could not publish this node's rooms to the directory; retrying");
            }
            Err(error) => tracing::debug!(%error, "publishing the directory failed again"),
        }
    }

    /// Removes entries past their lifetime (any node's).
    async fn prune(&self) {
        let Ok(entries) = self.registry.directory(&self.service).await else {
            return;
        };
        let now = unix_ms();
        let expired = entries
            .into_iter()
            .filter(|(_, value)| {
                serde_json::from_str::<Entry>(value).map_or(true, |entry| entry.until < now)
            })
            .collect();
        if let Err(error) = self.registry.prune(&self.service, expired).await {
            warn!(%error, "could not prune the directory");
        }
    }

    /// Keeps this node's directory entries current until the process ends.
    pub(crate) async fn publish_loop(self: Arc<Self>, engine: Arc<Engine>) {
        let mut changes = engine.rooms.watch_directory();
        let every = (self.ttl / 3).max(Duration::from_millis(10));
        let mut refresh = tokio::time::interval(every);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let full = tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    tokio::time::sleep(PUBLISH_DELAY).await;
                    changes.mark_unchanged();
                    false
                }
                _ = refresh.tick() => true,
            };
            self.publish(&engine, full).await;
            if full {
                self.prune().await;
            }
        }
    }
}

impl ClusterRooms for Cluster {
    fn node(&self) -> &str {
        &self.me.node
    }

    fn remote_rooms(&self) -> ClusterFuture<'_, Vec<RoomInfo>> {
        Box::pin(async move {
            let entries = match self.registry.directory(&self.service).await {
                Ok(entries) => entries,
                Err(error) => {
                    warn!(%error, "could not read the cluster's directory");
                    return Vec::new();
                }
            };
            let now = unix_ms();
            let mut addrs = HashMap::new();
            let rooms = entries
                .into_iter()
                .filter_map(|(path, value)| {
                    let entry: Entry = serde_json::from_str(&value).ok()?;
                    if entry.until < now || entry.room.node.as_deref() == Some(&self.me.node) {
                        return None;
                    }
                    addrs.insert(path, entry.addr);
                    Some(entry.room)
                })
                .collect();
            *lock(&self.directory.addrs) = addrs;
            rooms
        })
    }

    fn matchmaker<'a>(
        &'a self,
        kind: &'a str,
    ) -> ClusterFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            match self.place(&format!("#matchmaker/{kind}")).await {
                Ok(Placement::Here) => Ok(None),
                Ok(Placement::There(owner)) => Ok(Some(owner.addr)),
                Err(error) => Err(format!("the cluster's registry is unavailable: {error}")),
            }
        })
    }

    fn matchmake_at<'a>(
        &'a self,
        addr: &'a str,
        kind: &'a str,
        body: String,
    ) -> ClusterFuture<'a, Result<Reservation, MatchError>> {
        Box::pin(async move {
            let path = format!("/__stateroom/matchmake/{kind}");
            let secret = self.secret.as_deref();
            match proxy::call(addr, secret, &path, &body, CALL_TIMEOUT).await {
                Ok((StatusCode::OK, body)) => serde_json::from_slice(&body).map_err(|error| {
                    MatchError::NoSeat(format!("the matchmaker's answer: {error}"))
                }),
                Ok((StatusCode::NOT_FOUND, _)) => Err(MatchError::NoSuchKind(kind.to_owned())),
                Ok((status, body)) => Err(MatchError::NoSeat(format!(
                    "the matchmaker answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ))),
                Err(why) => Err(MatchError::NoSeat(why)),
            }
        })
    }

    fn reserve_at<'a>(
        &'a self,
        room: &'a RoomInfo,
        options: Value,
    ) -> ClusterFuture<'a, Result<String, NoSeat>> {
        Box::pin(async move {
            let path = room.path();
            let Some(addr) = lock(&self.directory.addrs).get(&path).cloned() else {
                return Err(NoSeat::Full);
            };
            let body = options.to_string();
            let secret = self.secret.as_deref();
            let url = format!("/__stateroom/reserve/{path}");
            match proxy::call(&addr, secret, &url, &body, CALL_TIMEOUT).await {
                Ok((StatusCode::OK, body)) => serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|value| value["reservation"].as_str().map(str::to_owned))
                    .ok_or(NoSeat::Full),
                Ok((StatusCode::LOCKED, _)) => Err(NoSeat::Locked),
                _ => Err(NoSeat::Full),
            }
        })
    }

    fn take_here<'a>(&'a self, path: &'a str) -> ClusterFuture<'a, bool> {
        Box::pin(async move { matches!(self.place(path).await, Ok(Placement::Here)) })
    }
}
