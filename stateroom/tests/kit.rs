//! The test kit drives joins, kicks, dropped connections and resumes with a
//! virtual clock, through the same room logic as the server; and it fails a
//! test loudly on bugs the server can only log.

use serde::{Deserialize, Serialize};
use stateroom::testing::{Received, TestRoom};
use stateroom::{ClientId, JoinRequest, MessageRecipient, Reject, ResumeRefused, StateroomContext};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
struct Player {
    name: String,
}

#[derive(Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum In {
    Say { text: String },
    Kick { target: ClientId },
    WrongTimer,
    WrongData,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Out {
    Said { name: String, text: String },
    Left { name: String },
}

#[derive(Serialize, Deserialize)]
enum Alarm {
    Tick,
}

#[derive(Default)]
struct Table {
    disconnects: BTreeMap<ClientId, u32>,
    reconnects: u32,
}

#[stateroom::service(no_main, reconnect = "10s")]
impl Table {
    fn join(&self, request: &JoinRequest) -> Result<Player, Reject> {
        match request.query_param("name") {
            Some(name) if name == "mallory" => Err(Reject::forbidden("not at this table")),
            Some(name) => Ok(Player {
                name: name.into_owned(),
            }),
            None => Err(Reject::unauthorized("say who you are: ?name=")),
        }
    }

    fn message(&mut self, client: ClientId, msg: In, ctx: &impl StateroomContext) {
        let name = ctx
            .client_data::<Player>(client)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        match msg {
            In::Say { text } => ctx.send(MessageRecipient::Broadcast, &Out::Said { name, text }),
            In::Kick { target } => ctx.close(target, 4000, "kicked"),
            In::WrongTimer => ctx.set_timeout("a plain string", Duration::from_secs(1)),
            In::WrongData => {
                let _ = ctx.client_data::<String>(client);
            }
        }
    }

    fn alarm(&mut self, _key: Alarm) {}

    fn reconnect(&mut self, _client: ClientId) {
        self.reconnects += 1;
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        *self.disconnects.entry(client).or_default() += 1;
        let name = ctx
            .client_data::<Player>(client)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        ctx.send(MessageRecipient::Broadcast, &Out::Left { name });
    }
}

fn named(name: &str) -> JoinRequest {
    JoinRequest::new("table").with_query(format!("name={name}"))
}

#[test]
fn joins_are_accepted_or_rejected_with_data_attached() {
    let mut room = TestRoom::<Table>::new("table");
    assert_eq!(
        room.join(JoinRequest::new("table")).unwrap_err().status(),
        401
    );
    assert_eq!(
        room.join(named("mallory")).unwrap_err().body(),
        "not at this table"
    );
    let ada = room.join(named("ada")).unwrap();
    assert_eq!(
        room.client_data::<Player>(ada),
        Some(&Player { name: "ada".into() })
    );
    room.send(ada, &In::Say { text: "hi".into() });
    assert_eq!(
        room.take_json::<Out>(ada),
        [Out::Said {
            name: "ada".into(),
            text: "hi".into()
        }]
    );
    // No hook ran for the rejected ones.
    assert!(room.service().disconnects.is_empty());
}

#[test]
fn a_kick_closes_after_earlier_frames_and_disconnects_once() {
    let mut room = TestRoom::<Table>::new("table");
    let ada = room.join(named("ada")).unwrap();
    let bob = room.join(named("bob")).unwrap();
    room.send(
        ada,
        &In::Say {
            text: "last words".into(),
        },
    );
    room.send(ada, &In::Kick { target: bob });
    let got = room.take(bob);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].text().is_some_and(|t| t.contains("last words")));
    assert_eq!(
        got[1],
        Received::Closed {
            code: 4000,
            reason: "kicked".into()
        }
    );
    assert_eq!(room.service().disconnects[&bob], 1);
    assert!(!room.is_connected(bob));
    // The connection ending afterwards changes nothing.
    room.disconnect(bob);
    assert_eq!(room.service().disconnects[&bob], 1);
    assert_eq!(
        room.take_json::<Out>(ada).last(),
        Some(&Out::Left { name: "bob".into() })
    );
}

