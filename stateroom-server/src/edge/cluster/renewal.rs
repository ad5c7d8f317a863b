//! Keeping leases: every TTL/3 the node renews all its leases in one call
//! (after a failure, at every tick until the deadline), fences the rooms
//! whose lease was lost or not renewed in time, and records whether it
//! reaches the store, for `/readyz` and the `stateroom_cluster_*` metrics.

use super::Cluster;
use crate::engine::outage::Outage;
use crate::engine::store::StoreError;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::warn;

impl Cluster {
    /// Renews every lease each TTL/3, and fences the rooms whose lease is
    /// lost or whose deadline passed.
    pub(crate) async fn renew_loop(self: Arc<Self>) {
        let every = self.ttl / 3;
        let mut tick = tokio::time::interval(
            every
                .min(Duration::from_millis(250))
                .max(Duration::from_millis(10)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_renewal = Instant::now();
        // Renewals failing: one warning per outage, not per try.
        let outage = Outage::default();
        loop {
            let now = tokio::select! {
                _ = tick.tick() => false,
                () = self.renew_now.notified() => true,
            };
            self.fence_overdue();
            // After a failure, every tick tries again (the deadline is near).
            if !now && !outage.on() && last_renewal.elapsed() < every {
                continue;
            }
            let held: Vec<(String, String)> = self
                .leases()
                .iter()
                .map(|(room, lease)| (room.clone(), lease.holder.encode()))
                .collect();
            if let Some(metrics) = self.metrics.get() {
                metrics
                    .leases
                    .set(i64::try_from(held.len()).unwrap_or(i64::MAX));
            }
            if held.is_empty() {
                // No lease to renew: a ping keeps `/readyz` honest.
                last_renewal = Instant::now();
                let ping = tokio::time::timeout(every, self.registry.ping()).await;
                self.reached(matches!(ping, Ok(Ok(()))));
                continue;
            }
            let sent = Instant::now();
            let keys = held
                .iter()
                .map(|(room, value)| (self.key(room), value.clone()))
                .collect();
            // A hung store must not keep this loop from fencing overdue rooms.
            let answer = tokio::time::timeout(
                every.min(Duration::from_secs(1)),
                self.registry.renew(keys, self.ttl),
            )
            .await
            .unwrap_or_else(|_| Err(StoreError::backend("redis", "the renewal timed out")));
            match answer {
                Ok(renewed) => {
                    last_renewal = sent;
                    self.reached(true);
                    if let Some(metrics) = self.metrics.get() {
                        metrics
                            .renewals
                            .inc_by(renewed.iter().filter(|ok| **ok).count() as u64);
                    }
                    if let Some(after) = outage.ended() {
                        tracing::info!(
                            after_ms = after.as_millis() as u64,
                            "lease renewals work again"
                        );
                    }
                    let deadline = self.deadline_from(sent);
                    let mut leases = self.leases();
                    for ((room, value), ok) in held.into_iter().zip(renewed) {
                        let Some(lease) = leases.get_mut(&room) else {
                            continue;
                        };
                        if lease.holder.encode() != value {
                            continue;
                        }
                        if ok {
                            lease.deadline = deadline;
                        } else {
                            warn!(room, "lease lost to another node; fencing the room");
                            if let Some(metrics) = self.metrics.get() {
                                metrics.fenced.inc();
                            }
                            let _ = lease.fenced.send(true);
                            leases.remove(&room);
                        }
                    }
                }
                Err(error) => {
                    self.reached(false);
                    if let Some(metrics) = self.metrics.get() {
                        metrics.renewal_failures.inc();
                    }
                    if outage.failed() {
                        warn!(%error, rooms = held.len(), "lease renewal failed; retrying until the leases' deadline");
                    } else {
                        tracing::debug!(%error, "lease renewal failed again");
                    }
                }
            }
        }
    }

    /// Records whether the store answered.
    fn reached(&self, ok: bool) {
        self.reachable
            .store(ok, std::sync::atomic::Ordering::Relaxed);
        if let Some(metrics) = self.metrics.get() {
            metrics.store_reachable.set(i64::from(ok));
        }
    }

    /// Fences every room (an operator revoked this node).
    pub(super) fn fence_all(&self) {
        let mut leases = self.leases();
        for (room, lease) in leases.drain() {
            warn!(room, "fencing the room: this node was revoked");
            if let Some(metrics) = self.metrics.get() {
                metrics.fenced.inc();
            }
            let _ = lease.fenced.send(true);
        }
    }

    /// Fences every room whose deadline has passed.
    fn fence_overdue(&self) {
        let now = Instant::now();
        self.leases().retain(|room, lease| {
            if now < lease.deadline {
                return true;
            }
            warn!(room, "lease not renewed in time; fencing the room");
            if let Some(metrics) = self.metrics.get() {
                metrics.fenced.inc();
            }
            let _ = lease.fenced.send(true);
            false
        });
    }
}
