//! The room directory: every live room with what it published (metadata,
//! capacity, lock) and its client count, read through the room handle
//! ([`Rooms::find`](crate::Rooms::find)), `GET /rooms`, the live lobby and
//! the matchmaker, with one filter and one sort for all of them.

use crate::engine::Engine;
use crate::engine::registry::RoomSummary;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A live room, as the directory shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomInfo {
    /// The room's kind: its service's name on a server of several
    /// ([`Server::room`](crate::Server::room)), empty on a server of one.
    pub kind: String,
    /// The room's id.
    pub id: String,
    /// Its clients (connected, or held for a reconnection).
    pub clients: usize,
    /// The most clients it seats (`ctx.set_capacity`), if it said.
    pub capacity: Option<u32>,
    /// Seats taken by clients on their way in (matchmaking reservations,
    /// joins whose connection is opening).
    pub reserved: usize,
    /// Whether it refuses new clients (`ctx.lock()`).
    pub locked: bool,
    /// What it published with `ctx.set_metadata` (`null` if nothing).
    pub metadata: Value,
    /// In a cluster: the node that owns it (its `--node-id`).
    pub node: Option<String>,
}

impl RoomInfo {
    pub(crate) fn from_summary(room: &RoomSummary) -> Self {
        let (kind, id) = room.id.rsplit_once('/').unwrap_or(("", &room.id));
        RoomInfo {
            kind: kind.to_owned(),
            id: id.to_owned(),
            clients: room.listed_clients,
            capacity: room.listing.capacity,
            reserved: room.listing.held,
            locked: room.listing.locked,
            metadata: room.listing.metadata.clone(),
            node: None,
        }
    }

    /// Whether a new client could take a seat (not locked, a seat free).
    #[must_use]
    pub fn has_free_seat(&self) -> bool {
        !self.locked
            && self
                .capacity
                .is_none_or(|capacity| self.clients + self.reserved < capacity as usize)
    }

    /// The room's path after the WebSocket prefix: `{id}` or `{kind}/{id}`.
    #[must_use]
    pub fn path(&self) -> String {
        if self.kind.is_empty() {
            self.id.clone()
        } else {
            format!("{}/{}", self.kind, self.id)
        }
    }
}

/// Which rooms to list, and in which order: `GET /rooms?kind=match&filter[mode]=duel&sort=-clients`.
///
/// ```
/// use stateroom_server::Query;
///
/// let query = Query::from_url_query("kind=match&filter[mode]=duel&sort=-clients").unwrap();
/// assert_eq!(query.kind.as_deref(), Some("match"));
/// assert_eq!(query.filter, vec![("mode".to_owned(), "duel".to_owned())]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Query {
    /// Only rooms of this kind.
    pub kind: Option<String>,
    /// Only rooms whose metadata field equals the value (a string field
    /// equal to it, or a number or boolean written as it).
    pub filter: Vec<(String, String)>,
    /// The order (default: most clients first, then by id).
    pub sort: Sort,
    /// Only rooms that could take a client now (unlocked, a seat free).
    pub available: bool,
}

/// The order rooms are listed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sort {
    /// Most clients first (`sort=-clients`, the default): rooms fill up.
    #[default]
    MostClients,
    /// Fewest clients first (`sort=clients`).
    FewestClients,
    /// By kind and id (`sort=id`).
    Id,
    /// By a metadata field, ascending (`sort=metadata.rank`) or descending
    /// (`sort=-metadata.rank`); rooms without it last.
    Metadata {
        /// The field.
        field: String,
        /// Highest first.
        descending: bool,
    },
}

/// Why a directory query was refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A parameter the directory does not know.
    #[error(
        "unknown parameter `{0}`; use kind, filter[field], sort (clients, -clients, id, metadata.field, -metadata.field) and available"
    )]
    UnknownParameter(String),
    /// A `sort` it cannot do.
    #[error("cannot sort by `{0}`; use clients, -clients, id, metadata.field or -metadata.field")]
    BadSort(String),
}

impl Query {
    /// Reads a URL query string.
    ///
    /// # Errors
    /// [`QueryError`] for an unknown parameter or sort.
    pub fn from_url_query(query: &str) -> Result<Self, QueryError> {
        let mut parsed = Query::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name == "kind" {
                parsed.kind = Some(value.into_owned());
            } else if name == "sort" {
                parsed.sort = Sort::parse(&value)?;
            } else if name == "available" {
                parsed.available = value != "false" && value != "0";
            } else if let Some(field) = name
                .strip_prefix("filter[")
                .and_then(|rest| rest.strip_suffix(']'))
            {
                parsed.filter.push((field.to_owned(), value.into_owned()));
            } else {
                return Err(QueryError::UnknownParameter(name.into_owned()));
            }
        }
        Ok(parsed)
    }

    /// Whether `room` is in the result.
    #[must_use]
    pub fn matches(&self, room: &RoomInfo) -> bool {
        self.kind.as_ref().is_none_or(|kind| *kind == room.kind)
            && (!self.available || room.has_free_seat())
            && self
                .filter
                .iter()
                .all(|(field, want)| field_equals(&room.metadata, field, want))
    }

    /// The rooms of `rooms` that match, in order.
    #[must_use]
    pub fn apply(&self, rooms: impl IntoIterator<Item = RoomInfo>) -> Vec<RoomInfo> {
        let mut found: Vec<RoomInfo> = rooms.into_iter().filter(|r| self.matches(r)).collect();
        let by_id = |a: &RoomInfo, b: &RoomInfo| (&a.kind, &a.id).cmp(&(&b.kind, &b.id));
        match &self.sort {
            Sort::MostClients => {
                found.sort_by(|a, b| b.clients.cmp(&a.clients).then_with(|| by_id(a, b)));
            }
            Sort::FewestClients => {
                found.sort_by(|a, b| a.clients.cmp(&b.clients).then_with(|| by_id(a, b)));
            }
            Sort::Id => found.sort_by(by_id),
            Sort::Metadata { field, descending } => found.sort_by(|a, b| {
                let (x, y) = (a.metadata.get(field), b.metadata.get(field));
                let order = match (x, y) {
                    (Some(x), Some(y)) => {
                        let order = compare(x, y);
                        if *descending { order.reverse() } else { order }
                    }
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                };
                order.then_with(|| by_id(a, b))
            }),
        }
        found
    }
}

