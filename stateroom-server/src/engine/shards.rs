//! Room shards: where rooms, and their clients' connections, run when the
//! server owns its process ([`Server::serve`](crate::Server::serve)).
//!
//! Each shard is a tokio current-thread runtime on a thread of its own. A new
//! room goes to the shard with the fewest rooms, and each of its clients'
//! connections joins it there (the edge moves the socket to the shard's
//! reactor), so a room and its connections wake one another on one thread:
//! no work-stealing queue, no cross-thread wake-up per frame, and a woken
//! connection waits its turn behind what is already queued, so under load one
//! write carries the frames of several room events (measured in
//! docs/benchmarks-notes.md). The rest of the server (HTTP, the admin
//! listener, persistence's writer, the cluster) stays on the multi-threaded
//! runtime `serve` builds. Without shards ([`Server::start`](crate::Server::start),
//! embedding), a [`Place`] is the caller's runtime.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::runtime::Handle;

/// One current-thread runtime and the rooms on it.
#[derive(Debug)]
pub(crate) struct Shard {
    handle: Handle,
    /// Live rooms on this shard (a room's task counts itself while it runs).
    rooms: AtomicUsize,
    /// Writes the shard's flusher made (see `outbox::flusher`), since
    /// [`Shards::take_writes`] last asked.
    writes: Arc<AtomicU64>,
}

/// Where a room and its connections run: a shard, or (`None`) the runtime of
/// whoever spawns them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Place(Option<Arc<Shard>>);

impl Place {
    /// Runs `task` here.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match &self.0 {
            Some(shard) => drop(shard.handle.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
    }

    /// Runs a room's task here, counted among the shard's rooms while it
    /// runs (a forwarded connection's relay counts as a room too, so that
    /// relays spread over the shards like rooms).
    pub(crate) fn spawn_room<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(shard) = &self.0 else {
            return self.spawn(task);
        };
        shard.rooms.fetch_add(1, Ordering::Relaxed);
        let counted = Counted(shard.clone());
        self.spawn(async move {
            let _counted = counted;
            task.await;
        });
    }

    /// The shard's runtime, for moving a socket to its reactor; `None` when
    /// this place is the caller's runtime.
    pub(crate) fn handle(&self) -> Option<&Handle> {
        self.0.as_ref().map(|shard| &shard.handle)
    }
}

/// Uncounts a room when its task ends (or is dropped with its runtime).
struct Counted(Arc<Shard>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.rooms.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The shards of a server, running until [`stop`](Self::stop).
#[derive(Debug)]
pub(crate) struct Shards {
    shards: Vec<Arc<Shard>>,
    /// Each shard's thread and the sender that ends it.
    threads: Mutex<
        Vec<(
            tokio::sync::oneshot::Sender<()>,
            std::thread::JoinHandle<()>,
        )>,
    >,
}

impl Shards {
    /// Starts `count` shards (at least one), each on a thread of its own.
    pub(crate) fn start(count: usize) -> io::Result<Arc<Shards>> {
        let mut shards = Vec::new();
        let mut threads = Vec::new();
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let writes = Arc::new(AtomicU64::new(0));
            shards.push(Arc::new(Shard {
                handle: runtime.handle().clone(),
                rooms: AtomicUsize::new(0),
                writes: writes.clone(),
            }));
            runtime.spawn(crate::engine::outbox::flusher(writes));
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("stateroom-shard-{index}"))
                .spawn(move || {
                    let _ = runtime.block_on(stopped);
                    // Dropping the runtime drops the tasks still on it, here,
                    // on their own thread.
                })?;
            threads.push((stop, thread));
        }
        Ok(Arc::new(Shards {
            shards,
            threads: Mutex::new(threads),
        }))
    }

    /// The place for a new room: the shard with the fewest live rooms.
    pub(crate) fn place(&self) -> Place {
        let shard = self
            .shards
            .iter()
            .min_by_key(|shard| shard.rooms.load(Ordering::Relaxed))
            .cloned();
        Place(shard)
    }

    /// The writes the shards' flushers made since the last call.
    pub(crate) fn take_writes(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.writes.swap(0, Ordering::Relaxed))
            .sum()
    }

    /// Ends every shard's thread and the tasks on it, and waits for them.
    pub(crate) fn stop(&self) {
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for (stop, thread) in threads {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

/// For tests: `count` shards, and a runtime of one worker (its thread named
/// `edge`) for the rest of the server, as `serve` runs it.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn for_tests(count: usize) -> (Arc<Shards>, tokio::runtime::Runtime) {
    let edge = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("edge")
        .enable_all()
        .build()
        .unwrap();
    (Shards::start(count).unwrap(), edge)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_room_goes_to_the_shard_with_the_fewest_rooms_and_leaves_it_when_done() {
        let shards = Shards::start(2).unwrap();
        let (first_done, first_wait) = std::sync::mpsc::channel::<()>();
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let first = shards.place();
        first.spawn_room(async move {
            let _ = held.await;
            let _ = first_done.send(());
        });
        let second = shards.place();
        assert!(
            !Arc::ptr_eq(first.0.as_ref().unwrap(), second.0.as_ref().unwrap()),
            "a busy shard got the second room"
        );
        // The task runs on the shard's own thread.
        let (name_tx, name_rx) = std::sync::mpsc::channel();
        second.spawn_room(async move {
            let _ = name_tx.send(std::thread::current().name().map(str::to_owned));
        });
        let name = name_rx.recv().unwrap().unwrap();
        assert!(name.starts_with("stateroom-shard-"), "ran on {name}");
        release.send(()).unwrap();
        first_wait.recv().unwrap();
        // Both rooms ended: both shards are empty again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while shards
            .shards
            .iter()
            .any(|s| s.rooms.load(Ordering::Relaxed) > 0)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "rooms never uncounted"
            );
            std::thread::yield_now();
        }
        shards.stop();
    }
}
