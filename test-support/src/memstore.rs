//! `MemStore`: a `RoomStore` in memory that tests can look into and make
//! fail or slow (not in `support`: the examples share that module).

use stateroom::store::{RoomStore, SaveOutcome, StoreError, StoreFuture, StoredRoom};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Default)]
pub struct MemStore {
    rooms: Mutex<BTreeMap<(String, String), StoredRoom>>,
    fence: AtomicU64,
    /// Every commit: how many rooms it carried.
    pub commits: Mutex<Vec<usize>>,
    /// Fail every save and load while set.
    pub failing: AtomicBool,
    /// How long each commit takes.
    pub delay_ms: AtomicU64,
}

impl MemStore {
    pub fn get(&self, service: &str, room: &str) -> Option<StoredRoom> {
        self.rooms
            .lock()
            .unwrap()
            .get(&(service.to_owned(), room.to_owned()))
            .cloned()
    }

    pub fn put(&self, service: &str, room: StoredRoom) {
        self.rooms
            .lock()
            .unwrap()
            .insert((service.to_owned(), room.room_id.clone()), room);
    }

    /// The stored state of `room`, decoded.
    pub fn state(&self, service: &str, room: &str) -> Option<serde_json::Value> {
        self.get(service, room)
            .map(|r| serde_json::from_str(&r.state).expect("stored state is JSON"))
    }

    pub fn saves(&self) -> usize {
        self.commits.lock().unwrap().iter().sum()
    }
}

impl RoomStore for MemStore {
    fn acquire_fence(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(self.fence.fetch_add(1, Ordering::SeqCst) + 1) })
    }

    fn load<'a>(&'a self, service: &'a str, room: &'a str) -> StoreFuture<'a, Option<StoredRoom>> {
        Box::pin(async move {
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::backend("memory", "injected failure"));
            }
            Ok(self.get(service, room))
        })
    }

    fn save_batch<'a>(
        &'a self,
        service: &'a str,
        batch: Vec<StoredRoom>,
    ) -> StoreFuture<'a, Vec<SaveOutcome>> {
        Box::pin(async move {
            let delay = self.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::backend("memory", "injected failure"));
            }
            self.commits.lock().unwrap().push(batch.len());
            let mut rooms = self.rooms.lock().unwrap();
            Ok(batch
                .into_iter()
                .map(|room| {
                    let key = (service.to_owned(), room.room_id.clone());
                    match rooms.get(&key) {
                        Some(stored) if stored.fence > room.fence => SaveOutcome::StaleFence,
                        previous => {
                            // A doc room's save says what changed of its
                            // document: keep the rest (see `StoredDoc`).
                            let doc = previous
                                .map(|r| r.doc.clone())
                                .unwrap_or_default()
                                .then(room.doc.clone());
                            rooms.insert(key, StoredRoom { doc, ..room });
                            SaveOutcome::Saved
                        }
                    }
                })
                .collect())
        })
    }

    fn delete<'a>(
        &'a self,
        service: &'a str,
        room: &'a str,
        _fence: u64,
    ) -> StoreFuture<'a, SaveOutcome> {
        Box::pin(async move {
            self.rooms
                .lock()
                .unwrap()
                .remove(&(service.to_owned(), room.to_owned()));
            Ok(SaveOutcome::Saved)
        })
    }

    fn list<'a>(&'a self, service: &'a str) -> StoreFuture<'a, Vec<StoredRoom>> {
        Box::pin(async move {
            Ok(self
                .rooms
                .lock()
                .unwrap()
                .iter()
                .filter(|((s, _), _)| s == service)
                .map(|(_, r)| r.clone())
                .collect())
        })
    }

    fn max_client_id<'a>(&'a self, _service: &'a str) -> StoreFuture<'a, u32> {
        Box::pin(async move { Ok(0) })
    }

    fn expire<'a>(&'a self, service: &'a str, before_ms: u64) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut rooms = self.rooms.lock().unwrap();
            let before = rooms.len();
            rooms.retain(|(s, _), r| s != service || r.updated_at_ms >= before_ms);
            Ok((before - rooms.len()) as u64)
        })
    }
}
