//! Persisted rooms, server side: the store a server opened, the one writer
//! that group-commits every room's saves (one transaction, one fsync, for
//! all the saves queued while the previous commit ran), and each room's
//! [`Saver`], which decides when to save and releases held frames once their
//! snapshot is durable.

use crate::members::{Outlet, RoomSettings};
use crate::metrics::Metrics;
use crate::room_core::{Panicked, RoomCore};
use crate::snapshot::Meta;
use crate::store::{RoomStore, SaveOutcome, StoreError, StoredRoom, unix_ms};
use stateroom_core::{Durability, SimpleStateroomService};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// A save on its way to the store.
struct Job {
    room: StoredRoom,
    reply: oneshot::Sender<Result<SaveOutcome, StoreError>>,
}

/// A server's persistence: its store, its service's name there, and its fence.
pub(crate) struct Persistence {
    pub(crate) store: Arc<dyn RoomStore>,
    pub(crate) service: String,
    pub(crate) fence: u64,
    writer: mpsc::UnboundedSender<Job>,
}

impl Persistence {
    /// Starts the writer for `store` (on the current runtime).
    pub(crate) fn start(
        store: Arc<dyn RoomStore>,
        service: String,
        fence: u64,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        let (writer, jobs) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(store.clone(), service.clone(), jobs, metrics));
        Persistence {
            store,
            service,
            fence,
            writer,
        }
    }

    pub(crate) async fn load(&self, room: &str) -> Result<Option<StoredRoom>, StoreError> {
        self.store.load(&self.service, room).await
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
                tracing::error!(%error, rooms = count, "a batch of room saves failed");
                for reply in replies {
                    let _ = reply.send(Err(StoreError(error.0.clone())));
                }
            }
        }
    }
}

/// Why a persisted room cannot go on: its held frames are dropped, its
/// clients closed with 1011, and it is dropped, so that the next join loads
/// the last durable snapshot.
#[derive(Debug)]
pub(crate) enum SaveFailed {
    Store(StoreError),
    StaleFence,
    /// In a cluster: the room's lease was lost or lapsed.
    Fenced,
    Unserialisable(String),
    Panicked(Panicked),
}

impl std::fmt::Display for SaveFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveFailed::Store(error) => write!(f, "{error}"),
            SaveFailed::StaleFence => f.write_str("another owner holds a newer fence"),
            SaveFailed::Fenced => f.write_str("the room's lease was lost or lapsed"),
            SaveFailed::Unserialisable(error) => write!(f, "the state does not serialise: {error}"),
            SaveFailed::Panicked(panicked) => write!(f, "a hook panicked: {}", panicked.message()),
        }
    }
}

impl From<Panicked> for SaveFailed {
    fn from(panicked: Panicked) -> Self {
        SaveFailed::Panicked(panicked)
    }
}

impl std::fmt::Debug for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Panicked({})", self.message())
    }
}

/// A save in flight: the held items it covers, and the store's answer.
struct Pending {
    covers: usize,
    answer: oneshot::Receiver<Result<SaveOutcome, StoreError>>,
}

/// One persisted room's saving.
pub(crate) struct Saver {
    persistence: Arc<Persistence>,
    room_id: Arc<str>,
    mode: Durability,
    /// The fence this room's saves carry: the process's, or its lease's.
    fence: u64,
    /// In a cluster: whether the lease is still good (a save answered after
    /// it lapsed must not release what it held).
    lease_good: Option<Box<dyn Fn() -> bool + Send + Sync>>,
    seq: u64,
    /// The last snapshot committed (state, meta), to skip unchanged saves.
    last: Option<(String, Meta)>,
    pending: Option<Pending>,
    /// Something changed (or was asked for) while a save was in flight.
    dirty: bool,
    /// Debounced: when the next save is due.
    due: Option<Instant>,
}

impl Saver {
    pub(crate) fn new(
        persistence: Arc<Persistence>,
        room_id: Arc<str>,
        mode: Durability,
        loaded: Option<&StoredRoom>,
        lease: Option<(u64, Box<dyn Fn() -> bool + Send + Sync>)>,
    ) -> Self {
        let (fence, lease_good) = match lease {
            Some((fence, good)) => (fence, Some(good)),
            None => (persistence.fence, None),
        };
        Saver {
            persistence,
            room_id,
            mode,
            fence,
            lease_good,
            seq: loaded.map_or(0, |room| room.seq),
            last: None,
            pending: None,
            dirty: false,
            due: None,
        }
    }

    /// Whether nothing is in flight or owed: the room may be unloaded.
    pub(crate) fn settled(&self) -> bool {
        self.pending.is_none() && !self.dirty && self.due.is_none()
    }

    /// When a debounced save is due.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Whether a save is in flight.
    pub(crate) fn in_flight(&self) -> bool {
        self.pending.is_some()
    }

