//! A persisted room: a ledger of entries that survives restarts and crashes.
//!
//! Run: `cargo run -p example-ledger` (data in `./stateroom-data/`, or
//! `--data-dir`), then `websocat ws://127.0.0.1:8080/ws/books` and send:
//!
//! ```text
//! {"type":"add","amount":5}
//! {"type":"remind","after_ms":2000}
//! {"type":"state"}
//! ```
//!
//! Every `add` is answered `{"type":"ack","entries":N,"total":T}` only once
//! the entry is durable (gated persistence): kill the server with `kill -9`
//! at any moment and restart it, and every acknowledged entry is still
//! there. The same holds over HTTP (`curl -d '{"amount":5}'
//! 127.0.0.1:8080/rooms/books` adds, `curl 127.0.0.1:8080/rooms/books`
//! reads) and for a handle's command: the second binary, `ledger-app`, is
//! the ledger inside an axum app whose own route `POST
//! /credit/{room}/{amount}` reaches the room through a handle. Every reply
//! reveals only durable state. A reminder is a timer: it survives the restart too, and fires on
//! time (at once if it fell due while the server was down). `data list`,
//! `data show ROOM`, `data export` and `data import FILE` manage the stored
//! rooms without SQL.
//!
//! Version 2 of the state renamed `sum` to `total`; the `migrate` hook
//! upgrades version 1 snapshots.

use serde::{Deserialize, Serialize};
use stateroom::serde_json::Value;
use stateroom::{ClientId, MessageRecipient, RoomRequest, RoomResponse, StateroomContext, http};

#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(tag = "type", rename_all = "snake_case")]
enum In {
    Add { amount: i64 },
    Remind { after_ms: u64 },
    State,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Out<'a> {
    Ack { entries: usize, total: i64 },
    Reminder { entries: usize },
    State { ledger: &'a Ledger },
}

/// What a handle asks a ledger: add an entry of this amount.
#[derive(Debug)]
pub struct Credit(pub i64);

/// What a ledger answers a credit or an HTTP request: its size and total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// How many entries.
    pub entries: usize,
    /// Their sum.
    pub total: i64,
}

/// An HTTP `POST`'s body.
#[derive(Deserialize)]
struct Posted {
    amount: i64,
}

/// The room's state: everything here is saved, but `restored`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ledger {
    entries: Vec<i64>,
    total: i64,
    reminders_fired: u32,
    /// Clients who left (their one `disconnect`), across restarts.
    departures: Vec<ClientId>,
    /// Ephemeral: not saved, `false` again after a restore, then set.
    #[serde(skip)]
    restored: bool,
}

#[stateroom::service(no_main, persist(version = 2), reconnect = "30s")]
impl Ledger {
    fn migrate(from: u32, mut state: Value) -> Result<Value, String> {
        match from {
            // Version 1 called the total `sum`.
            1 => {
                let object = state.as_object_mut().ok_or("the state is not an object")?;
                let sum = object.remove("sum").unwrap_or(Value::from(0));
                object.insert("total".into(), sum);
                Ok(state)
            }
            other => Err(format!("no migration from version {other}")),
        }
    }

    fn restore(&mut self) {
        self.restored = true;
    }

    fn message(&mut self, client: ClientId, msg: In, ctx: &impl StateroomContext) {
        match msg {
            In::Add { amount } => {
                let Totals { entries, total } = self.add(amount);
                ctx.send(client, &Out::Ack { entries, total });
            }
            In::Remind { after_ms } => {
                ctx.set_timeout("reminder", std::time::Duration::from_millis(after_ms));
            }
            In::State => ctx.send(client, &Out::State { ledger: self }),
        }
    }

    fn alarm(&mut self, _key: &str, ctx: &impl StateroomContext) {
        self.reminders_fired += 1;
        let reminder = Out::Reminder {
            entries: self.entries.len(),
        };
        ctx.send(MessageRecipient::Broadcast, &reminder);
    }

    fn disconnect(&mut self, client: ClientId) {
        self.departures.push(client);
    }

    /// A handle's credit: answered once the entry is durable.
    fn command(&mut self, credit: Credit) -> Totals {
        self.add(credit.0)
    }

    /// `POST {"amount":N}` adds an entry; `GET` reads the totals. Either
    /// answer leaves once the state it shows is durable.
    fn request(&mut self, request: &RoomRequest) -> RoomResponse {
        if request.method() == http::Method::POST {
            match request.json::<Posted>() {
                Ok(posted) => return RoomResponse::json(&self.add(posted.amount)),
                Err(bad) => return bad,
            }
        }
        RoomResponse::json(&self.totals())
    }
}

impl Ledger {
    fn add(&mut self, amount: i64) -> Totals {
        self.entries.push(amount);
        self.total += amount;
        self.totals()
    }

    fn totals(&self) -> Totals {
        Totals {
            entries: self.entries.len(),
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_version_1() {
        let v1 = serde_json::json!({"entries": [2, 3], "sum": 5, "reminders_fired": 0, "departures": []});
        let v2 = Ledger::migrate(1, v1).unwrap();
        let ledger: Ledger = serde_json::from_value(v2).unwrap();
        assert_eq!((ledger.total, ledger.entries.len()), (5, 2));
        assert!(Ledger::migrate(7, Value::Null).is_err());
    }
}
