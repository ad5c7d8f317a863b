//! One persisted room's saving: when to save (per durability mode), the
//! save in flight, and releasing what the gate held once it is durable.

use super::{Job, Persistence};
use crate::engine::members::Outlet;
use crate::engine::room_core::{Panicked, RoomCore};
use crate::engine::snapshot::Meta;
use crate::engine::store::{SaveOutcome, StoreError, StoredDoc, StoredRoom, unix_ms};
use stateroom_core::{Durability, SimpleStateroomService};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

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

/// A save in flight: the held items it covers, what it carried of a doc
/// room's document (sent again if it fails), and the store's answer.
struct Pending {
    covers: usize,
    doc: StoredDoc,
    answer: oneshot::Receiver<Result<SaveOutcome, StoreError>>,
}

/// The first pause before a failed save is tried again; doubled up to
/// [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(50);
const MAX_RETRY_PAUSE: Duration = Duration::from_millis(500);

/// A store that failed: since when, the next try, and what the failed
/// saves carried of the document (owed to the next save).
struct Failing {
    since: Instant,
    attempts: u32,
    retry_at: Instant,
    doc: StoredDoc,
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
    /// The store is failing: saves wait and try again.
    failing: Option<Failing>,
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
            failing: None,
        }
    }

    /// Whether nothing is in flight or owed: the room may be unloaded.
    pub(crate) fn settled(&self) -> bool {
        self.pending.is_none() && !self.dirty && self.due.is_none() && self.failing.is_none()
    }

    /// When a debounced save, or the retry of a failed one, is due.
    pub(crate) fn due(&self) -> Option<Instant> {
        let retry = self
            .failing
            .as_ref()
            .filter(|_| self.pending.is_none())
            .map(|failing| failing.retry_at);
        match (self.due, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
        if self.due.is_some_and(|due| due <= Instant::now()) {
            self.due = None;
        }
        self.save(core, now)
    }

    /// Saves now, or after the save in flight.
    pub(crate) fn save<S: SimpleStateroomService, O: Outlet>(
        &mut self,
        core: &mut RoomCore<S, O>,
        now: Duration,
    ) -> Result<(), SaveFailed> {
        let waiting = self
            .failing
            .as_ref()
            .is_some_and(|failing| Instant::now() < failing.retry_at);
        if self.pending.is_some() || waiting {
            self.dirty = true;
            return Ok(());
        }
        self.dirty = false;
        let unix_now = unix_ms();
        let (state, meta) = core
            .snapshot(now, unix_now)
            .map_err(SaveFailed::Unserialisable)?;
        let covers = core.held();
        let mut doc = core.doc_for_save();
        if let Some(failing) = &mut self.failing {
            doc = std::mem::take(&mut failing.doc).then(doc);
        }
        if doc.is_empty()
            && self
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
            doc,
        };
        // Kept to be sent again should this save fail.
        let room_doc = room.doc.clone();
        self.last = Some((state, meta));
        let (reply, answer) = oneshot::channel();
        let job = Job { room, reply };
        if self.persistence.writer.send(job).is_err() {
            return Err(SaveFailed::Store(StoreError::WriterStopped));
        }
        self.pending = Some(Pending {
            covers,
            doc: room_doc,
            answer,
        });
        Ok(())
    }

    /// Waits for the store's answer to the save in flight (pending forever
    /// when there is none: use with a guard).
    pub(crate) async fn answer(&mut self) -> Result<SaveOutcome, StoreError> {
        match &mut self.pending {
            Some(pending) => (&mut pending.answer)
                .await
                .unwrap_or(Err(StoreError::WriterStopped)),
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
            Err(error) => return self.failed(error, pending.doc),
        }
        if let Some(failing) = self.failing.take() {
            tracing::info!(
                attempts = failing.attempts,
                after_ms = failing.since.elapsed().as_millis() as u64,
                "the store is back; the room's held frames go out"
            );
        }
        self.released(core, pending.covers, now)?;
        if self.dirty {
            self.save(core, now)?;
        }
        Ok(())
    }

    /// A save failed. While the room may still save (its lease holds, or,
    /// on one node, for `--store-retry`), what it held stays held, and a
    /// fresh save (covering at least as much, and the document changes the
    /// failed one carried) is tried after a pause; past that, the room
    /// fails.
    fn failed(&mut self, error: StoreError, doc: StoredDoc) -> Result<(), SaveFailed> {
        let lease_holds = self.lease_good.as_ref().map(|good| good());
        let failing = self.failing.get_or_insert_with(|| {
            tracing::warn!(%error, "a save failed; the room holds its frames and tries again");
            Failing {
                since: Instant::now(),
                attempts: 0,
                retry_at: Instant::now(),
                doc: StoredDoc::default(),
            }
        });
        match lease_holds {
            // The lease ran out meanwhile: another node may have the room.
            Some(false) => return Err(SaveFailed::Fenced),
            None if failing.since.elapsed() >= self.persistence.retry => {
                return Err(SaveFailed::Store(error));
            }
            _ => {}
        }
        tracing::debug!(%error, attempt = failing.attempts, "a save failed again");
        let pause = FIRST_RETRY_PAUSE
            .saturating_mul(1 << failing.attempts.min(5))
            .min(MAX_RETRY_PAUSE);
        failing.attempts += 1;
        failing.retry_at = Instant::now() + pause;
        failing.doc = std::mem::take(&mut failing.doc).then(doc);
        // The failed snapshot is not durable: the next one must not be
        // skipped as unchanged.
        self.last = None;
        self.dirty = true;
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
