//! A clock: every room broadcasts `{"type":"tick","tick":N,"unix_ms":T}` once a
//! second, driven by the room timer, for as long as it lives.
//!
//! Run: `cargo run -p example-clock`, then
//! `websocat ws://127.0.0.1:8080/ws/clock` and watch.

use serde::Serialize;
use stateroom::{MessageRecipient, StateroomContext};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds between ticks.
const PERIOD_MS: u32 = 1000;

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClockOut {
    Tick { tick: u64, unix_ms: u128 },
}

struct Clock {
    ticks: u64,
}

#[stateroom::service]
impl Clock {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_timer(PERIOD_MS);
        Clock { ticks: 0 }
    }

    fn timer(&mut self, ctx: &impl StateroomContext) {
        self.ticks += 1;
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        ctx.send(
            MessageRecipient::Broadcast,
            &ClockOut::Tick {
                tick: self.ticks,
                unix_ms,
            },
        );
        ctx.set_timer(PERIOD_MS);
    }
}
