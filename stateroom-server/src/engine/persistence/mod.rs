//! Persisted rooms, server side: the store a server opened, the one writer
//! that group-commits every room's saves (one transaction, one fsync, for
//! all the saves queued while the previous commit ran), and each room's
//! [`Saver`], which decides when to save and releases held frames once their
//! snapshot is durable.

mod open;
mod saver;

pub(crate) use open::{OpenFailed, open_room, service_name};
pub(crate) use saver::{SaveFailed, Saver};

use crate::engine::metrics::Metrics;
use crate::engine::store::{RoomStore, SaveOutcome, StoreError, StoredRoom};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A save on its way to the store.
pub(super) struct Job {
    pub(super) room: StoredRoom,
    pub(super) reply: oneshot::Sender<Result<SaveOutcome, StoreError>>,
}

/// A server's persistence: its store, its service's name there, and its fence.
pub(crate) struct Persistence {
    pub(crate) store: Arc<dyn RoomStore>,
    pub(crate) service: String,
    pub(crate) fence: u64,
    /// How long a room without a lease retries a failing store.
    pub(super) retry: std::time::Duration,
    pub(super) writer: mpsc::UnboundedSender<Job>,
    /// Loads failing (one warning per outage, not per join).
    loads: crate::engine::outage::Outage,
}

impl Persistence {
    /// Starts the writer for `store` (on the current runtime).
    pub(crate) fn start(
        store: Arc<dyn RoomStore>,
        service: String,
        fence: u64,
        retry: std::time::Duration,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        let (writer, jobs) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(store.clone(), service.clone(), jobs, metrics));
        Persistence {
            store,
            service,
            fence,
            retry,
            writer,
            loads: crate::engine::outage::Outage::default(),
        }
    }

    /// Loads `room`'s snapshot; says once per outage that loads fail, and
    /// once that they work again.
    pub(crate) async fn load(&self, room: &str) -> Result<Option<StoredRoom>, StoreError> {
        let loaded = self.store.load(&self.service, room).await;
        match &loaded {
            Err(error) if self.loads.failed() => {
                tracing::warn!(%error, "the room store cannot load rooms; joins get 503 until it can");
            }
            Err(error) => tracing::debug!(%error, "loading a room failed again"),
            Ok(_) => {
                if let Some(after) = self.loads.ended() {
                    let after_ms = after.as_millis() as u64;
                    tracing::info!(after_ms, "the room store loads rooms again");
                }
            }
        }
        loaded
    }
}

/// Commits everything queued since the last commit in one batch.
async fn write_loop(
    store: Arc<dyn RoomStore>,
    service: String,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    metrics: Option<Arc<Metrics>>,
) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while let Ok(job) = jobs.try_recv() {
            batch.push(job);
        }
        let (rooms, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|job| (job.room, job.reply)).unzip();
        let count = rooms.len() as u64;
        match store.save_batch(&service, rooms).await {
            Ok(outcomes) => {
                if let Some(metrics) = &metrics {
                    metrics.committed(count);
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                // Each room says so once per outage (`Saver`); not per batch here.
                tracing::debug!(%error, rooms = count, "a batch of room saves failed");
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}
