//! The Rust client against a real server, through a TCP proxy the test
//! cuts: typed messages, resume with the same `ClientId`, exactly-once
//! sends through cuts, the offline queue, synced state, presence, a refused
//! join, and a kick that is final.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, JoinRequest, Reject, Server, StateroomContext};
use stateroom_client::{Client, ConnectError, Options, Received, Status};
use stateroom_test_support::proxy::Proxy;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TallyIn {
    Add { n: u64 },
    Kick,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TallyOut {
    Added { n: u64, by: ClientId },
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Board {
    added: Vec<u64>,
}

/// Records every number it is sent, in order; syncs the list; presence on.
#[derive(Default)]
struct Tally {
    board: Board,
}

#[stateroom::service(no_main, reconnect = "30s", presence, listed)]
impl Tally {
    fn join(&self, request: &JoinRequest) -> Result<(), Reject> {
        match request.query_param("token").as_deref() {
            Some("secret") => Ok(()),
            _ => Err(Reject::unauthorized("a token is required")),
        }
    }

    fn message(&mut self, client: ClientId, msg: TallyIn, ctx: &impl StateroomContext) {
        match msg {
            TallyIn::Add { n } => {
                self.board.added.push(n);
                ctx.send(client, &TallyOut::Added { n, by: client });
            }
            TallyIn::Kick => ctx.close(client, 4001, "bye"),
        }
    }

    fn view(&self) -> &Board {
        &self.board
    }
}

fn options() -> Options {
    let mut options = Options::default();
    options.query = vec![("token".into(), "secret".into())];
    options.backoff.initial = Duration::from_millis(20);
    options.backoff.max = Duration::from_millis(200);
    options
}

async fn server() -> stateroom::ServerHandle {
    stateroom_test_support::start::<Tally>(Server::new().shutdown_delay(Duration::ZERO)).await
}

async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + stateroom_test_support::WAIT;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn typed_messages_and_synced_state() {
    let server = server().await;
    let url = format!("ws://{}/ws/t1", server.local_addr());
    let client = Client::<TallyIn, TallyOut>::connect_with(&url, options())
        .await
        .expect("connects");
    assert!(client.wait_open().await);
    client.send(&TallyIn::Add { n: 7 }).expect("sent");
    let me = until("a session", || client.session()).await.client;
    assert_eq!(
        client.next_message().await,
        Some(TallyOut::Added { n: 7, by: me })
    );
    let board = until("the state", || {
        client.state::<Board>().filter(|b| b.added == [7])
    })
    .await;
    assert_eq!(board.added, [7]);
    let presence: serde_json::Value = until("presence", || client.presence()).await;
    assert!(presence.get(me.to_string()).is_some(), "{presence}");
    client.close();
    server.shutdown().await;
}

#[tokio::test]
async fn a_refused_join_says_why() {
    let server = server().await;
    let url = format!("ws://{}/ws/t1", server.local_addr());
    let error = Client::<TallyIn, TallyOut>::connect(&url)
        .await
        .expect_err("no token");
    assert!(
        matches!(&error, ConnectError::Refused { status: 401, body } if body.contains("token")),
        "{error}"
    );
    assert!(matches!(
        Client::<TallyIn, TallyOut>::connect("ftp://x").await,
        Err(ConnectError::Url(_))
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn cuts_resume_the_same_client_and_apply_every_message_once() {
    let server = server().await;
    let proxy = Proxy::start(server.local_addr()).await;
    let url = format!("ws://{}/ws/t2", proxy.addr());
    let client = Client::<TallyIn, TallyOut>::connect_with(&url, options())
        .await
        .expect("connects");
    assert!(client.wait_open().await);
    let me = until("a session", || client.session()).await.client;
    // 300 numbers, the connection cut four times while they are sent, and
    // once refused for a while: sent live, queued offline, or resent.
    for n in 1..=300u64 {
        client.send(&TallyIn::Add { n }).expect("sent");
        if n % 60 == 0 {
            proxy.cut();
        }
        if n == 150 {
            proxy.refuse(true);
            tokio::time::sleep(Duration::from_millis(100)).await;
            proxy.refuse(false);
        }
        if n % 7 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let board = until("every number applied", || {
        client.state::<Board>().filter(|b| b.added.len() >= 300)
    })
    .await;
    assert_eq!(
        board.added,
        (1..=300).collect::<Vec<u64>>(),
        "each once, in order"
    );
    assert!(client.wait_open().await);
    let session = client.session().expect("a session");
    assert_eq!(session.client, me, "the same client throughout");
    assert!(session.resumed);
    until("all acknowledged", || {
        (client.unacknowledged() == 0).then_some(())
    })
    .await;
    client.close();
    server.shutdown().await;
}

#[tokio::test]
async fn a_kick_is_final_and_status_says_so() {
    let server = server().await;
    let url = format!("ws://{}/ws/t3", server.local_addr());
    let client = Client::<TallyIn, TallyOut>::connect_with(&url, options())
        .await
        .expect("connects");
    assert!(client.wait_open().await);
    client.send(&TallyIn::Kick).expect("sent");
    let status = loop {
        match client.recv().await.expect("an event") {
            Received::Status(status @ Status::Closed { .. }) => break status,
            _ => continue,
        }
    };
    assert!(
        matches!(status, Status::Closed { code: 4001, .. }),
        "{status:?}"
    );
    assert!(client.recv().await.is_none(), "nothing after the end");
    assert!(client.send(&TallyIn::Add { n: 1 }).is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn a_live_lobby_sees_rooms_come_and_go() {
    let server = stateroom_test_support::start::<Tally>(
        Server::new()
            .shutdown_delay(Duration::ZERO)
            .room_grace(Duration::from_millis(100)),
    )
    .await;
    let base = format!("ws://{}", server.local_addr());
    let lobby = stateroom_client::watch_rooms(&base, "sort=id")
        .await
        .expect("the lobby opens");
    let rooms = |lobby: &Client<serde_json::Value, serde_json::Value>| {
        lobby.rooms::<std::collections::BTreeMap<String, serde_json::Value>>()
    };
    until("an empty list", || rooms(&lobby).filter(|r| r.is_empty())).await;
    let player = Client::<TallyIn, TallyOut>::connect_with(&format!("{base}/ws/l1"), options())
        .await
        .expect("joins");
    let listed = until("the room listed", || {
        rooms(&lobby).filter(|r| r.contains_key("l1"))
    })
    .await;
    assert_eq!(listed["l1"]["clients"], 1);
    player.close();
    until("the room gone", || rooms(&lobby).filter(|r| r.is_empty())).await;
    // A query the directory cannot answer is refused before the upgrade.
    let refused = stateroom_client::watch_rooms(&base, "colour=red").await;
    assert!(matches!(
        refused,
        Err(ConnectError::Refused { status: 400, .. })
    ));
    lobby.close();
    server.shutdown().await;
}
