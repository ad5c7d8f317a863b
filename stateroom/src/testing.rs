//! Test a service in-process: no network, no real waiting, and the same
//! decoding, error frames and timer order as the server. (Enable the
//! `testing` feature, for example in `[dev-dependencies]`.)
//!
//! A [`TestRoom`] is one room of your service. Clients [`connect`](TestRoom::connect)
//! and send text, JSON or binary as they would over a socket; what each one
//! receives is read back with [`take`](TestRoom::take) or, decoded into your
//! outbound type, [`take_json`](TestRoom::take_json). Time stands still until
//! [`advance`](TestRoom::advance) moves it, firing the timers that fall due in
//! deadline order, each at its own deadline. The same test gives the same
//! result every run.
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

pub use stateroom_server::testing::{FiredTimer, Received, TestRoom};
