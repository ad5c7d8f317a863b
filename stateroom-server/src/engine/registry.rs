//! The registry of live rooms: create on first join, find, count members, free.
//!
//! Every decision that races with a join (is this room still alive? is it full?
//! may it be freed?) is taken under the registry's one lock, so a room is never
//! freed while a client is on its way in.

use crate::engine::event::RoomEvent;
use crate::engine::listing::Published;
use crate::engine::outbox::clock_ms;
use crate::engine::room::Turns;
use crate::engine::shards::Place;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What a room tells the registry about itself, for the admin view and
/// the directory.
pub(crate) struct Activity {
    created: Instant,
    /// Clients in the room (connected or held), as of its last event.
    clients: AtomicUsize,
    /// When the room last handled an event, per [`clock_ms`].
    active_ms: AtomicU64,
    /// Its directory entry as of its last batch, and the client count
    /// published with it.
    listing: Mutex<(Published, usize)>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            created: Instant::now(),
            clients: AtomicUsize::new(0),
            active_ms: AtomicU64::new(clock_ms()),
            listing: Mutex::new((Published::default(), 0)),
        }
    }

    /// The room handled an event and now has `clients`.
    pub(crate) fn touch(&self, clients: usize) {
        self.clients.store(clients, Ordering::Relaxed);
        self.active_ms.store(clock_ms(), Ordering::Relaxed);
    }

    /// Publishes the room's entry (`None`: unchanged) with its `clients`;
    /// whether what the directory shows changed.
    pub(crate) fn publish(&self, listing: Option<Published>, clients: usize) -> bool {
        let mut published = self.listing.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changed = published.1 != clients;
        published.1 = clients;
        if let Some(listing) = listing
            && listing != published.0
        {
            published.0 = listing;
            changed = true;
        }
        changed
    }

    fn published(&self) -> (Published, usize) {
        self.listing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One live room, as `GET /admin/rooms` and the directory list it.
pub(crate) struct RoomSummary {
    /// Its key: `{room_id}` or `{kind}/{room_id}`.
    pub(crate) id: Arc<str>,
    pub(crate) clients: usize,
    pub(crate) connections: usize,
    pub(crate) age: Duration,
    pub(crate) idle: Duration,
    /// Its directory entry, with the client count published with it.
    pub(crate) listing: Published,
    pub(crate) listed_clients: usize,
}

/// How many events may wait for a room before its clients' reads pause.
pub(crate) const ROOM_QUEUE: usize = 1024;

/// Why a join was refused (each becomes an HTTP status before the upgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JoinRefused {
    #[error("the room is full")]
    RoomFull,
    #[error("the server has reached its room limit")]
    TooManyRooms,
    #[error("the server has reached its connection limit")]
    TooManyConnections,
    #[error("the server is shutting down")]
    ShuttingDown,
}

struct Entry {
    id: Arc<str>,
    events: mpsc::Sender<RoomEvent>,
    generation: u64,
    /// Where the room runs, and its connections with it.
    place: Place,
    /// The room's turns, when its connections may take them.
    turns: Option<Arc<dyn Turns>>,
    /// Connections attached or on their way in.
    members: usize,
    info: Arc<Activity>,
}

#[derive(Default)]
struct Map {
    rooms: HashMap<Arc<str>, Entry>,
    next_generation: u64,
    shutting_down: bool,
}

/// A connection's claim on a room, returned by [`Registry::join`]. Give it back with
/// [`Registry::leave`].
#[derive(Clone)]
pub(crate) struct Membership {
    pub(crate) room_id: Arc<str>,
    pub(crate) generation: u64,
    /// How the connection reaches the room.
    pub(crate) link: RoomLink,
    /// Where the room runs: its connections run there too.
    pub(crate) place: Place,
}

/// How a connection reaches its room.
#[derive(Clone)]
pub(crate) enum RoomLink {
    /// Every event goes through the room's queue.
    Queue(mpsc::Sender<RoomEvent>),
    /// The room is on the connection's shard and its connections may take
    /// its turns (`engine::room::shared`): a message whose room is idle is
    /// handled in the connection's task. The queue is in there too.
    Turns(Arc<dyn Turns>),
}

