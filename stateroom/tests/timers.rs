//! Named timers and intervals, through the test kit's virtual clock and
//! through a real server; and one script run both ways, compared frame by
//! frame.

use stateroom_test_support as support;

use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use stateroom::testing::{FiredTimer, Received, TestRoom};
use stateroom::{ClientId, MessageRecipient, Server, StateroomContext, TimerKey};
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

/// Commands a client can give the scheduler room.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Command {
    Timeout { key: String, ms: u64 },
    Interval { key: String, ms: u64 },
    Cancel { key: String },
    Seed { ms: u32 },
    Say { text: String },
}

#[derive(Default)]
struct Scheduler {
    alarms: Vec<String>,
}

#[stateroom::service(no_main)]
impl Scheduler {
    fn connect(&mut self, _client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(MessageRecipient::Broadcast, &json!({ "joined": true }));
    }

    fn message(&mut self, client: ClientId, cmd: Command, ctx: &impl StateroomContext) {
        match cmd {
            Command::Timeout { key, ms } => ctx.set_timeout(&key, Duration::from_millis(ms)),
            Command::Interval { key, ms } => ctx.set_interval(&key, Duration::from_millis(ms)),
            Command::Cancel { key } => ctx.cancel_timer(&key),
            Command::Seed { ms } => ctx.set_timer(ms),
            Command::Say { text } => ctx.send(
                MessageRecipient::EveryoneExcept(client),
                &json!({ "said": text }),
            ),
        }
    }

    fn disconnect(&mut self, _client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(MessageRecipient::Broadcast, &json!({ "left": true }));
    }

    fn alarm(&mut self, key: String, ctx: &impl StateroomContext) {
        ctx.send(MessageRecipient::Broadcast, &json!({ "alarm": key }));
        self.alarms.push(key);
    }

    fn timer(&mut self, ctx: &impl StateroomContext) {
        ctx.send(MessageRecipient::Broadcast, &json!({ "timer": true }));
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn timeout(key: &str, ms: u64) -> Command {
    Command::Timeout {
        key: key.into(),
        ms,
    }
}

fn key(k: &str) -> FiredTimer {
    FiredTimer::Alarm(TimerKey::new(k).unwrap())
}

#[test]
fn timers_fire_in_deadline_order_then_in_the_order_set() {
    let mut room = TestRoom::<Scheduler>::new("order");
    let c = room.connect();
    for (k, at) in [("c", 30), ("a", 10), ("b", 10), ("d", 20)] {
        room.send(c, &timeout(k, at));
    }
    room.send(c, &Command::Seed { ms: 20 });
    room.advance(ms(100));
    let fired: Vec<_> = room.fired().to_vec();
    assert_eq!(
        fired,
        [
            (ms(10), key("a")),
            (ms(10), key("b")),
            (ms(20), key("d")),
            (ms(20), FiredTimer::Timer),
            (ms(30), key("c"))
        ]
    );
    assert_eq!(room.service().alarms, ["a", "b", "d", "c"]);
    assert_eq!(room.pending_timers(), 0);
}

#[test]
fn intervals_keep_their_period_without_drift() {
    let mut room = TestRoom::<Scheduler>::new("drift");
    let c = room.connect();
    room.advance(ms(3)); // start off the millisecond grid
    room.send(
        c,
        &Command::Interval {
            key: "tick".into(),
            ms: 7,
        },
    );
    // Advance in uneven steps: the schedule must not care.
    for step in [1, 13, 2, 50, 9_000, 934] {
        room.advance(ms(step));
    }
    let times: Vec<Duration> = room.fired().iter().map(|(at, _)| *at).collect();
    assert_eq!(times.len(), 10_000 / 7);
    for (i, at) in times.iter().enumerate() {
        assert_eq!(*at, ms(3 + 7 * (i as u64 + 1)), "tick {i}");
    }
    assert_eq!(room.pending_timers(), 1);
}

#[test]
fn replace_and_cancel() {
    let mut room = TestRoom::<Scheduler>::new("replace");
    let c = room.connect();
    room.send(c, &timeout("a", 100));
    room.send(c, &timeout("a", 300)); // replaces
    room.send(c, &timeout("b", 200));
    room.send(
        c,
        &Command::Interval {
            key: "i".into(),
            ms: 50,
        },
    );
    room.advance(ms(120));
    room.send(c, &Command::Cancel { key: "b".into() });
    room.send(c, &Command::Cancel { key: "i".into() });
    room.send(
        c,
        &Command::Cancel {
            key: "never-set".into(),
        },
    );
    room.advance(ms(1_000));
    assert_eq!(
        room.fired(),
        [(ms(50), key("i")), (ms(100), key("i")), (ms(300), key("a"))]
    );
    assert_eq!(room.pending_timers(), 0);
}

/// Sets 100,000 timers keyed by number, with scrambled deadlines.
#[derive(Default)]
struct Crowd {
    fired: Vec<u64>,
}

const CROWD: u64 = 100_000;

fn deadline_of(key: u64) -> Duration {
    ms(1 + (key * 7_919) % 50_000)
}

#[stateroom::service(no_main)]
impl Crowd {
    fn message(&mut self, _client: ClientId, rounds: u64, ctx: &impl StateroomContext) {
        // Each round replaces every timer (same deadlines), leaving stale entries.
        for _ in 0..rounds {
            for key in 0..CROWD {
                ctx.set_timeout(&key, deadline_of(key));
            }
        }
    }

    fn alarm(&mut self, key: u64) {
        self.fired.push(key);
    }
}

#[test]
fn a_hundred_thousand_timers_stay_bounded_and_fire_in_order() {
    let mut room = TestRoom::<Crowd>::new("crowd");
    let c = room.connect();
    room.send(c, &3u64);
    assert_eq!(room.pending_timers(), CROWD as usize);
    assert!(
        room.timer_storage() <= 2 * CROWD as usize + 64,
        "{}",
        room.timer_storage()
    );
    room.advance(ms(60_000));
    let mut expected: Vec<u64> = (0..CROWD).collect();
    expected.sort_by_key(|&k| (deadline_of(k), k));
    assert_eq!(room.service().fired, expected);
    assert_eq!((room.pending_timers(), room.timer_storage()), (0, 0));
}

#[tokio::test]
async fn named_timers_fire_on_a_real_server() {
    let server = start::<Scheduler>(Server::new()).await;
    let mut ws = join(server.local_addr(), "real").await;
    assert_eq!(next_json(&mut ws).await, json!({"joined": true}));
    let send = |cmd: &Command| Message::text(serde_json::to_string(cmd).unwrap());
    ws.send(send(&Command::Interval {
        key: "i".into(),
        ms: 40,
    }))
    .await
    .unwrap();
    ws.send(send(&timeout("once", 10))).await.unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"alarm": "once"}));
    for _ in 0..3 {
        assert_eq!(next_json(&mut ws).await, json!({"alarm": "i"}));
    }
    ws.send(send(&Command::Cancel { key: "i".into() }))
        .await
        .unwrap();
    // At most one tick was already on its way.
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            let _ = next_json(&mut ws).await;
        }
    })
    .await;
    assert!(quiet.is_err());
}