#[test]
fn a_dropped_client_resumes_within_the_window_and_expires_after_it() {
    let mut room = TestRoom::<Table>::new("table");
    let ada = room.join(named("ada")).unwrap();
    let bob = room.join(named("bob")).unwrap();
    room.drop_connection(bob);
    assert!(!room.is_connected(bob));
    room.send(ada, &In::Say { text: "one".into() });
    room.advance(Duration::from_secs(9));
    let session = room.resume(bob);
    assert!(session.resumed);
    assert_eq!(session.client, bob);
    assert_eq!(session.replayed, 1);
    assert_eq!(
        room.take_json::<Out>(bob),
        [Out::Said {
            name: "ada".into(),
            text: "one".into()
        }]
    );
    assert_eq!(room.service().reconnects, 1);
    assert!(room.service().disconnects.is_empty());

    // Dropped again, never back: one disconnect when the window ends.
    room.drop_connection(bob);
    room.advance(Duration::from_millis(9_999));
    assert!(room.service().disconnects.is_empty());
    room.advance(Duration::from_millis(1));
    assert_eq!(room.service().disconnects[&bob], 1);
    let late = room.resume(bob);
    assert!(!late.resumed);
    assert_eq!(late.refused, Some(ResumeRefused::UnknownToken));
    assert_ne!(late.client, bob);
    // The window's end is the runtime's own timer, not the service's.
    assert!(room.fired().is_empty());
}

#[test]
fn a_resume_that_acknowledges_less_gets_the_rest_again() {
    let mut room = TestRoom::<Table>::new("table");
    let ada = room.join(named("ada")).unwrap();
    for text in ["1", "2", "3"] {
        room.send(ada, &In::Say { text: text.into() });
    }
    assert_eq!(room.take(ada).len(), 3);
    room.drop_connection(ada);
    // The client only saw the first frame before its connection died.
    let session = room.resume_with_ack(ada, 1);
    assert_eq!(session.replayed, 2);
    let texts: Vec<_> = room.take_json::<Out>(ada);
    assert_eq!(
        texts,
        [
            Out::Said {
                name: "ada".into(),
                text: "2".into()
            },
            Out::Said {
                name: "ada".into(),
                text: "3".into()
            },
        ]
    );
}

fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the test kit fails the test");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn a_timer_key_of_the_wrong_type_fails_the_test_naming_both() {
    let mut room = TestRoom::<Table>::new("table");
    let ada = room.join(named("ada")).unwrap();
    room.send(ada, &In::WrongTimer);
    let message = panic_message(move || room.advance(Duration::from_secs(1)));
    assert!(message.contains(r#""a plain string""#), "{message}");
    assert!(message.contains("kit::Alarm"), "{message}");
}

#[test]
fn client_data_asked_for_under_the_wrong_type_fails_the_test() {
    let mut room = TestRoom::<Table>::new("table");
    let ada = room.join(named("ada")).unwrap();
    let message = panic_message(move || room.send(ada, &In::WrongData));
    assert!(message.contains("kit::Player"), "{message}");
    assert!(message.contains("alloc::string::String"), "{message}");
}

/// Reached from outside: commands and HTTP, through the kit.
#[derive(Default, Serialize)]
struct Counter {
    n: i64,
}

#[stateroom::service(no_main)]
impl Counter {
    fn command(&mut self, add: i64) -> i64 {
        self.n += add;
        self.n
    }

    fn request(&mut self, _request: &stateroom::RoomRequest) -> stateroom::RoomResponse {
        stateroom::RoomResponse::json(self)
    }
}

#[test]
fn commands_and_http_requests_through_the_kit() {
    let mut room = TestRoom::<Counter>::new("c");
    assert_eq!(room.command::<i64, i64>(2), Ok(2));
    assert_eq!(room.command::<i64, i64>(3), Ok(5));
    assert!(room.command::<u8, i64>(1).is_err(), "the hook takes an i64");
    let get = stateroom::RoomRequest::new(stateroom::http::Method::GET, "");
    let answer = room.request(JoinRequest::new("c"), get).unwrap();
    assert_eq!(
        (answer.status(), answer.body()),
        (stateroom::http::StatusCode::OK, br#"{"n":5}"#.as_slice())
    );
}

/// A persisted tally with a reminder, for the kit's exactly-once and restart
/// tools.
#[derive(Default, Serialize, Deserialize)]
struct Tally {
    seen: Vec<u64>,
    reminders: u32,
    /// Not saved: `false` again after a restart, until `restore` runs.
    #[serde(skip)]
    restored: bool,
}

#[stateroom::service(no_main, persist, reconnect = "30s")]
impl Tally {
    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        match text {
            "remind" => ctx.set_timeout("remind", Duration::from_secs(10)),
            "state" => ctx.send(
                client,
                &serde_json::json!({ "seen": self.seen, "reminders": self.reminders, "restored": self.restored }),
            ),
            n => self.seen.push(n.parse().expect("a number")),
        }
    }

    fn alarm(&mut self, _key: &str) {
        self.reminders += 1;
    }

    fn restore(&mut self) {
        self.restored = true;
    }
}

fn numbered() -> JoinRequest {
    JoinRequest::new("t").with_query("next=1")
}

fn tally_state(room: &mut TestRoom<Tally>, client: ClientId) -> serde_json::Value {
    room.send_text(client, "state");
    room.take_json::<serde_json::Value>(client)
        .pop()
        .expect("a state frame")
}

#[test]
fn messages_lost_in_flight_are_resent_on_resume_and_applied_once() {
    let mut room = TestRoom::<Tally>::new("t");
    let client = room.join(numbered()).expect("joins");
    for n in 1..=3 {
        room.send_text(client, &n.to_string());
    }
    // Applied, but the acks are not out yet (20 ms): all three unacknowledged.
    assert_eq!(room.unacknowledged(client), 3);
    room.send_text_lost(client, "4");
    room.send_text(client, "5"); // after a loss on the same connection: lost too
    room.drop_connection(client);
    let session = room.resume(client);
    assert!(session.resumed, "{session:?}");
    // The resume resent 1..=5; the room dropped 1..=3 and applied 4 and 5.
    let state = tally_state(&mut room, client);
    assert_eq!(state["seen"], serde_json::json!([1, 2, 3, 4, 5]), "{state}");
    room.advance(Duration::from_millis(20));
    assert_eq!(room.unacknowledged(client), 0, "acknowledged after 20 ms");
}

#[test]
fn a_restart_restores_state_timers_and_held_sessions() {
    let mut room = TestRoom::<Tally>::new("t");
    let client = room.join(numbered()).expect("joins");
    room.send_text(client, "7");
    room.send_text(client, "remind");
    room.advance(Duration::from_secs(1));
    room.restart();
    // The connection dropped with the process; the session was held.
    assert!(!room.is_connected(client));
    let session = room.resume(client);
    assert!(session.resumed, "{session:?}");
    let state = tally_state(&mut room, client);
    assert_eq!(state["seen"], serde_json::json!([7]));
    assert_eq!(state["restored"], true, "the restore hook ran");
    assert_eq!(state["reminders"], 0);
    // The reminder was re-armed from its deadline: 9 s are left.
    room.advance(Duration::from_secs(9));
    assert_eq!(tally_state(&mut room, client)["reminders"], 1);
}

#[test]
fn a_timer_that_fell_due_while_down_fires_as_the_room_opens() {
    let mut room = TestRoom::<Tally>::new("t");
    let client = room.join(numbered()).expect("joins");
    room.send_text(client, "remind");
    room.restart_after(Duration::from_secs(60));
    assert_eq!(
        room.fired().len(),
        1,
        "fired at the restart: {:?}",
        room.fired()
    );
    room.resume(client);
    assert_eq!(tally_state(&mut room, client)["reminders"], 1);
}

/// A lobby whose players are seated by who they are.
#[derive(Default, Serialize, Deserialize)]
struct Lobby {
    /// Hooks run, in order: `connect:ID`, `reconnect:ID`, `disconnect:ID`.
    log: Vec<String>,
}

#[stateroom::service(no_main, persist, reconnect = "30s")]
impl Lobby {
    fn join(&self, request: &JoinRequest) -> Result<stateroom::Seat, Reject> {
        let name = request.query_param("user").unwrap_or_default().into_owned();
        Ok(stateroom::Seat::new(name.clone(), Player { name }))
    }

    fn connect(&mut self, client: ClientId) {
        self.log.push(format!("connect:{client}"));
    }

    fn reconnect(&mut self, client: ClientId) {
        self.log.push(format!("reconnect:{client}"));
    }

    fn disconnect(&mut self, client: ClientId) {
        self.log.push(format!("disconnect:{client}"));
    }
}

#[test]
fn a_join_for_a_held_seats_principal_takes_it_over_after_a_crash() {
    let mut room = TestRoom::<Lobby>::new("l");
    let as_user = |user: &str| JoinRequest::new("l").with_query(format!("user={user}"));
    let ada = room.join(as_user("ada")).expect("joins");
    let bob = room.join(as_user("bob")).expect("joins");
    room.restart(); // both seats are held; the clients lost their tokens
    // Ada's new page joins afresh: it takes her seat over.
    let again = room.join(as_user("ada")).expect("joins");
    assert_eq!(again, ada, "the same client");
    assert!(room.is_connected(ada));
    assert_eq!(
        room.client_data::<Player>(ada).map(|p| p.name.as_str()),
        Some("ada")
    );
    // Bob never comes back: his seat goes when the window ends; Ada's stays.
    room.advance(Duration::from_secs(31));
    assert_eq!(
        room.service().log,
        [
            format!("connect:{ada}"),
            format!("connect:{bob}"),
            format!("reconnect:{ada}"),
            format!("disconnect:{bob}"),
        ]
    );
    // A second connection while the seat is in use is a client of its own.
    let second = room.join(as_user("ada")).expect("joins");
    assert_ne!(second, ada);
}