impl Sort {
    /// The sort as `sort=` writes it.
    #[must_use]
    pub fn as_param(&self) -> String {
        match self {
            Sort::MostClients => "-clients".to_owned(),
            Sort::FewestClients => "clients".to_owned(),
            Sort::Id => "id".to_owned(),
            Sort::Metadata { field, descending } => {
                format!("{}metadata.{field}", if *descending { "-" } else { "" })
            }
        }
    }

    fn parse(text: &str) -> Result<Self, QueryError> {
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, text),
        };
        match (name, descending) {
            ("clients", true) => Ok(Sort::MostClients),
            ("clients", false) => Ok(Sort::FewestClients),
            ("id", false) => Ok(Sort::Id),
            _ => match name.strip_prefix("metadata.") {
                Some(field) if !field.is_empty() => Ok(Sort::Metadata {
                    field: field.to_owned(),
                    descending,
                }),
                _ => Err(QueryError::BadSort(text.to_owned())),
            },
        }
    }
}

/// Whether `metadata[field]` is `want`: a string equal to it, or a
/// number or boolean written as it.
fn field_equals(metadata: &Value, field: &str, want: &str) -> bool {
    match metadata.get(field) {
        Some(Value::String(text)) => text == want,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|n| want.parse() == Ok(n)),
        Some(Value::Bool(flag)) => want.parse() == Ok(*flag),
        _ => false,
    }
}

/// Numbers by value, strings by text, anything else as equal.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// Every room: this node's (fresh), and in a cluster the others' (as
/// their owners last published them).
pub(crate) async fn all_rooms(engine: &Engine) -> Vec<RoomInfo> {
    let node = engine
        .cluster
        .as_ref()
        .map(|cluster| cluster.node().to_owned());
    let mut rooms: Vec<RoomInfo> = engine
        .rooms
        .list()
        .iter()
        .map(|room| {
            let mut info = RoomInfo::from_summary(room);
            info.node.clone_from(&node);
            info
        })
        .collect();
    if let Some(cluster) = &engine.cluster {
        let here: std::collections::HashSet<String> = rooms.iter().map(RoomInfo::path).collect();
        let remote = cluster.remote_rooms().await;
        rooms.extend(
            remote
                .into_iter()
                .filter(|room| !here.contains(&room.path())),
        );
    }
    rooms
}

/// A filter as matchmaking seeds a room it creates with: `{"mode": "duel"}`.
pub(crate) fn filter_object(filter: &[(String, String)]) -> Option<Value> {
    if filter.is_empty() {
        return None;
    }
    let map = filter
        .iter()
        .map(|(field, value)| (field.clone(), Value::String(value.clone())))
        .collect();
    Some(Value::Object(map))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn room(kind: &str, id: &str, clients: usize, metadata: Value) -> RoomInfo {
        RoomInfo {
            kind: kind.into(),
            id: id.into(),
            clients,
            capacity: Some(4),
            reserved: 0,
            locked: false,
            metadata,
            node: None,
        }
    }

    #[test]
    fn filters_and_sorts() {
        let rooms = vec![
            room("match", "a", 1, json!({"mode": "duel", "rank": 3})),
            room("match", "b", 3, json!({"mode": "duel", "rank": 1})),
            room("match", "c", 2, json!({"mode": "ffa"})),
            room("lobby", "d", 9, Value::Null),
        ];
        let query = Query::from_url_query("kind=match&filter[mode]=duel").unwrap();
        let ids: Vec<_> = query
            .apply(rooms.clone())
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
        let query = Query::from_url_query("kind=match&sort=metadata.rank").unwrap();
        let ids: Vec<_> = query
            .apply(rooms.clone())
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["b", "a", "c"]);
        let query = Query::from_url_query("filter[rank]=3").unwrap();
        assert_eq!(query.apply(rooms.clone()).len(), 1);
        let query = Query::from_url_query("sort=clients").unwrap();
        assert_eq!(query.apply(rooms).first().unwrap().id, "a");
    }

    #[test]
    fn available_means_unlocked_with_a_free_seat() {
        let mut full = room("m", "full", 3, Value::Null);
        full.reserved = 1;
        let mut locked = room("m", "locked", 0, Value::Null);
        locked.locked = true;
        let open = room("m", "open", 3, Value::Null);
        let query = Query::from_url_query("available=true").unwrap();
        let ids: Vec<_> = query
            .apply([full, locked, open])
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["open"]);
    }

    #[test]
    fn bad_queries_say_why() {
        assert!(matches!(
            Query::from_url_query("knd=x"),
            Err(QueryError::UnknownParameter(name)) if name == "knd"
        ));
        assert!(matches!(
            Query::from_url_query("sort=-id"),
            Err(QueryError::BadSort(_))
        ));
    }
}