#[tokio::test]
async fn timers_die_with_their_room() {
    let server = start::<Scheduler>(Server::new().room_grace(Duration::from_millis(100))).await;
    let addr = server.local_addr();
    let mut ws = join(addr, "mortal").await;
    let _joined = next_json(&mut ws).await;
    ws.send(Message::text(
        serde_json::to_string(&timeout("later", 1_500)).unwrap(),
    ))
    .await
    .unwrap();
    ws.close(None).await.unwrap();
    drop(ws);
    wait_health(addr, |h| h["rooms"] == 0).await;
    // A new instance of the room has no pending timer: nothing arrives.
    let mut again = join(addr, "mortal").await;
    assert_eq!(next_json(&mut again).await, json!({"joined": true}));
    assert_silent(&mut again, Duration::from_millis(2_000)).await;
}

/// One step of a script, applied the same way to the test kit and a socket.
enum Step {
    Connect,
    Text(usize, &'static str),
    Binary(usize, &'static [u8]),
    Disconnect(usize),
}

#[tokio::test]
async fn the_test_kit_sees_what_a_real_client_sees() {
    let script = [
        Step::Connect,
        Step::Connect,
        Step::Text(0, r#"{"op":"say","text":"hello"}"#),
        Step::Text(1, r#"{"op":"say","text":"hi"}"#),
        Step::Text(1, "not json"),
        Step::Text(0, r#"{"op":"shout","text":"HEY"}"#),
        Step::Text(0, r#"{"op":"timeout","key":"k","ms":"soon"}"#),
        Step::Binary(1, b"\x00\x01"),
        Step::Connect,
        Step::Text(2, r#"{"op":"say","text":"I'm new"}"#),
        Step::Disconnect(0),
        Step::Text(1, r#"{"op":"say","text":"bye"}"#),
    ];
    let server = start::<Scheduler>(Server::new()).await;
    let addr = server.local_addr();
    let mut kit = TestRoom::<Scheduler>::new("same");
    let mut kit_clients: Vec<ClientId> = Vec::new();
    let mut sockets: Vec<Option<Ws>> = Vec::new();
    let mut compared = 0;
    for (index, step) in script.iter().enumerate() {
        match step {
            Step::Connect => {
                kit_clients.push(kit.connect());
                sockets.push(Some(join(addr, "same").await));
            }
            Step::Text(c, text) => {
                kit.send_text(kit_clients[*c], text);
                send_text(sockets[*c].as_mut().unwrap(), text).await;
            }
            Step::Binary(c, data) => {
                kit.send_binary(kit_clients[*c], data);
                sockets[*c]
                    .as_mut()
                    .unwrap()
                    .send(Message::binary(data.to_vec()))
                    .await
                    .unwrap();
            }
            Step::Disconnect(c) => {
                kit.disconnect(kit_clients[*c]);
                let mut ws = sockets[*c].take().unwrap();
                ws.close(None).await.unwrap();
            }
        }
        // After each step, every open client has received exactly what the
        // kit says, in the same order.
        for (c, socket) in sockets.iter_mut().enumerate() {
            let Some(ws) = socket else { continue };
            let expected = kit.take(kit_clients[c]);
            for frame in &expected {
                let got = match next(ws).await {
                    Message::Text(text) => Received::Text(text.to_string()),
                    Message::Binary(data) => Received::Binary(data.to_vec()),
                    other => panic!("step {index}: client {c} got {other:?}"),
                };
                assert_eq!(&got, frame, "step {index}, client {c}");
                compared += 1;
            }
        }
    }
    for ws in sockets.iter_mut().flatten() {
        assert_silent(ws, Duration::from_millis(200)).await;
    }
    assert!(compared >= 12, "the script compared only {compared} frames");
}
