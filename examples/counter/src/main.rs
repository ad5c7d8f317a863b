//! One shared counter per room. Every change is broadcast to the room as
//! `{"count":N,"by":CLIENT}`; a client that joins is told the current count.
//!
//! Run: `cargo run -p example-counter`, then
//! `websocat ws://127.0.0.1:8080/ws/my-counter` and send
//! `{"type":"add","amount":5}` or `{"type":"reset"}`.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, MessageRecipient, StateroomContext};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum CounterIn {
    Add { amount: i64 },
    Reset,
}

#[derive(Serialize)]
struct CounterOut {
    count: i64,
    by: Option<ClientId>,
}

#[derive(Default)]
struct Counter {
    count: i64,
}

#[stateroom::service]
impl Counter {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(
            client,
            &CounterOut {
                count: self.count,
                by: None,
            },
        );
    }

    fn message(&mut self, client: ClientId, msg: CounterIn, ctx: &impl StateroomContext) {
        self.count = match msg {
            CounterIn::Add { amount } => self.count.saturating_add(amount),
            CounterIn::Reset => 0,
        };
        ctx.send(
            MessageRecipient::Broadcast,
            &CounterOut {
                count: self.count,
                by: Some(client),
            },
        );
    }
}
