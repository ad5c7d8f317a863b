//! A clock: every room broadcasts `{"type":"tick","tick":N,"unix_ms":T}` once a
//! second, on a drift-free interval timer, for as long as it lives.
//!
//! Run: `cargo run -p example-clock`, then
//! `websocat ws://127.0.0.1:8080/ws/clock` and watch.

use serde::{Deserialize, Serialize};
use stateroom::{MessageRecipient, StateroomContext};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time between ticks.
const PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClockOut {
    Tick { tick: u64, unix_ms: u64 },
}

struct Clock {
    ticks: u64,
}

#[stateroom::service]
impl Clock {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_interval("tick", PERIOD);
        Clock { ticks: 0 }
    }

    fn alarm(&mut self, _key: &str, ctx: &impl StateroomContext) {
        self.ticks += 1;
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
            });
        ctx.send(
            MessageRecipient::Broadcast,
            &ClockOut::Tick {
                tick: self.ticks,
                unix_ms,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateroom::testing::TestRoom;

    #[test]
    fn ten_virtual_minutes_are_six_hundred_ticks() {
        let mut room = TestRoom::<Clock>::new("clock");
        let early = room.connect();
        room.advance(Duration::from_millis(2_500));
        let late = room.connect();
        room.advance(Duration::from_secs(600) - Duration::from_millis(2_500));
        let ticks: Vec<ClockOut> = room.take_json(early);
        assert_eq!(ticks.len(), 600);
        let numbers: Vec<u64> = ticks
            .iter()
            .map(|ClockOut::Tick { tick, .. }| *tick)
            .collect();
        assert_eq!(numbers, (1..=600).collect::<Vec<_>>());
        // The late joiner sees the ticks from its arrival on.
        assert_eq!(room.take_json::<ClockOut>(late).len(), 598);
        assert_eq!(room.now(), Duration::from_secs(600));
    }
}
