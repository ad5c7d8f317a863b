//! Matchmaking: find a room of a kind that matches a filter and has a free
//! seat, or create one, and reserve the seat. The room decides each
//! reservation itself (`room_core::seats`), so two callers racing for the
//! last seat get one seat and one refusal; the calls for one kind are also
//! taken one at a time, so that each sees the seats the one before took and
//! a burst of calls fills rooms rather than creating one per call.

use crate::engine::directory::{Query, all_rooms, filter_object};
use crate::engine::event::RoomEvent;
use crate::engine::kinds::Located;
use crate::engine::listing::NoSeat;
use crate::engine::{Claim, Engine};
use serde_json::Value;
pub use stateroom_core::Reservation;
use std::sync::Arc;
use std::time::Duration;

/// How many matching rooms are asked before a new one is created.
const CANDIDATES: usize = 16;

/// Why no seat could be reserved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The server hosts no such kind (404).
    #[error("no room kind `{0}` here")]
    NoSuchKind(String),
    /// No room matched with a free seat, and a new one could not be
    /// created (the server's limits, or it is shutting down) (503).
    #[error("no seat: {0}")]
    NoSeat(String),
}

/// Reserves a seat in a room of `kind` matching `query` (its filter and
/// sort), or in a new room, for a client that will join with `options`. In
/// a cluster the call runs on the node that runs the kind's matchmaking
/// (forwarded there unless `forwarded`, which says it already was).
pub(crate) async fn matchmake(
    engine: &Arc<Engine>,
    kind: &str,
    query: &Query,
    options: Value,
    forwarded: bool,
) -> Result<Reservation, MatchError> {
    let Some(found) = engine.kinds.get(kind).cloned() else {
        return Err(MatchError::NoSuchKind(kind.to_owned()));
    };
    if let Some(cluster) = &engine.cluster {
        match cluster.matchmaker(kind).await {
            Ok(None) => {}
            Ok(Some(_)) if forwarded => {
                return Err(MatchError::NoSeat(
                    "matchmaking is moving between nodes; retry".to_owned(),
                ));
            }
            Ok(Some(addr)) => {
                let body = request_body(query, &options);
                return cluster.matchmake_at(&addr, kind, body).await;
            }
            Err(why) => return Err(MatchError::NoSeat(why)),
        }
    }
    let _turn = found.matchmaking.lock().await;
    let mut query = query.clone();
    query.kind = Some(found.name.to_string());
    query.available = true;
    for room in query
        .apply(all_rooms(engine).await)
        .into_iter()
        .take(CANDIDATES)
    {
        let reserved = match (engine.rooms.events(&room.path()), &engine.cluster) {
            (Some(events), _) => reserve(&events, options.clone(), None).await,
            (None, Some(cluster)) if room.node.as_deref() != Some(cluster.node()) => {
                cluster.reserve_at(&room, options.clone()).await
            }
            (None, _) => continue,
        };
        if let Ok(token) = reserved {
            return Ok(reservation(engine, &room.kind, &room.id, token, false));
        }
    }
    let id = new_room_id();
    let max_len = engine.config.limits.max_room_id_len;
    let located: Located = engine
        .kinds
        .locate_in(&found.name, &id, max_len)
        .map_err(|error| MatchError::NoSeat(error.to_string()))?;
    if let Some(cluster) = &engine.cluster
        && !cluster.take_here(&located.key).await
    {
        return Err(MatchError::NoSeat(
            "the cluster's registry did not give the new room's lease; retry".to_owned(),
        ));
    }
    // Claimed only to create it: the reservation keeps it alive after.
    let claim =
        Claim::take(engine, &located).map_err(|refused| MatchError::NoSeat(refused.to_string()))?;
    let seed = filter_object(&query.filter);
    let token = reserve(claim.events(), options, seed)
        .await
        .map_err(|why| MatchError::NoSeat(format!("the new room refused: {why}")))?;
    Ok(reservation(engine, &found.name, &id, token, true))
}

/// A matchmaking call's body, as `POST /matchmake` takes it.
fn request_body(query: &Query, options: &Value) -> String {
    let filter: serde_json::Map<String, Value> = query
        .filter
        .iter()
        .map(|(field, value)| (field.clone(), Value::String(value.clone())))
        .collect();
    serde_json::json!({
        "filter": filter,
        "sort": query.sort.as_param(),
        "options": options,
    })
    .to_string()
}

/// Reserves a seat in a live room of this node.
pub(crate) async fn reserve(
    events: &tokio::sync::mpsc::Sender<RoomEvent>,
    options: Value,
    seed: Option<Value>,
) -> Result<String, NoSeat> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let event = RoomEvent::Reserve {
        options,
        seed,
        reply,
    };
    let ask = async {
        events.send(event).await.ok()?;
        answer.await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(5), ask).await {
        Ok(Some(answer)) => answer,
        // Stopped or overloaded: try elsewhere.
        _ => Err(NoSeat::Full),
    }
}

fn reservation(engine: &Engine, kind: &str, id: &str, token: String, created: bool) -> Reservation {
    let prefix = &engine.config.ws_prefix;
    let path = if kind.is_empty() {
        id.to_owned()
    } else {
        format!("{kind}/{id}")
    };
    Reservation {
        kind: kind.to_owned(),
        room: id.to_owned(),
        url: format!("{prefix}{path}?reservation={token}"),
        reservation: token,
        expires_in_ms: u64::try_from(engine.config.seat_reservation.as_millis())
            .unwrap_or(u64::MAX),
        created,
    }
}

/// A fresh room id: 12 characters from the OS generator.
fn new_room_id() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 12];
    if let Err(error) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random generator failed: {error}");
    }
    bytes
        .iter()
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect()
}