    /// The end of a batch of events: save (gated), schedule a save
    /// (debounced), or save if asked (manual).
    pub(crate) fn after_batch<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        core: &mut RoomCore<S, O>,
        now: Duration,
    ) -> Result<(), SaveFailed> {
        let asked = core.take_save_request();
        match self.mode {
            Durability::Gated => self.save(core, now),
            Durability::Manual if asked => self.save(core, now),
            Durability::Manual => Ok(()),
            Durability::Debounced(every) => {
                if asked {
                    return self.save(core, now);
                }
                if self.due.is_none() && self.pending.is_none() {
                    self.due = Some(Instant::now() + every);
                }
                Ok(())
            }
        }
    }

    /// A debounced save fell due.
    pub(crate) fn on_due<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        core: &mut RoomCore<S, O>,
        now: Duration,
    ) -> Result<(), SaveFailed> {
        self.due = None;
        self.save(core, now)
    }

    /// Saves now, or after the save in flight.
    pub(crate) fn save<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        core: &mut RoomCore<S, O>,
        now: Duration,
    ) -> Result<(), SaveFailed> {
        if self.pending.is_some() {
            self.dirty = true;
            return Ok(());
        }
        self.dirty = false;
        let unix_now = unix_ms();
        let (state, meta) = core
            .snapshot(now, unix_now)
            .map_err(SaveFailed::Unserialisable)?;
        let covers = core.held();
        if self
            .last
            .as_ref()
            .is_some_and(|(last_state, last_meta)| *last_state == state && *last_meta == meta)
        {
            // Nothing to make durable: what is held may go.
            return self.released(core, covers, now);
        }
        self.seq += 1;
        let meta_json =
            serde_json::to_string(&meta).map_err(|e| SaveFailed::Unserialisable(e.to_string()))?;
        let room = StoredRoom {
            room_id: self.room_id.to_string(),
            fence: self.fence,
            seq: self.seq,
            state_version: S::STATE_VERSION,
            state: state.clone(),
            meta: meta_json,
            updated_at_ms: unix_now,
        };
        self.last = Some((state, meta));
        let (reply, answer) = oneshot::channel();
        let job = Job { room, reply };
        if self.persistence.writer.send(job).is_err() {
            return Err(SaveFailed::Store(StoreError("the writer stopped".into())));
        }
        self.pending = Some(Pending { covers, answer });
        Ok(())
    }

    /// Waits for the store's answer to the save in flight (pending forever
    /// when there is none: use with a guard).
    pub(crate) async fn answer(&mut self) -> Result<SaveOutcome, StoreError> {
        match &mut self.pending {
            Some(pending) => (&mut pending.answer)
                .await
                .unwrap_or_else(|_| Err(StoreError("the writer stopped".into()))),
            None => std::future::pending().await,
        }
    }

    /// The store answered the save in flight.
    pub(crate) fn on_answer<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        core: &mut RoomCore<S, O>,
        answer: Result<SaveOutcome, StoreError>,
        now: Duration,
    ) -> Result<(), SaveFailed> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        match answer {
            // Committed, but the lease lapsed meanwhile: another node may
            // serve the room now, so nothing held may go out from here.
            Ok(SaveOutcome::Saved) if self.lease_good.as_ref().is_some_and(|good| !good()) => {
                return Err(SaveFailed::StaleFence);
            }
            Ok(SaveOutcome::Saved) => {}
            Ok(SaveOutcome::StaleFence) => return Err(SaveFailed::StaleFence),
            Err(error) => return Err(SaveFailed::Store(error)),
        }
        self.released(core, pending.covers, now)?;
        if self.dirty {
            self.save(core, now)?;
        }
        Ok(())
    }

    fn released<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        core: &mut RoomCore<S, O>,
        covers: usize,
        now: Duration,
    ) -> Result<(), SaveFailed> {
        core.release(covers, now)?;
        if self.mode == Durability::Manual && core.held() == 0 {
            core.open_gate();
        }
        Ok(())
    }

    /// Deletes the room's stored state (`ctx.destroy()`).
    pub(crate) async fn destroy(&mut self) -> Result<(), StoreError> {
        self.pending = None;
        self.dirty = false;
        self.due = None;
        let p = &self.persistence;
        p.store
            .delete(&p.service, &self.room_id, self.fence)
            .await
            .map(|_| ())
    }
}

/// The service's name in the store: `--service-name`, else the type's own
/// name (without its module path).
pub(crate) fn service_name<S>() -> String {
    let full = std::any::type_name::<S>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_owned()
}

/// Opens a persisted room: from its snapshot if it has one, else new. A
/// snapshot that does not decode, does not migrate, or is newer than the
/// code refuses the room (and stays as it is).
pub(crate) async fn open_room<S: SimpleStateroomService>(
    persistence: &Persistence,
    id: &Arc<str>,
    settings: RoomSettings,
    now: std::time::Duration,
) -> Result<
    (
        RoomCore<S, Arc<crate::outbox::Outbox>>,
        Option<crate::store::StoredRoom>,
    ),
    String,
> {
    let stored = persistence
        .load(id)
        .await
        .map_err(|error| format!("loading failed: {error}"))?;
    let Some(stored) = stored else {
        let core = RoomCore::new(id.clone(), settings, now)
            .map_err(|panicked| format!("the service's `new` panicked: {}", panicked.message()))?;
        return Ok((core, None));
    };
    if stored.state_version > S::STATE_VERSION {
        return Err(format!(
            "its snapshot is state version {}, newer than this code's {}",
            stored.state_version,
            S::STATE_VERSION
        ));
    }
    let service = S::load_state(stored.state_version, &stored.state)
        .map_err(|error| format!("its snapshot does not load: {error}"))?;
    let meta: Meta = serde_json::from_str(&stored.meta)
        .map_err(|error| format!("its snapshot's metadata does not decode: {error}"))?;
    // New clients get ids above the room's own (in a cluster, another node
    // may have handed those out).
    crate::http::raise_client_floor(meta.max_client());
    let core = RoomCore::restore(id.clone(), settings, service, &meta, now, unix_ms())
        .map_err(|panicked| format!("the `restore` hook panicked: {}", panicked.message()))?;
    Ok((core, Some(stored)))
}
