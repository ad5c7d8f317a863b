//! Several room kinds in one server, the room directory, matchmaking with
//! reserved seats, the live lobby, and presence, against a real server.

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use stateroom::testing::Synced;
use stateroom::{ClientId, JoinRequest, Reject, Server, StateroomContext, sync::SyncFrame};
use stateroom_test_support::{WAIT, Ws, get, http, next_text};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct Lobby;

#[derive(Deserialize)]
struct Status {
    status: String,
}

#[stateroom::service(no_main, presence, listed)]
impl Lobby {
    fn message(&mut self, client: ClientId, msg: Status, ctx: &impl StateroomContext) {
        ctx.set_presence(client, &json!({ "status": msg.status }));
    }
}

/// A two-seat match; its `join` hook keeps the name a reservation carried.
#[derive(Default)]
struct Duel;

#[stateroom::service(no_main, listed)]
impl Duel {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_capacity(Some(2));
        Duel
    }

    fn join(&self, request: &JoinRequest) -> Result<String, Reject> {
        let name = request
            .reservation()
            .and_then(|options| options.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("anonymous");
        Ok(name.to_owned())
    }

    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let name = ctx
            .client_data::<String>(client)
            .cloned()
            .unwrap_or_default();
        ctx.send(client, &json!({ "hello": name }));
    }
}

/// Not listed: only the admin listener shows its rooms.
#[derive(Default)]
struct Secret;

#[stateroom::service(no_main)]
impl Secret {}

async fn start() -> stateroom::ServerHandle {
    Server::new()
        .host("127.0.0.1")
        .port(0)
        .room_grace(Duration::from_millis(200))
        .shutdown_delay(Duration::ZERO)
        .room::<Lobby>("lobby")
        .room::<Duel>("duel")
        .room::<Secret>("secret")
        .start_rooms()
        .await
        .expect("server starts")
}

async fn connect(addr: SocketAddr, path: &str) -> Result<Ws, u16> {
    let url = format!("ws://{addr}{path}");
    let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
    match tokio::time::timeout(WAIT, connect).await.expect("in time") {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("connect: {error}"),
    }
}

async fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, body) = http(addr, &request).await;
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, value)
}

async fn rooms(addr: SocketAddr, query: &str) -> (u16, Value) {
    let (status, body) = get(addr, &format!("/rooms{query}")).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

#[tokio::test]
async fn kinds_have_their_own_paths() {
    let server = start().await;
    let addr = server.local_addr();
    let mut duel = connect(addr, "/ws/duel/d1").await.expect("joins a duel");
    assert_eq!(next_text(&mut duel).await, r#"{"hello":"anonymous"}"#);
    assert_eq!(connect(addr, "/ws/d1").await.err(), Some(404), "no kind");
    assert_eq!(
        connect(addr, "/ws/chess/d1").await.err(),
        Some(404),
        "no such kind"
    );
    assert_eq!(
        connect(addr, "/ws/duel/a%20b").await.err(),
        Some(400),
        "bad id"
    );
    let listed = server.rooms().list();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].kind.as_str(), listed[0].id.as_str()),
        ("duel", "d1")
    );
    // The same id in another kind is another room.
    let _lobby = connect(addr, "/ws/lobby/d1")
        .await
        .expect("joins the lobby");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let kinds: Vec<String> = server.rooms().list().into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["duel", "lobby"]);
    // The metrics carry the kind; every kind is there from the start.
    let (status, metrics) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        r#"stateroom_kind_rooms{kind="duel"} 1"#,
        r#"stateroom_kind_clients{kind="lobby"} 1"#,
        r#"stateroom_kind_rooms{kind="secret"} 0"#,
        r#"stateroom_kind_connects_total{kind="duel"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    drop((duel, _lobby));
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_of_several_kinds_needs_them_served_together() {
    let error = Server::new()
        .port(0)
        .room::<Lobby>("lobby")
        .start::<Duel>()
        .await
        .expect_err("mixed");
    assert!(error.to_string().contains("start_rooms"), "{error}");
    let error = Server::new()
        .port(0)
        .room::<Lobby>("a")
        .room::<Duel>("a")
        .start_rooms()
        .await
        .expect_err("duplicate");
    assert!(error.to_string().contains("twice"), "{error}");
}

