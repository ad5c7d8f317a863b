//! Room kinds: the services one server hosts, each under its own name.
//!
//! A server of one service has one unnamed kind, and its rooms are at
//! `/ws/{room_id}`. A server given several ([`Server::room`](crate::Server::room))
//! has named kinds, and a room of kind `match` is at `/ws/match/{room_id}`.
//! Inside the server a room is known by its key: its path after the prefix
//! (`{room_id}`, or `{kind}/{room_id}`), which the registry, the store and
//! the cluster's leases all use. Room ids hold no `/`, so a key reads back
//! one way only.

use crate::engine::Engine;
use crate::engine::event::RoomEvent;
use crate::engine::registry::Activity;
use crate::engine::shards::Place;
use crate::room_id::{RoomIdError, validate_room_id};
use stateroom_core::{Durability, SimpleStateroomService};
use std::sync::Arc;
use tokio::sync::mpsc;

/// How a room task of one kind is started; the only place a service's type
/// is needed, so everything else is not generic.
pub(crate) type SpawnRoomFn = fn(
    Arc<Engine>,
    Arc<Kind>,
    Arc<str>,
    u64,
    Arc<Activity>,
    (mpsc::Sender<RoomEvent>, mpsc::Receiver<RoomEvent>),
    &Place,
) -> Option<Arc<dyn crate::engine::room::Turns>>;

/// One service a server hosts.
pub(crate) struct Kind {
    /// Its name in URLs, empty for a server's one unnamed service.
    pub(crate) name: Arc<str>,
    pub(crate) spawn: SpawnRoomFn,
    /// Its rooms answer HTTP (it has a `request` hook).
    pub(crate) answers_http: bool,
    /// How its rooms are persisted, if they are.
    pub(crate) persist: Option<Durability>,
    /// The service's default name in the store.
    pub(crate) service_name: fn() -> String,
    /// The type's name, for errors.
    pub(crate) type_name: &'static str,
    /// Whether the public directory lists its rooms.
    pub(crate) listed: bool,
    /// Matchmaking for this kind, one call at a time.
    pub(crate) matchmaking: tokio::sync::Mutex<()>,
}

impl Kind {
    /// Service `S` under `name`.
    pub(crate) fn of<S: SimpleStateroomService>(name: &str) -> Self {
        Kind {
            name: Arc::from(name),
            spawn: crate::engine::room::spawn::<S>,
            answers_http: S::ANSWERS_HTTP,
            persist: S::PERSIST,
            service_name: crate::engine::persistence::service_name::<S>,
            type_name: std::any::type_name::<S>(),
            listed: S::LISTED,
            matchmaking: tokio::sync::Mutex::new(()),
        }
    }
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kind({:?}: {})", self.name, self.type_name)
    }
}

/// Why a server's kinds cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KindError {
    /// No service was given.
    #[error("no room kind: call Server::room::<Service>(\"name\") before starting")]
    None,
    /// A kind's name is not a valid path segment.
    #[error("room kind `{name}`: {why}")]
    BadName {
        /// The name given.
        name: String,
        /// Why it is refused (the room-id rules apply).
        why: RoomIdError,
    },
    /// Two services were given the same name.
    #[error("room kind `{0}` is given twice")]
    Duplicate(String),
    /// Kinds were given to `Server::room`, but the server was started for
    /// one service (`start::<S>`, `serve::<S>`, `embed::<S>`).
    #[error(
        "Server::room was called, so serve the kinds with start_rooms, serve_rooms or embed_rooms, not with one service"
    )]
    Mixed,
}

/// The kinds a server hosts: one unnamed, or any number named.
#[derive(Debug, Clone)]
pub(crate) struct Kinds {
    list: Vec<Arc<Kind>>,
}

/// A room found from its path.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub(crate) kind: Arc<Kind>,
    /// `{room_id}` or `{kind}/{room_id}`: how the server knows the room.
    pub(crate) key: Arc<str>,
}

impl Located {
    /// The room's own id, without its kind.
    pub(crate) fn id(&self) -> &str {
        room_id_of(&self.key)
    }
}

/// The room id in a room key.
pub(crate) fn room_id_of(key: &str) -> &str {
    key.rsplit_once('/').map_or(key, |(_, id)| id)
}

/// Why a path names no room (404 for a kind, 400 for an id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PathError {
    #[error("no room kind `{kind}` here; the kinds are {known}")]
    NoSuchKind { kind: String, known: String },
    #[error("rooms here are at {{prefix}}{{kind}}/{{room_id}}; the kinds are {known}")]
    NeedsKind { known: String },
    #[error(transparent)]
    BadId(#[from] RoomIdError),
}

impl Kinds {
    /// The one unnamed service `S`.
    pub(crate) fn single<S: SimpleStateroomService>() -> Self {
        Kinds {
            list: vec![Arc::new(Kind::of::<S>(""))],
        }
    }

