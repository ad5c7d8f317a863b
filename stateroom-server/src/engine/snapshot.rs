//! A persisted room's snapshot metadata: the runtime's part of a snapshot
//! (timers as wall-clock deadlines, the clients and their sessions), written
//! and read back.

use crate::engine::idempotency::{Idempotency, Remembered};
use crate::engine::inbound::Inbound;
use crate::engine::members::{Members, Outlet, Slot};
use crate::engine::resume::{Replay, ResumeSettings};
use crate::engine::timers::TimerId;
use serde::{Deserialize, Serialize};
use stateroom_core::{ClientData, ClientId, TimerKey};
use std::cell::RefCell;
use std::time::Duration;

/// A timer in a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TimerMeta {
    /// The named timer's key (JSON); `None` for the seed's `set_timer`.
    key: Option<String>,
    /// Its deadline, in milliseconds since the Unix epoch.
    at_ms: u64,
    every_ms: Option<u64>,
}

/// A client in a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ClientMeta {
    id: u32,
    /// With reconnection on: the session's secret and frames sent.
    session: Option<(String, u64)>,
    /// The secret the session was last resumed with, still honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<String>,
    /// A numbered session: the last client message applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    applied: Option<u64>,
    /// Who the client is (a `Seat`'s principal), so that its seat can be
    /// taken over after a restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    principal: Option<String>,
}

/// The runtime's part of a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Meta {
    #[serde(default)]
    timers: Vec<TimerMeta>,
    #[serde(default)]
    clients: Vec<ClientMeta>,
    /// The highest client id above (read by the store at startup).
    #[serde(default)]
    max_client: u32,
    /// Responses remembered by `Idempotency-Key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    idempotency: Vec<Remembered>,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Meta {
    /// The highest client id the room has handed out.
    pub(crate) fn max_client(&self) -> u32 {
        self.max_client
    }

    /// The metadata of `members` at room time `now`, with `unix_now` the wall
    /// clock at that moment.
    pub(crate) fn of<O: Outlet>(members: &Members<O>, now: Duration, unix_now: u64) -> Self {
        let timers = members
            .timers
            .borrow()
            .list()
            .into_iter()
            .filter_map(|(id, deadline, every)| {
                let key = match id {
                    TimerId::Seed => None,
                    TimerId::Named(key) => Some(key.as_json().to_owned()),
                    // The reconnection window starts again after a restore,
                    // and acks are sent again on resume.
                    TimerId::Expire(_) | TimerId::Acks | TimerId::Sync | TimerId::Presence => {
                        return None;
                    }
                };
                Some(TimerMeta {
                    key,
                    at_ms: unix_now.saturating_add(millis(deadline.saturating_sub(now))),
                    every_ms: every.map(millis),
                })
            })
            .collect();
        let mut clients: Vec<ClientMeta> = members
            .clients
            .iter()
            .map(|(&client, slot)| ClientMeta {
                id: u32::from(client),
                session: slot
                    .replay
                    .as_ref()
                    .map(|r| r.borrow().export(members.gate.frames_for(client))),
                previous: slot
                    .replay
                    .as_ref()
                    .and_then(|r| r.borrow().export_previous()),
                applied: slot
                    .replay
                    .as_ref()
                    .and_then(|r| r.borrow().inbound.as_ref().map(|i| i.applied)),
                principal: slot.data.principal().map(str::to_owned),
            })
            .collect();
        clients.sort_by_key(|c| c.id);
        let max_client = clients
            .iter()
            .map(|c| c.id)
            .max()
            .unwrap_or(0)
            .max(members.high_water.get());
        Meta {
            timers,
            clients,
            max_client,
            idempotency: members.idempotency.borrow().export(),
        }
    }

    /// Re-arms the timers in `members` (overdue ones fire at once) and seats
    /// the clients: with reconnection on, held for a resume for the window
    /// from now; the others are returned, to leave at once.
    pub(crate) fn restore_into<O: Outlet>(
        &self,
        members: &mut Members<O>,
        now: Duration,
        unix_now: u64,
    ) -> Vec<ClientId> {
        members.high_water.set(self.max_client);
        *members.idempotency.borrow_mut() = Idempotency::restore(self.idempotency.clone());
        {
            let mut timers = members.timers.borrow_mut();
            for timer in &self.timers {
                let id = match &timer.key {
                    None => TimerId::Seed,
                    Some(json) => match TimerKey::from_json(json) {
                        Some(key) => TimerId::Named(key),
                        None => continue,
                    },
                };
                let delay = Duration::from_millis(timer.at_ms.saturating_sub(unix_now));
                timers.set(id, now + delay, timer.every_ms.map(Duration::from_millis));
            }
        }
        let settings: Option<ResumeSettings> = members.settings.resume;
        let mut leaving = Vec::new();
        for client in &self.clients {
            let id = ClientId::from(client.id);
            let replay = match (&settings, &client.session) {
                (Some(settings), Some((secret, sent))) => {
                    Replay::restored(settings, secret, client.previous.as_deref(), *sent).map(
                        |mut replay| {
                            replay.inbound = client.applied.map(Inbound::restored);
                            replay
                        },
                    )
                }
                _ => None,
            };
            match (replay, settings) {
                (Some(replay), Some(settings)) => {
                    members.clients.insert(
                        id,
                        Slot {
                            link: None,
                            data: ClientData::for_principal(client.principal.clone()),
                            replay: Some(Box::new(RefCell::new(replay))),
                        },
                    );
                    members.timers.borrow_mut().set(
                        TimerId::Expire(id),
                        now + settings.window,
                        None,
                    );
                }
                _ => {
                    // No session to come back to: seated only so that its
                    // one `disconnect` runs.
                    members.clients.insert(
                        id,
                        Slot {
                            link: None,
                            data: ClientData::none(),
                            replay: None,
                        },
                    );
                    leaving.push(id);
                }
            }
        }
        leaving
    }
}
