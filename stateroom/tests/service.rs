//! Services written with `#[stateroom::service]`, over real sockets: typed round
//! trips, the error frame for every kind of bad input, and one serialisation per
//! broadcast.

use stateroom_test_support as support;

use futures_util::SinkExt;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::json;
use stateroom::{ClientId, ErrorCode, ErrorFrame, MessageRecipient, Server, StateroomContext};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

/// The service's inbound type, shared with the Rust client below.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TallyIn {
    Add { amount: i64 },
    Get,
    Shout { text: String },
}

/// Counts how often it is serialised.
struct Counted<'a>(&'a str);

static SERIALISED: AtomicUsize = AtomicUsize::new(0);

impl Serialize for Counted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SERIALISED.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_str(self.0)
    }
}

#[derive(Default)]
struct Tally {
    total: i64,
}

#[stateroom::service(no_main)]
impl Tally {
    fn message(&mut self, client: ClientId, msg: TallyIn, ctx: &impl StateroomContext) {
        match msg {
            TallyIn::Add { amount } => {
                self.total += amount;
                ctx.send(MessageRecipient::Broadcast, &json!({ "total": self.total }));
            }
            TallyIn::Get => ctx.send(client, &json!({ "total": self.total })),
            TallyIn::Shout { text } => ctx.send(MessageRecipient::Broadcast, &Counted(&text)),
        }
    }
}

const QUIET: Duration = Duration::from_millis(300);

/// What the room sends, as the Rust client reads it.
#[derive(Debug, PartialEq, Deserialize)]
struct Total {
    total: i64,
}

#[tokio::test]
async fn typed_messages_round_trip() {
    use stateroom::client::Client;
    let server = start::<Tally>(Server::new()).await;
    let url = format!("ws://{}/ws/t", server.local_addr());
    let a = Client::<TallyIn, Total>::connect(&url)
        .await
        .expect("joins");
    let b = Client::<TallyIn, Total>::connect(&url)
        .await
        .expect("joins");
    a.send(&TallyIn::Add { amount: 5 }).expect("sent");
    assert_eq!(a.next_message().await, Some(Total { total: 5 }));
    assert_eq!(b.next_message().await, Some(Total { total: 5 }));
    b.send(&TallyIn::Add { amount: -2 }).expect("sent");
    assert_eq!(a.next_message().await, Some(Total { total: 3 }));
    assert_eq!(b.next_message().await, Some(Total { total: 3 }));
    a.close();
    b.close();
}

#[tokio::test]
async fn bad_input_gets_an_error_frame_and_changes_nothing() {
    let server = start::<Tally>(Server::new()).await;
    let addr = server.local_addr();
    let (mut a, mut b) = (join(addr, "e").await, join(addr, "e").await);
    send_text(&mut a, r#"{"type":"add","amount":5}"#).await;
    assert_eq!(next_json(&mut a).await, json!({"total": 5}));
    assert_eq!(next_json(&mut b).await, json!({"total": 5}));

    let cases: [(Message, ErrorCode, &str); 7] = [
        (
            Message::text("not json"),
            ErrorCode::InvalidJson,
            "expected",
        ),
        (
            Message::text(r#"{"type":"add","#),
            ErrorCode::InvalidJson,
            "EOF",
        ),
        (
            Message::text(r#"{"type":"multiply","by":2}"#),
            ErrorCode::InvalidMessage,
            "unknown variant `multiply`, expected one of `add`, `get`, `shout`",
        ),
        (
            Message::text(r#"{"type":"shout"}"#),
            ErrorCode::InvalidMessage,
            "missing field `text`",
        ),
        (
            Message::text(r#"{"type":"add","amount":"five"}"#),
            ErrorCode::InvalidMessage,
            "invalid type: string \"five\", expected i64",
        ),
        (Message::text("[]"), ErrorCode::InvalidMessage, ""),
        (
            Message::binary(vec![1u8, 2, 3]),
            ErrorCode::UnsupportedFrame,
            "binary",
        ),
    ];
    for (frame, code, says) in cases {
        let sent = format!("{frame:?}");
        a.send(frame).await.unwrap();
        let reply = next_text(&mut a).await;
        let error = ErrorFrame::from_json(&reply).unwrap_or_else(|| panic!("{sent} got {reply}"));
        assert_eq!(error.code, code, "{sent} got {reply}");
        assert!(error.message.contains(says), "{sent} got {reply}");
    }
    // The sender's connection is still open, the state is unchanged, and nobody
    // else heard anything.
    send_text(&mut a, r#"{"type":"get"}"#).await;
    assert_eq!(next_json(&mut a).await, json!({"total": 5}));
    assert_silent(&mut b, QUIET).await;
}

#[tokio::test]
async fn a_broadcast_is_serialised_once() {
    let server = start::<Tally>(Server::new()).await;
    let addr = server.local_addr();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(join(addr, "once").await);
    }
    send_text(&mut clients[0], r#"{"type":"shout","text":"hey"}"#).await;
    for ws in &mut clients {
        assert_eq!(next_json(ws).await, json!("hey"));
    }
    assert_eq!(SERIALISED.load(Ordering::SeqCst), 1);
}

/// Raw text in, no binary hook, no `new` but `Default`.
#[derive(Default)]
struct Shouter;

#[stateroom::service(no_main)]
impl Shouter {
    fn message(&mut self, client: ClientId, text: String, ctx: &impl StateroomContext) {
        ctx.send_message(client, &text.to_uppercase());
    }
}

/// Binary only, with `new` taking the room id.
struct Reverser {
    room: String,
}

#[stateroom::service(no_main)]
impl Reverser {
    fn new(room_id: &str) -> Self {
        Reverser {
            room: room_id.to_owned(),
        }
    }

    fn binary(&mut self, client: ClientId, data: Vec<u8>, ctx: &impl StateroomContext) {
        let mut data = data;
        data.reverse();
        data.extend_from_slice(self.room.as_bytes());
        ctx.send_binary(client, &data);
    }
}

#[tokio::test]
async fn raw_text_and_binary_only_services() {
    let server = start::<Shouter>(Server::new()).await;
    let mut ws = join(server.local_addr(), "s").await;
    send_text(&mut ws, "not json, and fine").await;
    assert_eq!(next_text(&mut ws).await, "NOT JSON, AND FINE");

    let server = start::<Reverser>(Server::new()).await;
    let mut ws = join(server.local_addr(), "rev").await;
    ws.send(Message::binary(vec![1u8, 2])).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::binary(b"\x02\x01rev".to_vec())
    );
    send_text(&mut ws, "hello").await;
    let error = ErrorFrame::from_json(&next_text(&mut ws).await).expect("an error frame");
    assert_eq!(error.code, ErrorCode::UnsupportedFrame);
}
