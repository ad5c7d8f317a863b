//! Persisted rooms inside the room's logic: the output gate (frames held
//! until the snapshot covering them is durable) and the snapshot's runtime
//! metadata (timers as wall-clock deadlines, the clients and their
//! sessions), written and read back.

use crate::members::{Members, Outlet, Slot};
use crate::outbox::Push;
use crate::resume::{Replay, ResumeSettings};
use crate::timers::TimerId;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use serde::{Deserialize, Serialize};
use stateroom_core::{ClientData, ClientId, TimerKey};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::Duration;

/// What the gate holds: a frame, or a close (a kick) after the frames before it.
enum Item {
    Frame(Message),
    Close(CloseFrame),
}

struct Held<O> {
    client: ClientId,
    /// The client's connection when the item was produced (frames sent before
    /// a client left still go to it).
    outlet: Option<O>,
    item: Item,
}

/// The output gate of a persisted room.
pub(crate) struct Gate<O> {
    /// Hold what the room sends (gated durability, or after `ctx.save()` in
    /// manual durability).
    pub(crate) on: Cell<bool>,
    held: RefCell<VecDeque<Held<O>>>,
}

impl<O> Default for Gate<O> {
    fn default() -> Self {
        Gate {
            on: Cell::new(false),
            held: RefCell::new(VecDeque::new()),
        }
    }
}

impl<O: Outlet> Gate<O> {
    pub(crate) fn hold_frame(&self, client: ClientId, slot: &Slot<O>, frame: Message) {
        self.held.borrow_mut().push_back(Held {
            client,
            outlet: slot.outlet().cloned(),
            item: Item::Frame(frame),
        });
    }

    /// Closes `outlet` with `frame`: after what the gate holds when it is on
    /// (what the room said before the close goes first), else at once.
    pub(crate) fn close_in_order(&self, client: ClientId, outlet: &O, frame: &CloseFrame) {
        if self.on.get() {
            self.hold_close(client, Some(outlet.clone()), frame.clone());
        } else {
            outlet.close(Some(frame.clone()));
        }
    }

    pub(crate) fn hold_close(&self, client: ClientId, outlet: Option<O>, frame: CloseFrame) {
        self.held.borrow_mut().push_back(Held {
            client,
            outlet,
            item: Item::Close(frame),
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.held.borrow().len()
    }

    /// Frames held for `client`.
    fn pending_for(&self, client: ClientId) -> u64 {
        self.held
            .borrow()
            .iter()
            .filter(|h| h.client == client && matches!(h.item, Item::Frame(_)))
            .count() as u64
    }

    /// Drops everything held (a failed save: clients never see it).
    pub(crate) fn discard(&self) {
        self.held.borrow_mut().clear();
    }
}

impl<O: Outlet> Members<O> {
    /// Releases the first `count` held items, in order, to their clients.
    pub(crate) fn release(&self, count: usize) {
        let items: Vec<Held<O>> = {
            let mut held = self.gate.held.borrow_mut();
            let count = count.min(held.len());
            held.drain(..count).collect()
        };
        for Held {
            client,
            outlet,
            item,
        } in items
        {
            match (item, self.clients.get(&client)) {
                // To the connection the client has now; if it has none (it
                // dropped, or the server is restarting), to the one it had.
                (Item::Frame(frame), Some(slot)) => {
                    let outlet = slot.outlet().or(outlet.as_ref());
                    self.push_via(client, slot, outlet, frame);
                }
                (Item::Frame(frame), None) => {
                    if let Some(outlet) = outlet {
                        let _ = outlet.push(frame) == Push::Overflowed;
                    }
                }
                (Item::Close(frame), _) => {
                    if let Some(outlet) = outlet {
                        outlet.close(Some(frame));
                    }
                }
            }
        }
    }
}

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
                    // The reconnection window starts again after a restore.
                    TimerId::Expire(_) => return None,
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
                    .map(|r| r.borrow().export(members.gate.pending_for(client))),
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
                (Some(settings), Some((secret, sent))) => Replay::restored(settings, secret, *sent),
                _ => None,
            };
            match (replay, settings) {
                (Some(replay), Some(settings)) => {
                    members.clients.insert(
                        id,
                        Slot {
                            link: None,
                            data: ClientData::none(),
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
