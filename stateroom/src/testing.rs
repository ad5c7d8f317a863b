//! Test a service in-process: no network, no real waiting, and the same
//! decoding, error frames and timer order as the server. (Enable the
//! `testing` feature, for example in `[dev-dependencies]`.)
//!
//! A [`TestRoom`] is one room of your service. Clients [`connect`](TestRoom::connect)
//! (or [`join`](TestRoom::join) with a request your `join` hook judges) and
//! send text, JSON or binary as they would over a socket; what each one
//! receives is read back with [`take`](TestRoom::take) or, decoded into your
//! outbound type, [`take_json`](TestRoom::take_json). Connections
//! [`drop`](TestRoom::drop_connection) and [`resume`](TestRoom::resume).
//! Time stands still until [`advance`](TestRoom::advance) moves it, firing the
//! timers that fall due in deadline order, each at its own deadline (a held
//! client's reconnection window included). The same test gives the same
//! result every run.
//!
//! Where the server can only log a bug in your service (a timer key of
//! another type than the `alarm` hook takes, client data asked for under the
//! wrong type, a message that cannot be serialised), the kit fails the test
//! with the same message.
//!
//! # A clock: ten virtual minutes in microseconds
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stateroom::testing::TestRoom;
//! use stateroom::{MessageRecipient, StateroomContext};
//! use std::time::Duration;
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Tick {
//!     tick: u64,
//! }
//!
//! struct Clock {
//!     ticks: u64,
//! }
//!
//! #[stateroom::service(no_main)]
//! impl Clock {
//!     fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
//!         ctx.set_interval("tick", Duration::from_secs(1));
//!         Clock { ticks: 0 }
//!     }
//!
//!     fn alarm(&mut self, _key: &str, ctx: &impl StateroomContext) {
//!         self.ticks += 1;
//!         ctx.send(MessageRecipient::Broadcast, &Tick { tick: self.ticks });
//!     }
//! }
//!
//! let started = std::time::Instant::now();
//! let mut room = TestRoom::<Clock>::new("clock");
//! let watcher = room.connect();
//! room.advance(Duration::from_secs(10 * 60));
//!
//! let ticks: Vec<Tick> = room.take_json(watcher);
//! assert_eq!(ticks.len(), 600);
//! assert_eq!(ticks.last(), Some(&Tick { tick: 600 }));
//! // Every tick fired exactly on its one-second schedule.
//! assert!(room.fired().iter().enumerate().all(|(i, (at, _))| *at == Duration::from_secs(i as u64 + 1)));
//! assert!(started.elapsed() < Duration::from_secs(5), "no real waiting");
//! ```
//!
//! # A typed chat, bad input included
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stateroom::testing::TestRoom;
//! use stateroom::{ClientId, ErrorCode, MessageRecipient, StateroomContext};
//! use std::collections::BTreeMap;
//!
//! #[derive(Serialize, Deserialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatIn {
//!     Join { name: String },
//!     Say { text: String },
//! }
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatOut {
//!     Joined { name: String },
//!     Said { name: String, text: String },
//! }
//!
//! #[derive(Default)]
//! struct Chat {
//!     names: BTreeMap<ClientId, String>,
//! }
//!
//! #[stateroom::service(no_main)]
//! impl Chat {
//!     fn message(&mut self, client: ClientId, msg: ChatIn, ctx: &impl StateroomContext) {
//!         match msg {
//!             ChatIn::Join { name } => {
//!                 ctx.send(MessageRecipient::Broadcast, &ChatOut::Joined { name: name.clone() });
//!                 self.names.insert(client, name);
//!             }
//!             ChatIn::Say { text } => {
//!                 if let Some(name) = self.names.get(&client).cloned() {
//!                     ctx.send(MessageRecipient::Broadcast, &ChatOut::Said { name, text });
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! let mut room = TestRoom::<Chat>::new("lobby");
//! let (ada, bob) = (room.connect(), room.connect());
//! room.send(ada, &ChatIn::Join { name: "ada".into() });
//! room.send(ada, &ChatIn::Say { text: "hi".into() });
//! let expected = vec![
//!     ChatOut::Joined { name: "ada".into() },
//!     ChatOut::Said { name: "ada".into(), text: "hi".into() },
//! ];
//! assert_eq!(room.take_json::<ChatOut>(bob), expected);
//! assert_eq!(room.take_json::<ChatOut>(ada), expected);
//!
//! // A frame that does not decode: an error frame to the sender only.
//! room.send_text(bob, r#"{"type":"shout"}"#);
//! let error = room.take(bob)[0].error().expect("an error frame");
//! assert_eq!(error.code, ErrorCode::InvalidMessage);
//! assert!(room.take(ada).is_empty());
//! assert_eq!(room.service().names.len(), 1);
//! ```

//!
//! # Who joins, who is kicked, who comes back
//!
//! ```
//! use stateroom::testing::{Received, TestRoom};
//! use stateroom::{ClientId, JoinRequest, Reject, StateroomContext};
//! use std::time::Duration;
//!
//! struct Player {
//!     name: String,
//! }
//!
//! #[derive(Default)]
//! struct Table {
//!     gone: Vec<String>,
//! }
//!
//! #[stateroom::service(no_main, reconnect = "30s")]
//! impl Table {
//!     fn join(&self, request: &JoinRequest) -> Result<Player, Reject> {
//!         // A real service verifies a signed token here.
//!         match request.bearer_token() {
//!             Some(name @ ("ada" | "bob")) => Ok(Player { name: name.into() }),
//!             _ => Err(Reject::unauthorized("a valid token is required")),
//!         }
//!     }
//!
//!     fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
//!         if let Some(target) = text.strip_prefix("kick ") {
//!             let target = ClientId::from(target.parse::<u32>().unwrap_or_default());
//!             ctx.close(target, 4000, "kicked");
//!         }
//!     }
//!
//!     fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
//!         let name = ctx.client_data::<Player>(client).map(|p| p.name.clone());
//!         self.gone.push(name.unwrap_or_default());
//!     }
//! }
//!
//! let mut room = TestRoom::<Table>::new("table");
//! let stranger = JoinRequest::new("table");
//! assert_eq!(room.join(stranger).unwrap_err().status(), 401);
//!
//! let as_user = |name: &str| {
//!     JoinRequest::new("table").with_header("authorization", &format!("Bearer {name}"))
//! };
//! let (ada, bob) = (room.join(as_user("ada")).unwrap(), room.join(as_user("bob")).unwrap());
//!
//! // Bob's network drops; he comes back within the window as the same client.
//! room.drop_connection(bob);
//! room.advance(Duration::from_secs(20));
//! assert!(room.resume(bob).resumed);
//! assert!(room.service().gone.is_empty());
//!
//! // Ada kicks him: he gets the close, and `disconnect` runs once.
//! room.send_text(ada, &format!("kick {bob}"));
//! assert_eq!(room.take(bob), [Received::Closed { code: 4000, reason: "kicked".into() }]);
//! assert_eq!(room.service().gone, ["bob"]);
//! ```
//!
//! # A crash, a restart, and messages in flight
//!
//! A persisted service is tested without `kill -9`: [`TestRoom::restart`]
//! snapshots the room as a save would, drops every connection and restores
//! a new instance (timers re-armed, sessions held). A client that numbers
//! its messages (`next=1` in its query, as `@stateroom/client` does) can
//! lose some in flight with [`TestRoom::send_text_lost`]; its resume resends
//! what the room had not acknowledged, and the room applies each once.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stateroom::testing::TestRoom;
//! use stateroom::{ClientId, JoinRequest, StateroomContext};
//!
//! #[derive(Default, Serialize, Deserialize)]
//! struct Tally {
//!     total: u64,
//! }
//!
//! #[stateroom::service(no_main, persist, reconnect = "30s")]
//! impl Tally {
//!     fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
//!         self.total += text.parse::<u64>().unwrap_or(0);
//!         ctx.send(client, &self.total);
//!     }
//! }
//!
//! let mut room = TestRoom::<Tally>::new("t");
//! let client = room.join(JoinRequest::new("t").with_query("next=1")).unwrap();
//! room.send_text(client, "1");
//! room.send_text(client, "2");
//! room.send_text_lost(client, "3"); // the network goes down under it
//! room.restart(); // and so does the server
//! assert!(room.resume(client).resumed); // resends 1, 2 (dropped) and 3
//! assert_eq!(room.service().total, 6);
//! ```

//!
//! # State that syncs itself
//!
//! For a service with a `view` (and `private_view`), each step of the kit
//! ends as a batch does on the server: the views are diffed and the sync
//! frames sent. [`TestRoom::synced`] rebuilds what a client holds from the
//! frames it received (with the `json-patch` crate, as a client would: a
//! patch on the wrong version fails the test); [`TestRoom::state`] and
//! [`TestRoom::private_state`] decode it; [`TestRoom::assert_synced`] checks
//! every connected client against the views; [`TestRoom::sync_frames`] are
//! the frames themselves, to check what never reached a client.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stateroom::testing::TestRoom;
//! use stateroom::{ClientId, StateroomContext};
//! use std::collections::BTreeMap;
//!
//! #[derive(Default)]
//! struct Poll {
//!     votes: BTreeMap<String, u32>,
//!     mine: BTreeMap<ClientId, String>,
//! }
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Mine {
//!     vote: Option<String>,
//! }
//!
//! #[stateroom::service(no_main)]
//! impl Poll {
//!     fn message(&mut self, client: ClientId, choice: String, _ctx: &impl StateroomContext) {
//!         *self.votes.entry(choice.clone()).or_default() += 1;
//!         self.mine.insert(client, choice);
//!     }
//!     fn view(&self) -> &BTreeMap<String, u32> {
//!         &self.votes
//!     }
//!     fn private_view(&self, client: ClientId) -> Mine {
//!         Mine { vote: self.mine.get(&client).cloned() }
//!     }
//! }
//!
//! let mut room = TestRoom::<Poll>::new("p");
//! let (ada, bob) = (room.connect(), room.connect());
//! room.send_text(ada, "rust");
//! room.assert_synced();
//! let tally: BTreeMap<String, u32> = room.state(bob);
//! assert_eq!(tally["rust"], 1);
//! assert_eq!(room.private_state::<Mine>(bob), Mine { vote: None });
//! assert!(room.sync_frames(bob).iter().all(|frame| !frame.contains(r#""vote":"rust""#)));
//! ```

#[cfg(feature = "yjs")]
pub use stateroom_server::testing::Replica;
pub use stateroom_server::testing::{Document, FiredTimer, Received, Synced, TestRoom};