impl Membership {
    /// The room's event queue.
    pub(crate) fn events(&self) -> &mpsc::Sender<RoomEvent> {
        match &self.link {
            RoomLink::Queue(events) => events,
            RoomLink::Turns(turns) => turns.events(),
        }
    }
}

pub(crate) struct Registry {
    map: Mutex<Map>,
    connections: AtomicUsize,
    /// Wakes [`Registry::wait_idle`] when the last connection leaves.
    idle: tokio::sync::Notify,
    /// Counts changes to the directory (rooms created, freed, or their
    /// entries changed), for live lobbies.
    directory: tokio::sync::watch::Sender<u64>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            map: Mutex::default(),
            connections: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
            directory: tokio::sync::watch::Sender::new(0),
        }
    }
}

/// What [`Registry::join`] needs to start a room that does not exist yet;
/// it says where the room runs, and gives its turns when its connections
/// may take them.
pub(crate) type SpawnRoom<'a> = &'a dyn Fn(
    Arc<str>,
    u64,
    Arc<Activity>,
    (mpsc::Sender<RoomEvent>, mpsc::Receiver<RoomEvent>),
) -> (Place, Option<Arc<dyn Turns>>);

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Map> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The directory changed: live lobbies look again.
    pub(crate) fn directory_changed(&self) {
        self.directory.send_modify(|version| *version += 1);
    }

    /// Watches the directory's changes.
    pub(crate) fn watch_directory(&self) -> tokio::sync::watch::Receiver<u64> {
        self.directory.subscribe()
    }

    /// Claims a place in `room_id`, starting the room with `spawn` if it is not live.
    pub(crate) fn join(
        &self,
        room_id: &str,
        limits: &crate::Limits,
        spawn: SpawnRoom<'_>,
    ) -> Result<Membership, JoinRefused> {
        let mut map = self.lock();
        if map.shutting_down {
            return Err(JoinRefused::ShuttingDown);
        }
        if self.connections.load(Ordering::Relaxed) >= limits.max_connections {
            return Err(JoinRefused::TooManyConnections);
        }
        let map = &mut *map;
        let room_count = map.rooms.len();
        let entry = match map.rooms.get_mut(room_id) {
            Some(entry) if entry.members >= limits.max_clients_per_room => {
                return Err(JoinRefused::RoomFull);
            }
            Some(entry) => entry,
            None if limits.max_clients_per_room == 0 => return Err(JoinRefused::RoomFull),
            None if room_count >= limits.max_rooms => return Err(JoinRefused::TooManyRooms),
            None => {
                let (events, receiver) = mpsc::channel(ROOM_QUEUE);
                let generation = map.next_generation;
                map.next_generation += 1;
                let id: Arc<str> = Arc::from(room_id);
                let info = Arc::new(Activity::new());
                let queue = (events.clone(), receiver);
                let (place, turns) = spawn(id.clone(), generation, info.clone(), queue);
                self.directory_changed();
                map.rooms.entry(id.clone()).or_insert(Entry {
                    id,
                    events,
                    generation,
                    place,
                    turns,
                    members: 0,
                    info,
                })
            }
        };
        entry.members += 1;
        self.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Membership {
            room_id: entry.id.clone(),
            generation: entry.generation,
            link: match &entry.turns {
                Some(turns) => RoomLink::Turns(turns.clone()),
                None => RoomLink::Queue(entry.events.clone()),
            },
            place: entry.place.clone(),
        })
    }

    /// Gives back a place claimed by [`join`](Self::join).
    pub(crate) fn leave(&self, membership: &Membership) {
        let mut map = self.lock();
        if let Some(entry) = map.rooms.get_mut(&*membership.room_id)
            && entry.generation == membership.generation
        {
            entry.members = entry.members.saturating_sub(1);
        }
        drop(map);
        self.release_connection();
    }

    /// Frees the room if no connection is attached or on its way in. Returns
    /// whether it was freed (the room task then ends).
    pub(crate) fn free_if_empty(&self, room_id: &str, generation: u64) -> bool {
        let mut map = self.lock();
        match map.rooms.get(room_id) {
            Some(entry) if entry.generation == generation && entry.members == 0 => {
                map.rooms.remove(room_id);
                drop(map);
                self.directory_changed();
                self.idle.notify_waiters();
                true
            }
            Some(entry) if entry.generation == generation => false,
            // Already removed (or replaced): nothing holds this room any more.
            _ => true,
        }
    }

    /// Removes the room whatever its members (used when the room failed).
    pub(crate) fn remove(&self, room_id: &str, generation: u64) {
        let mut map = self.lock();
        if map
            .rooms
            .get(room_id)
            .is_some_and(|entry| entry.generation == generation)
        {
            map.rooms.remove(room_id);
        }
        drop(map);
        self.directory_changed();
        self.idle.notify_waiters();
    }

    /// Refuses new joins from now on (shutdown has begun); live lobbies
    /// close.
    pub(crate) fn refuse_joins(&self) {
        self.lock().shutting_down = true;
        self.directory_changed();
    }

    /// Counts a connection that watches the directory (a live lobby) with
    /// the rooms' connections; give it back with `release_connection`.
    pub(crate) fn enter_watcher(&self, limits: &crate::Limits) -> Result<(), JoinRefused> {
        if self.is_shutting_down() {
            return Err(JoinRefused::ShuttingDown);
        }
        if self.connections.fetch_add(1, Ordering::AcqRel) >= limits.max_connections {
            self.release_connection();
            return Err(JoinRefused::TooManyConnections);
        }
        Ok(())
    }

    pub(crate) fn release_connection(&self) {
        if self.connections.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    /// Every live room's event queue.
    pub(crate) fn live(&self) -> Vec<mpsc::Sender<RoomEvent>> {
        self.lock()
            .rooms
            .values()
            .map(|entry| entry.events.clone())
            .collect()
    }

    /// The event queue of live room `id`.
    pub(crate) fn events(&self, id: &str) -> Option<mpsc::Sender<RoomEvent>> {
        self.lock().rooms.get(id).map(|entry| entry.events.clone())
    }

    /// Takes room `id` out of the registry (the next join builds a fresh
    /// one) and returns its queue, to tell it to end.
    pub(crate) fn evict(&self, id: &str) -> Option<mpsc::Sender<RoomEvent>> {
        let evicted = self.lock().rooms.remove(id).map(|entry| entry.events);
        self.directory_changed();
        evicted
    }

    /// Every live room, in id order.
    pub(crate) fn list(&self) -> Vec<RoomSummary> {
        let now_ms = clock_ms();
        let mut rooms: Vec<RoomSummary> = self
            .lock()
            .rooms
            .values()
            .map(|entry| {
                let (listing, listed_clients) = entry.info.published();
                RoomSummary {
                    id: entry.id.clone(),
                    clients: entry.info.clients.load(Ordering::Relaxed),
                    connections: entry.members,
                    age: entry.info.created.elapsed(),
                    idle: Duration::from_millis(
                        now_ms.saturating_sub(entry.info.active_ms.load(Ordering::Relaxed)),
                    ),
                    listing,
                    listed_clients,
                }
            })
            .collect();
        rooms.sort_by(|a, b| a.id.cmp(&b.id));
        rooms
    }

    pub(crate) fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    pub(crate) fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Resolves once no connection is open and every room has ended (a
    /// persisted room ends once its last save is durable).
    pub(crate) async fn wait_idle(&self) {
        loop {
            let mut notified = std::pin::pin!(self.idle.notified());
            notified.as_mut().enable();
            if self.connection_count() == 0 && self.room_count() == 0 {
                return;
            }
            notified.await;
        }
    }
}