#[tokio::test]
async fn the_directory_lists_filters_and_hides_unlisted_kinds() {
    let server = start().await;
    let addr = server.local_addr();
    let _a = connect(addr, "/ws/duel/d1").await.unwrap();
    let _b = connect(addr, "/ws/lobby/main").await.unwrap();
    let _c = connect(addr, "/ws/secret/s1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, body) = rooms(addr, "").await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "the secret kind is not listed: {body}");
    assert!(!ids.contains(&"s1"));
    let (_, body) = rooms(addr, "?kind=duel").await;
    let duel = &body["rooms"][0];
    assert_eq!(duel["capacity"], 2);
    assert_eq!(duel["clients"], 1);
    assert_eq!(rooms(addr, "?kind=secret").await.0, 404);
    assert_eq!(rooms(addr, "?kind=nope").await.0, 404);
    assert_eq!(rooms(addr, "?colour=red").await.0, 400);
    assert_eq!(rooms(addr, "?sort=sideways").await.0, 400);
    // The room handle sees every kind.
    assert_eq!(server.rooms().list().len(), 3);
    drop((_a, _b, _c));
    server.shutdown().await;
}

#[tokio::test]
async fn matchmaking_fills_two_seat_rooms_exactly() {
    let server = start().await;
    let addr = server.local_addr();
    let calls = (0..200).map(|i| {
        tokio::spawn(async move {
            let body = json!({"filter": {"mode": "duel"}, "options": {"name": format!("p{i}")}});
            post(addr, "/matchmake/duel", &body.to_string()).await
        })
    });
    let mut seats: HashMap<String, Vec<Value>> = HashMap::new();
    for call in calls {
        let (status, reservation) = call.await.unwrap();
        assert_eq!(status, 200, "{reservation}");
        seats
            .entry(reservation["room"].as_str().unwrap().to_owned())
            .or_default()
            .push(reservation);
    }
    assert_eq!(seats.len(), 100, "200 seats in 2-seat rooms fill 100 rooms");
    assert!(seats.values().all(|seats| seats.len() == 2));
    // Every room the matchmaker made took the filter as its metadata.
    let (_, body) = rooms(addr, "?kind=duel&filter[mode]=duel").await;
    assert_eq!(body["rooms"].as_array().unwrap().len(), 100);
    assert!(
        body["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["reserved"] == 2)
    );

    // The reservations are redeemed once each; the join hook reads its options.
    let (_, pair) = seats.iter().next().unwrap();
    let room = pair[0]["room"].as_str().unwrap();
    let mut first = connect(addr, pair[0]["url"].as_str().unwrap())
        .await
        .unwrap();
    let hello: Value = serde_json::from_str(&next_text(&mut first).await).unwrap();
    assert!(hello["hello"].as_str().unwrap().starts_with('p'), "{hello}");
    let reused = connect(addr, pair[0]["url"].as_str().unwrap()).await;
    assert_eq!(reused.err(), Some(410), "a reservation is single-use");
    // The room is full: a join without a reservation is refused.
    assert_eq!(
        connect(addr, &format!("/ws/duel/{room}")).await.err(),
        Some(503)
    );
    let _second = connect(addr, pair[1]["url"].as_str().unwrap())
        .await
        .unwrap();
    // A bad token never reaches the hook.
    assert_eq!(
        connect(addr, &format!("/ws/duel/{room}?reservation=nope"))
            .await
            .err(),
        Some(410)
    );
    drop((first, _second));
    server.shutdown().await;
}

#[tokio::test]
async fn matchmaking_answers_bad_calls() {
    let server = start().await;
    let addr = server.local_addr();
    assert_eq!(post(addr, "/matchmake/chess", "{}").await.0, 404);
    assert_eq!(post(addr, "/matchmake/duel", "{").await.0, 400);
    assert_eq!(
        post(addr, "/matchmake/duel", r#"{"colour":1}"#).await.0,
        400
    );
    assert_eq!(get(addr, "/matchmake/duel").await.0, 405);
    let big = format!(r#"{{"options":"{}"}}"#, "x".repeat(70_000));
    assert_eq!(post(addr, "/matchmake/duel", &big).await.0, 413);
    // An empty body matchmakes with no filter.
    let (status, reservation) = post(addr, "/matchmake/duel", "").await;
    assert_eq!(status, 200, "{reservation}");
    assert_eq!(reservation["created"], true);
    // The handle does the same from Rust code, and fills the seat left.
    let query = stateroom::Query::default();
    let again = server
        .rooms()
        .matchmake("duel", &query, Value::Null)
        .await
        .unwrap();
    assert_eq!(again.room, reservation["room"].as_str().unwrap());
    assert!(!again.created);
    server.shutdown().await;
}

/// Reads frames until the client's synced model holds what `done` wants.
async fn until(ws: &mut Ws, synced: &mut Synced, done: impl Fn(&Synced) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done(synced) {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("in time; holds {synced:?}"))
            .expect("open")
            .expect("a frame");
        if let Message::Text(text) = frame
            && let Some(frame) = SyncFrame::from_json(&text)
        {
            synced.apply(frame).expect("the frame applies");
        }
    }
}

#[tokio::test]
async fn presence_reaches_every_client_as_diffs() {
    let server = start().await;
    let addr = server.local_addr();
    let mut ada = connect(addr, "/ws/lobby/main").await.unwrap();
    let mut ada_holds = Synced::default();
    until(&mut ada, &mut ada_holds, |s| {
        s.presence
            .as_ref()
            .is_some_and(|p| p.value.as_object().unwrap().len() == 1)
    })
    .await;
    let mut bob = connect(addr, "/ws/lobby/main").await.unwrap();
    let mut bob_holds = Synced::default();
    let two = |s: &Synced| {
        s.presence
            .as_ref()
            .is_some_and(|p| p.value.as_object().unwrap().len() == 2)
    };
    until(&mut bob, &mut bob_holds, two).await;
    until(&mut ada, &mut ada_holds, two).await;
    bob.send(Message::text(r#"{"status":"typing"}"#))
        .await
        .unwrap();
    let typing = |s: &Synced| {
        s.presence.as_ref().is_some_and(|p| {
            p.value
                .as_object()
                .unwrap()
                .values()
                .any(|v| v["status"] == "typing")
        })
    };
    until(&mut ada, &mut ada_holds, typing).await;
    bob.close(None).await.unwrap();
    until(&mut ada, &mut ada_holds, |s| {
        s.presence
            .as_ref()
            .is_some_and(|p| p.value.as_object().unwrap().len() == 1)
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_live_lobby_sends_changes_not_lists() {
    let server = start().await;
    let addr = server.local_addr();
    let mut lobby = connect(addr, "/rooms?kind=duel").await.unwrap();
    let mut holds = Synced::default();
    until(&mut lobby, &mut holds, |s| s.rooms.is_some()).await;
    assert_eq!(holds.rooms.as_ref().unwrap().value, json!({}));
    let duel = connect(addr, "/ws/duel/d1").await.unwrap();
    until(&mut lobby, &mut holds, |s| {
        s.rooms
            .as_ref()
            .is_some_and(|r| r.value["duel/d1"]["clients"] == 1)
    })
    .await;
    let frames_for_one_room = holds.frames;
    drop(duel);
    // Freed after its grace period: removed from the lobby.
    until(&mut lobby, &mut holds, |s| {
        s.rooms.as_ref().is_some_and(|r| r.value == json!({}))
    })
    .await;
    assert!(
        holds.frames > frames_for_one_room,
        "changes came as patches"
    );
    // Shutdown closes the lobby with 1001.
    let stop = tokio::spawn(server.shutdown());
    let code = stateroom_test_support::close_code(&mut lobby).await;
    assert_eq!(code.map(u16::from), Some(1001));
    stop.await.unwrap();
}

/// A persisted kind beside one in memory: its rooms are stored under their
/// path (`notes/n1`) and come back after a restart; the other kind's do not.
#[derive(Default, serde::Serialize, Deserialize)]
struct Notes {
    lines: Vec<String>,
}

#[stateroom::service(no_main, persist)]
impl Notes {
    fn message(&mut self, _client: ClientId, text: &str, ctx: &impl StateroomContext) {
        self.lines.push(text.to_owned());
        ctx.send(stateroom::MessageRecipient::Broadcast, &self.lines);
    }
}

#[tokio::test]
async fn each_kind_keeps_its_own_persistence() {
    use stateroom_test_support::memstore::MemStore;
    use std::sync::Arc;
    let store = Arc::new(MemStore::default());
    let start = |store: Arc<MemStore>| async move {
        Server::new()
            .host("127.0.0.1")
            .port(0)
            .shutdown_delay(Duration::ZERO)
            .store(store)
            .room::<Notes>("notes")
            .room::<Lobby>("lobby")
            .start_rooms()
            .await
            .expect("server starts")
    };
    let server = start(store.clone()).await;
    let addr = server.local_addr();
    let mut notes = connect(addr, "/ws/notes/n1").await.unwrap();
    notes.send(Message::text("first")).await.unwrap();
    assert_eq!(next_text(&mut notes).await, r#"["first"]"#);
    let _lobby = connect(addr, "/ws/lobby/n1").await.unwrap();
    drop((notes, _lobby));
    server.shutdown().await;
    // Stored under the first kind's service name, by path.
    let stored = store
        .state("Notes", "notes/n1")
        .expect("the notes room is stored");
    assert_eq!(stored["lines"], json!(["first"]));
    assert!(
        store.get("Notes", "lobby/n1").is_none(),
        "the lobby is not persisted"
    );

    let server = start(store.clone()).await;
    let mut notes = connect(server.local_addr(), "/ws/notes/n1").await.unwrap();
    notes.send(Message::text("second")).await.unwrap();
    assert_eq!(next_text(&mut notes).await, r#"["first","second"]"#);
    drop(notes);
    server.shutdown().await;
}

/// A room of one seat that also answers HTTP.
#[derive(Default)]
struct Booth;

#[stateroom::service(no_main)]
impl Booth {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_capacity(Some(1));
        Booth
    }

    fn request(
        &mut self,
        _request: &stateroom::RoomRequest,
        _ctx: &impl StateroomContext,
    ) -> stateroom::RoomResponse {
        stateroom::RoomResponse::json(&"open")
    }
}

#[test]
fn seats_are_for_joins_not_http_requests() {
    let mut room = stateroom::testing::TestRoom::<Booth>::new("booth");
    let _sitting = room.connect();
    // Full for another client, with the refusal clients retry on…
    let refused = room.join(stateroom::JoinRequest::new("booth"));
    assert_eq!(refused.expect_err("full").status().as_u16(), 503);
    // …while HTTP requests take no seat and are all answered.
    for _ in 0..20 {
        let request = stateroom::RoomRequest::new(stateroom::http::Method::GET, Vec::new());
        let response = room.request(stateroom::JoinRequest::new("booth"), request);
        assert_eq!(response.expect("answered").status().as_u16(), 200);
    }
    assert_eq!(room.listing().reserved, 0, "no seat held by a request");
}
