//! The arena on three nodes and one Redis (Debian's, on a unix socket of
//! the test's own), behind HAProxy with the documented config: the
//! directory lists every node's rooms on every node, matchmaking fills
//! two-seat races exactly across nodes, and a killed node's rooms leave the
//! directory within the lease and come back under their new owner, which a
//! live lobby sees as patches. Leases last 2 s here (10 s by default).

use futures_util::StreamExt;
use serde_json::{Value, json};
use stateroom::sync::SyncFrame;
use stateroom::testing::Synced;
use stateroom_test_support as support;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::redis::Redis;
use support::{Running, WAIT, Ws, free_port, http, wait_health};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const ARENA: &str = env!("CARGO_BIN_EXE_example-arena");
const TTL: Duration = Duration::from_secs(2);
const TOKEN: &str = "arena-admin";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("arena-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

struct Node {
    port: u16,
    process: Option<Running>,
}

impl Node {
    async fn start(redis: &Redis, id: &str, dir: &Path, extra: &[&str]) -> Node {
        let port = free_port();
        let log = std::fs::File::create(dir.join(format!("{id}.log"))).expect("a log file");
        let child = Command::new(ARENA)
            .args(["--port", &port.to_string()])
            .args(["--cluster", &redis.url(), "--node-id", id])
            .args(["--internal-addr", &format!("127.0.0.1:{}", free_port())])
            .args(["--lease-ttl", &format!("{}ms", TTL.as_millis())])
            .args(["--room-grace-ms", "60000"])
            .env("STATEROOM_ADMIN_TOKEN", TOKEN)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the arena starts");
        let node = Node {
            port,
            process: Some(Running(child)),
        };
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(node.addr()).await.is_err() {
            assert!(Instant::now() < deadline, "{id} never listened");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        wait_health(node.addr(), |h| h["status"] == "ok").await;
        node
    }

    fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    fn kill9(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.0.kill();
            let _ = process.0.wait();
            std::mem::forget(process);
        }
    }
}

async fn cluster(name: &str) -> Option<(Redis, Vec<Node>, PathBuf)> {
    cluster_with(name, &[]).await
}

async fn cluster_with(name: &str, extra: &[&str]) -> Option<(Redis, Vec<Node>, PathBuf)> {
    if !support::redis::installed() || !support::node::installed("haproxy") {
        return None;
    }
    let dir = scratch(name);
    let redis = Redis::start(&dir).await;
    let mut nodes = Vec::new();
    for id in ["n1", "n2", "n3"] {
        nodes.push(Node::start(&redis, id, &dir, extra).await);
    }
    Some((redis, nodes, dir))
}

async fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, body) = http(addr, &request).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// `GET /rooms?kind=race` on `addr`: each room's id and owner.
async fn races(addr: SocketAddr) -> HashMap<String, String> {
    let (status, body) = support::get(addr, "/rooms?kind=race").await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    body["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .map(|room| {
            let id = room["id"].as_str().unwrap_or_default().to_owned();
            (id, room["node"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Waits until `check` holds of `GET /rooms?kind=race` on `addr`.
async fn until_races(addr: SocketAddr, check: impl Fn(&HashMap<String, String>) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = races(addr).await;
        if check(&found) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the directory on {addr} holds {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn join(addr: SocketAddr, path: &str) -> Ws {
    let url = format!("ws://{addr}{path}");
    let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
    let (ws, _) = tokio::time::timeout(WAIT, connect)
        .await
        .expect("in time")
        .expect("joins");
    ws
}

#[tokio::test]
async fn matchmaking_fills_races_exactly_across_nodes_and_every_node_lists_them() {
    let Some((_redis, nodes, dir)) = cluster("matchmaking").await else {
        return;
    };
    let ports: Vec<u16> = nodes.iter().map(|node| node.port).collect();
    let (_haproxy, front) = support::haproxy::start_documented(&dir, &ports).await;
    // Through HAProxy and straight at each node, 200 calls at once.
    let targets: Vec<SocketAddr> = std::iter::once(front)
        .chain(nodes.iter().map(Node::addr))
        .collect();
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let target = targets[i % targets.len()];
            tokio::spawn(async move {
                let body =
                    json!({"filter": {"mode": "race"}, "options": {"name": format!("p{i}")}});
                post(target, "/matchmake/race", &body.to_string()).await
            })
        })
        .collect();
    let mut seats: HashMap<String, usize> = HashMap::new();
    let mut reservations = Vec::new();
    for call in calls {
        let (status, reservation) = call.await.expect("the call ran");
        assert_eq!(status, 200, "{reservation}");
        *seats
            .entry(reservation["room"].as_str().expect("a room").to_owned())
            .or_default() += 1;
        reservations.push(reservation);
    }
    assert_eq!(
        seats.len(),
        100,
        "200 seats in two-seat races fill 100 races"
    );
    assert!(seats.values().all(|taken| *taken == 2), "{seats:?}");
    // Every node lists all of them, each with its owner.
    for node in &nodes {
        until_races(node.addr(), |found| found.len() == 100).await;
    }
    let owners = races(nodes[2].addr()).await;
    assert!(
        owners
            .values()
            .all(|owner| ["n1", "n2", "n3"].contains(&owner.as_str()))
    );
    // A reservation is redeemed on any node: the join goes to the owner.
    let first = &reservations[0];
    let url = first["url"].as_str().expect("a url");
    let mut ws = join(nodes[1].addr(), url).await;
    let frame = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("in time");
    assert!(frame.is_some_and(|f| f.is_ok()));
    // The admin listener of any node says where each room is.
    let (status, body) = http(
        nodes[0].addr(),
        &format!("GET /admin/rooms?kind=race HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let admin: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(admin["rooms"].as_array().map(Vec::len), Some(100));
    assert!(
        admin["rooms"]
            .as_array()
            .expect("rooms")
            .iter()
            .all(|r| r["node"].is_string())
    );
}

#[tokio::test]
async fn a_killed_nodes_rooms_leave_the_directory_and_return_with_their_new_owner() {
    let Some((_redis, mut nodes, _dir)) = cluster("failover").await else {
        return;
    };
    // A live lobby on n3.
    let mut lobby = join(nodes[2].addr(), "/rooms?kind=race").await;
    let mut holds = Synced::default();
    let rooms = ["k1", "k2", "k3"];
    // Three races owned by n1 (their first join lands there).
    let mut players = Vec::new();
    for room in rooms {
        players.push(join(nodes[0].addr(), &format!("/ws/race/{room}")).await);
    }
    let owned_by = |holds: &Synced, node: &str| {
        holds.rooms.as_ref().is_some_and(|doc| {
            rooms
                .iter()
                .all(|room| doc.value[format!("race/{room}")]["node"] == node)
        })
    };
    read_lobby(&mut lobby, &mut holds, |h| owned_by(h, "n1")).await;
    let frames_before = holds.frames;

    nodes[0].kill9();
    drop(players);
    let killed = Instant::now();
    read_lobby(&mut lobby, &mut holds, |h| {
        h.rooms.as_ref().is_some_and(|doc| {
            rooms
                .iter()
                .all(|room| doc.value.get(format!("race/{room}")).is_none())
        })
    })
    .await;
    let gone_after = killed.elapsed();
    assert!(
        gone_after < TTL + Duration::from_secs(2),
        "the rooms left the directory {gone_after:?} after the kill"
    );
    // Their clients come back through n2: the rooms reopen there.
    let mut players = Vec::new();
    for room in rooms {
        let deadline = Instant::now() + WAIT;
        let ws = loop {
            let url = format!("ws://{}/ws/race/{room}", nodes[1].addr());
            match tokio_tungstenite::connect_async_with_config(url, None, true).await {
                Ok((ws, _)) => break ws,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("{room} never reopened: {error}"),
            }
        };
        players.push(ws);
    }
    read_lobby(&mut lobby, &mut holds, |h| owned_by(h, "n2")).await;
    assert!(
        holds.frames > frames_before + 1,
        "the lobby got the changes as patches"
    );
}

#[tokio::test]
async fn a_seat_reservation_expires_on_every_node_and_its_seat_is_free_again() {
    let Some((_redis, nodes, _dir)) =
        cluster_with("expiry", &["--seat-reservation", "700ms"]).await
    else {
        return;
    };
    let body = json!({"filter": {"mode": "race"}}).to_string();
    let (status, first) = post(nodes[0].addr(), "/matchmake/race", &body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["expires_in_ms"], 700, "the window is said");
    let (status, second) = post(nodes[1].addr(), "/matchmake/race", &body).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        first["room"], second["room"],
        "the second seat of the same race"
    );
    // Both seats are held: a third call gets another race.
    let (_, third) = post(nodes[2].addr(), "/matchmake/race", &body).await;
    assert_ne!(third["room"], first["room"]);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // Expired: refused on whichever node the client comes through.
    for (node, reservation) in [(&nodes[2], &first), (&nodes[0], &second)] {
        let url = format!(
            "ws://{}{}",
            node.addr(),
            reservation["url"].as_str().expect("a url")
        );
        match tokio_tungstenite::connect_async_with_config(url, None, true).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 410);
            }
            other => panic!("an expired reservation was taken: {:?}", other.map(|_| ())),
        }
    }
    // The seats are free again: matchmaking fills that race before any other.
    let (_, again) = post(nodes[1].addr(), "/matchmake/race", &body).await;
    assert!(
        again["room"] == first["room"] || again["room"] == third["room"],
        "{again}"
    );
    assert_eq!(again["created"], false);
    let url = again["url"].as_str().expect("a url");
    let _player = join(nodes[2].addr(), url).await;
}

/// Reads lobby frames into `holds` until `done`.
async fn read_lobby(lobby: &mut Ws, holds: &mut Synced, done: impl Fn(&Synced) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(holds) {
        let frame = tokio::time::timeout_at(deadline, lobby.next())
            .await
            .unwrap_or_else(|_| panic!("the lobby holds {:?}", holds.rooms))
            .expect("open")
            .expect("a frame");
        if let Message::Text(text) = frame
            && let Some(frame) = SyncFrame::from_json(&text)
        {
            holds.apply(frame).expect("the frame applies");
        }
    }
}
