//! Node liveness, apart from room leases: each node writes a heartbeat key
//! (its boot id, with a TTL of `--node-ttl`, default 2 s) every quarter of
//! that TTL. A join for a room whose lease names a boot with no heartbeat
//! takes the lease over at once instead of waiting out the lease's TTL; the
//! fence the takeover hands out keeps the dead (or paused) node from ever
//! committing again.
//!
//! Two rules keep a Redis outage from looking like dead nodes:
//! - a node judges others dead only after its own heartbeats have succeeded
//!   without a gap for a whole node TTL (after an outage every live node has
//!   had the time to write its heartbeat again);
//! - a node's own rooms are not fenced when its heartbeat fails: their
//!   leases' deadlines still rule. When its heartbeat comes back lapsed it
//!   renews every lease at once, and fences the rooms another node took.
//!
//! An operator can revoke a node's boot (`POST /admin/nodes/{node}/revoke`):
//! its rooms may move at once, and the node, if alive, fences them at its
//! next heartbeat and takes no room until the revocation lapses (one lease
//! TTL).

use super::{Cluster, Heartbeat, Holder};
use crate::engine::outage::Outage;
use crate::engine::store::StoreError;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::{info, warn};

/// This node's heartbeat, as far as it knows.
#[derive(Default)]
pub(super) struct Liveness {
    /// Since when its heartbeats have succeeded without a failure.
    heard_since: Option<Instant>,
    /// An operator revoked this boot (its last heartbeat said so).
    revoked: bool,
}

/// Where this node stands, for `/readyz` and `/admin/nodes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeState {
    /// Its heartbeats reach the registry.
    Live,
    /// Its last heartbeat failed (or none has succeeded yet).
    Unheard,
    /// An operator revoked it.
    Revoked,
}

impl Cluster {
    fn liveness(&self) -> std::sync::MutexGuard<'_, Liveness> {
        self.liveness
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Where this node stands.
    pub(crate) fn liveness_state(&self) -> NodeState {
        let liveness = self.liveness();
        match (liveness.revoked, liveness.heard_since) {
            (true, _) => NodeState::Revoked,
            (false, Some(_)) => NodeState::Live,
            (false, None) => NodeState::Unheard,
        }
    }

    /// Whether the node holding `holder`'s lease is dead: its heartbeat
    /// lapsed or names another boot. Never judged before this node has
    /// heard its own heartbeats for a whole node TTL.
    pub(super) async fn dead(&self, holder: &Holder) -> Result<bool, StoreError> {
        if holder.node == self.me.node {
            // An earlier boot of this node: `acquire` already took it over.
            return Ok(false);
        }
        let settled = self
            .liveness()
            .heard_since
            .is_some_and(|since| since.elapsed() >= self.node_ttl);
        if !settled {
            return Ok(false);
        }
        Ok(!self.alive(holder).await?)
    }

    /// Whether the boot `holder` names still has a heartbeat.
    async fn alive(&self, holder: &Holder) -> Result<bool, StoreError> {
        let heartbeat = self.registry.node(&self.service, &holder.node).await?;
        Ok(heartbeat.as_deref() == Some(holder.boot.as_str()))
    }

    /// How often heartbeats are written (and a frozen owner checked on):
    /// a quarter of the node TTL, at most every 250 ms.
    fn heartbeat_every(&self) -> Duration {
        (self.node_ttl / 4)
            .min(Duration::from_millis(250))
            .max(Duration::from_millis(10))
    }

    /// Returns once `holder`'s node is judged dead (checked every quarter
    /// of the node TTL; a registry error counts as alive).
    pub(crate) async fn until_dead(&self, holder: &Holder) {
        loop {
            tokio::time::sleep(self.heartbeat_every()).await;
            if self.dead(holder).await.unwrap_or(false) {
                return;
            }
        }
    }

    /// Writes this node's heartbeat every quarter of the node TTL (at most
    /// every 250 ms), for as long as the node runs.
    pub(crate) async fn heartbeat_loop(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.heartbeat_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let outage = Outage::default();
        loop {
            tick.tick().await;
            let answer = tokio::time::timeout(
                self.node_ttl / 2,
                self.registry
                    .heartbeat(&self.service, &self.me, self.node_ttl),
            )
            .await
            .unwrap_or_else(|_| Err(StoreError::backend("redis", "the heartbeat timed out")));
            match answer {
                Ok(beat) => {
                    if let Some(after) = outage.ended() {
                        info!(
                            after_ms = after.as_millis() as u64,
                            "node heartbeats work again"
                        );
                    }
                    self.heard(beat);
                }
                Err(error) => {
                    self.liveness().heard_since = None;
                    if let Some(metrics) = self.metrics.get() {
                        metrics.heartbeat_failures.inc();
                    }
                    if outage.failed() {
                        warn!(%error, "node heartbeat failed; other nodes may judge this one dead after the node TTL");
                    }
                }
            }
        }
    }

    /// Acts on a heartbeat's answer.
    fn heard(&self, beat: Heartbeat) {
        let was_revoked = {
            let mut liveness = self.liveness();
            liveness.heard_since.get_or_insert_with(Instant::now);
            std::mem::replace(&mut liveness.revoked, beat == Heartbeat::Revoked)
        };
        match beat {
            Heartbeat::Kept => {}
            Heartbeat::Lapsed => {
                // Another node may have taken some rooms: find out now.
                self.renew_now.notify_one();
            }
            Heartbeat::Revoked => {
                if !was_revoked {
                    warn!("an operator revoked this node; fencing its rooms");
                }
                self.fence_all();
            }
        }
        if was_revoked && beat != Heartbeat::Revoked {
            info!("this node's revocation lapsed; it takes rooms again");
        }
    }

    /// The nodes of this service with a heartbeat: (node, its boot id, or
    /// `revoked|{boot}`).
    pub(crate) async fn nodes(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.registry.nodes(&self.service).await
    }

    /// Revokes `node`'s live boot: its rooms may move at once. Whether it
    /// had a live one.
    pub(crate) async fn revoke(&self, node: &str) -> Result<bool, StoreError> {
        let revoked = self.registry.revoke(&self.service, node, self.ttl).await?;
        if revoked {
            warn!(
                node,
                "node revoked by an operator; its rooms move at their next join"
            );
        }
        Ok(revoked)
    }

    /// Who holds `room`'s lease, and whether that node is alive.
    pub(crate) async fn owner(&self, room: &str) -> Result<Option<(Holder, bool)>, StoreError> {
        let Some(holder) = self.registry.holder(&self.key(room)).await? else {
            return Ok(None);
        };
        let alive = self.alive(&holder).await?;
        Ok(Some((holder, alive)))
    }

    /// This node's id.
    pub(crate) fn node_id(&self) -> &str {
        &self.me.node
    }
}