    /// Named kinds, checked.
    pub(crate) fn named(list: Vec<Arc<Kind>>) -> Result<Self, KindError> {
        if list.is_empty() {
            return Err(KindError::None);
        }
        for (at, kind) in list.iter().enumerate() {
            validate_room_id(&kind.name, 64).map_err(|why| KindError::BadName {
                name: kind.name.to_string(),
                why,
            })?;
            if list[..at].iter().any(|other| other.name == kind.name) {
                return Err(KindError::Duplicate(kind.name.to_string()));
            }
        }
        Ok(Kinds { list })
    }

    /// Every kind's name, in the order given (`""` for the unnamed one).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|kind| &*kind.name)
    }

    /// The kind named `name` (`""` for the unnamed one).
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Kind>> {
        self.list.iter().find(|kind| &*kind.name == name)
    }

    /// Whether this server's rooms carry a kind in their paths.
    pub(crate) fn named_paths(&self) -> bool {
        self.get("").is_none()
    }

    /// The kind that persists most strictly, if any persists.
    pub(crate) fn persist(&self) -> Option<Durability> {
        let modes = self.list.iter().filter_map(|kind| kind.persist);
        modes.max_by_key(|mode| matches!(mode, Durability::Gated))
    }

    /// The store's default service name: the first kind's.
    pub(crate) fn service_name(&self) -> String {
        (self.list[0].service_name)()
    }

    fn known(&self) -> String {
        let names: Vec<&str> = self.list.iter().map(|kind| &*kind.name).collect();
        names.join(", ")
    }

    /// The room at `path` (what follows the prefix), its id at most
    /// `max_len` bytes long.
    pub(crate) fn locate(&self, path: &str, max_len: usize) -> Result<Located, PathError> {
        let (kind, id) = if self.named_paths() {
            let Some((kind, id)) = path.split_once('/') else {
                return Err(PathError::NeedsKind {
                    known: self.known(),
                });
            };
            let Some(found) = self.get(kind) else {
                return Err(PathError::NoSuchKind {
                    kind: kind.to_owned(),
                    known: self.known(),
                });
            };
            (found, id)
        } else {
            (&self.list[0], path)
        };
        validate_room_id(id, max_len)?;
        Ok(Located {
            kind: kind.clone(),
            key: Arc::from(path),
        })
    }

    /// The room `id` of kind `kind` (`""` on a server of one service).
    pub(crate) fn locate_in(
        &self,
        kind: &str,
        id: &str,
        max_len: usize,
    ) -> Result<Located, PathError> {
        if kind.is_empty() {
            self.locate(id, max_len)
        } else {
            self.locate(&format!("{kind}/{id}"), max_len)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct A;
    impl SimpleStateroomService for A {
        fn new(_: &str, _: &impl stateroom_core::StateroomContext) -> Self {
            A
        }
    }

    fn two() -> Kinds {
        Kinds::named(vec![
            Arc::new(Kind::of::<A>("lobby")),
            Arc::new(Kind::of::<A>("match")),
        ])
        .unwrap()
    }

    #[test]
    fn a_single_service_takes_bare_ids() {
        let kinds = Kinds::single::<A>();
        let found = kinds.locate("room-1", 64).unwrap();
        assert_eq!(&*found.key, "room-1");
        assert_eq!(found.id(), "room-1");
        assert_eq!(
            kinds.locate("a/b", 64).unwrap_err(),
            PathError::BadId(RoomIdError::BadCharacter { found: '/' })
        );
    }

    #[test]
    fn named_kinds_take_kind_and_id() {
        let kinds = two();
        let found = kinds.locate("match/m1", 64).unwrap();
        assert_eq!(&*found.kind.name, "match");
        assert_eq!(found.id(), "m1");
        assert_eq!(&*kinds.locate_in("lobby", "x", 64).unwrap().key, "lobby/x");
        assert!(matches!(
            kinds.locate("nope/m1", 64),
            Err(PathError::NoSuchKind { .. })
        ));
        assert!(matches!(
            kinds.locate("m1", 64),
            Err(PathError::NeedsKind { .. })
        ));
        assert!(matches!(
            kinds.locate("match/a/b", 64),
            Err(PathError::BadId(_))
        ));
        assert!(matches!(
            kinds.locate("match/", 64),
            Err(PathError::BadId(RoomIdError::Empty))
        ));
    }

    #[test]
    fn bad_kind_lists_are_refused() {
        assert_eq!(Kinds::named(vec![]).unwrap_err(), KindError::None);
        let twice = vec![Arc::new(Kind::of::<A>("a")), Arc::new(Kind::of::<A>("a"))];
        assert_eq!(
            Kinds::named(twice).unwrap_err(),
            KindError::Duplicate("a".into())
        );
        let bad = vec![Arc::new(Kind::of::<A>("a b"))];
        assert!(matches!(Kinds::named(bad), Err(KindError::BadName { .. })));
    }
}
