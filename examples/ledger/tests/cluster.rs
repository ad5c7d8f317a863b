//! The ledger on three nodes and one Redis (Debian's `redis-server`, started
//! by each test on its own unix socket with AOF `appendfsync always`):
//! placement with one owner per room, crash failover, a paused owner that
//! comes back fenced, a drain, Redis going away and coming back, and
//! HAProxy in front with the documented config. Every wait is bounded.
//! Leases last 3 s here (10 s by default).

use stateroom_test_support as support;
use stateroom_test_support::node;
use stateroom_test_support::numbered::Numbered;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::redis::Redis;
use support::*;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const LEDGER: &str = env!("CARGO_BIN_EXE_example-ledger");
const TTL: Duration = Duration::from_secs(3);
const TOKEN: &str = "cluster-admin";

/// A scratch directory under `target/`, fresh for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cluster-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the ledger's tests read of Redis.
trait LedgerKeys {
    fn owner(&self, room: &str) -> String;
    fn stored_fence(&self, room: &str) -> u64;
    fn stored_entries(&self, room: &str) -> usize;
}

impl LedgerKeys for Redis {
    /// The node id holding `room`'s lease ("" if none).
    fn owner(&self, room: &str) -> String {
        let lease = self.cli(&["GET", &format!("stateroom:lease:{{Ledger:{room}}}")]);
        lease.split('|').next().unwrap_or_default().to_owned()
    }

    /// The fence of `room`'s stored snapshot.
    fn stored_fence(&self, room: &str) -> u64 {
        let key = format!("stateroom:snap:{{Ledger:{room}}}");
        self.cli(&["HGET", &key, "fence"]).parse().unwrap_or(0)
    }

    /// How many entries `room`'s stored snapshot has.
    fn stored_entries(&self, room: &str) -> usize {
        let key = format!("stateroom:snap:{{Ledger:{room}}}");
        let state: Value =
            serde_json::from_str(&self.cli(&["HGET", &key, "state"])).unwrap_or(Value::Null);
        state["entries"].as_array().map_or(0, Vec::len)
    }
}

/// One ledger node.
struct Node {
    id: String,
    port: u16,
    internal: u16,
    process: Option<Running>,
    ttl: Duration,
}

impl Node {
    fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// Starts node `id` (or restarts it on the same ports).
    async fn start(redis: &Redis, id: &str, port: u16, internal: u16, data: &Path) -> Node {
        Self::start_with_ttl(redis, id, port, internal, data, TTL).await
    }

    /// [`start`](Self::start) with leases of `ttl`.
    async fn start_with_ttl(
        redis: &Redis,
        id: &str,
        port: u16,
        internal: u16,
        data: &Path,
        ttl: Duration,
    ) -> Node {
        let mut node = Node {
            id: id.to_owned(),
            port,
            internal,
            process: None,
            ttl,
        };
        node.restart(redis, data).await;
        node
    }

    async fn restart(&mut self, redis: &Redis, data: &Path) {
        let child = Command::new(LEDGER)
            .args(["--port", &self.port.to_string()])
            .args(["--cluster", &redis.url(), "--node-id", &self.id])
            .args(["--internal-addr", &format!("127.0.0.1:{}", self.internal)])
            .args(["--lease-ttl", &format!("{}ms", self.ttl.as_millis())])
            .args(["--admin-token", TOKEN, "--room-grace-ms", "60000"])
            .args([
                "--shutdown-timeout-ms",
                "3000",
                "--reconnect-window-ms",
                "1500",
            ])
            .arg("--data-dir")
            .arg(data.join(&self.id))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data.join(format!("{}.log", self.id))).unwrap())
            .spawn()
            .expect("the ledger starts");
        self.process = Some(Running(child));
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(self.addr()).await.is_err() {
            let log = std::fs::read_to_string(data.join(format!("{}.log", self.id)));
            assert!(
                Instant::now() < deadline,
                "{} never listened: {log:?}",
                self.id
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        wait_health(self.addr(), |h| h["status"] == "ok").await;
    }

    fn pid(&self) -> String {
        self.process.as_ref().expect("running").0.id().to_string()
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill").args([signal, &self.pid()]).status();
        assert!(sent.is_ok_and(|s| s.success()));
    }

    /// Waits until the process is in `state` (`/proc/PID/stat`: `T` stopped).
    async fn wait_state(&self, state: char) {
        let deadline = Instant::now() + WAIT;
        loop {
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
            let now = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim().chars().next());
            if now == Some(state) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never reached state {state}: {stat}",
                self.id
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn kill9(&mut self) {
        self.signal("-KILL");
        if let Some(mut process) = self.process.take() {
            let _ = process.0.wait();
            std::mem::forget(process);
        }
    }

    async fn terminate(&mut self) {
        if let Some(process) = self.process.take() {
            assert!(process.terminate().await.success());
        }
    }

    /// The rooms live on this node (its admin view).
    async fn rooms(&self) -> Vec<String> {
        let (status, body) = http(
            self.addr(),
            &format!(
                "GET /admin/rooms HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        // The admin view lists the whole cluster; this node's rooms are
        // those it owns.
        body["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|room| room["node"] == self.id.as_str())
            .map(|room| room["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Three nodes on one Redis.
async fn cluster(name: &str) -> (Redis, Vec<Node>, PathBuf) {
    let dir = scratch(name);
    let redis = Redis::start(&dir).await;
    let mut nodes = Vec::new();
    for id in ["n1", "n2", "n3"] {
        nodes.push(Node::start(&redis, id, free_port(), free_port(), &dir).await);
    }
    (redis, nodes, dir)
}

/// Whether the tests can run here (they need Debian's redis-server).
fn redis_here() -> bool {
    support::redis::installed()
}

/// Joins `room` on `addr` and reads the session frame.
async fn enter(addr: SocketAddr, room: &str) -> Ws {
    enter_as(addr, room).await.0
}

/// Joins `room` on `addr`; the socket and the client's id.
async fn enter_as(addr: SocketAddr, room: &str) -> (Ws, u64) {
    let mut ws = join(addr, room).await;
    let session = next_json(&mut ws).await;
    let client = session["stateroom"]["client"].as_u64();
    (
        ws,
        client.unwrap_or_else(|| panic!("a session frame: {session}")),
    )
}

/// Tries to join `room` on each address in turn until one takes it (a
/// client's backoff); `None` if none did by `deadline`.
async fn enter_any(addrs: &[SocketAddr], room: &str, deadline: Instant) -> Option<Ws> {
    let mut delay = Duration::from_millis(50);
    while Instant::now() < deadline {
        for addr in addrs {
            let url = format!("ws://{addr}/ws/{room}");
            let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
            if let Ok(Ok((mut ws, _))) = tokio::time::timeout(WAIT, connect).await {
                let session = next_json(&mut ws).await;
                assert!(session["stateroom"]["client"].is_number(), "{session}");
                return Some(ws);
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
    None
}

/// Adds 1; returns the acknowledged number of entries.
async fn add(ws: &mut Ws) -> u64 {
    send_text(ws, &json!({"type": "add", "amount": 1}).to_string()).await;
    let ack = next_json(ws).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ack["entries"].as_u64().unwrap()
}

/// The room's entries, as it says.
async fn entries(ws: &mut Ws) -> usize {
    send_text(ws, r#"{"type":"state"}"#).await;
    let state = next_json(ws).await;
    state["ledger"]["entries"].as_array().map_or(0, Vec::len)
}

/// Each room's owner per the nodes' admin views; fails on a room two list.
async fn owners(nodes: &[Node]) -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    for node in nodes.iter().filter(|n| n.process.is_some()) {
        for room in node.rooms().await {
            if let Some(other) = owners.insert(room.clone(), node.id.clone()) {
                panic!("room {room} is live on both {other} and {}", node.id);
            }
        }
    }
    owners
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_one_owner_per_room_and_joins_reach_it() {
    if !redis_here() {
        return;
    }
    let (redis, nodes, _dir) = cluster("placement").await;
    let addrs: Vec<SocketAddr> = nodes.iter().map(Node::addr).collect();
    // 200 rooms, each joined first on a node picked by a fixed pseudo-random
    // sequence, then again on another node: both see one room.
    let mut pick = 7u64;
    for r in 0..200 {
        let room = format!("room-{r}");
        pick = pick.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let first = addrs[(pick >> 33) as usize % 3];
        let second = addrs[((pick >> 33) as usize + 1) % 3];
        let mut a = enter(first, &room).await;
        assert_eq!(add(&mut a).await, 1, "{room}");
        let mut b = enter(second, &room).await;
        assert_eq!(
            add(&mut b).await,
            2,
            "{room}: the second node's client reached the same room"
        );
        let _ = a.close(None).await;
        let _ = b.close(None).await;
    }
    let owners = owners(&nodes).await;
    assert_eq!(owners.len(), 200, "every room live on exactly one node");
    for (room, node) in &owners {
        assert_eq!(
            &redis.owner(room),
            node,
            "{room}'s lease names the node serving it"
        );
    }
    let per_node: Vec<usize> = nodes
        .iter()
        .map(|n| owners.values().filter(|o| **o == n.id).count())
        .collect();
    assert!(
        per_node.iter().all(|&n| n > 20),
        "rooms spread over the nodes: {per_node:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_failover_keeps_every_acknowledged_entry() {
    if !redis_here() {
        return;
    }
    let (redis, mut nodes, _dir) = cluster("crash").await;
    let room = "counter";
    let (mut ws, gone) = enter_as(nodes[0].addr(), room).await;
    let mut acked = 0;
    for _ in 0..25 {
        acked = add(&mut ws).await;
    }
    let fence_before = redis.stored_fence(room);
    assert_eq!(redis.owner(room), "n1");
    nodes[0].kill9();
    drop(ws);
    let started = Instant::now();
    let others = [nodes[1].addr(), nodes[2].addr()];
    let mut ws = enter_any(
        &others,
        room,
        Instant::now() + TTL + Duration::from_secs(10),
    )
    .await
    .expect("another node serves the room after the lease runs out");
    let took = started.elapsed();
    assert!(
        took < TTL + Duration::from_secs(5),
        "failover took {took:?}"
    );
    assert_eq!(
        entries(&mut ws).await as u64,
        acked,
        "the last acknowledged value"
    );
    assert_eq!(add(&mut ws).await, acked + 1);
    assert!(redis.stored_fence(room) > fence_before, "the fence grew");
    assert!(["n2", "n3"].contains(&redis.owner(room).as_str()));
    // The client that never came back leaves once, on the new owner, when
    // its reconnection window (1.5 s here) runs out.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    send_text(&mut ws, r#"{"type":"state"}"#).await;
    let state = next_json(&mut ws).await;
    let departures = state["ledger"]["departures"].as_array().unwrap();
    let count = departures
        .iter()
        .filter(|id| id.as_u64() == Some(gone))
        .count();
    assert_eq!(
        count, 1,
        "exactly one disconnect for {gone}: {departures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbered_messages_through_a_crash_failover_apply_exactly_once() {
    if !redis_here() {
        return;
    }
    let (_redis, mut nodes, _dir) = cluster("exact").await;
    let add = |amount: u64| format!(r#"{{"type":"add","amount":{amount}}}"#);
    let mut client = Numbered::join(nodes[0].addr(), "exact").await;
    for amount in 1..=30 {
        client.send(add(amount)).await;
    }
    client.settle().await;
    for amount in 31..=100 {
        client.send(add(amount)).await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    nodes[0].kill9();
    let others = [nodes[1].addr(), nodes[2].addr()];
    client
        .resume_any(&others, Instant::now() + TTL + Duration::from_secs(10))
        .await;
    for amount in 101..=130 {
        client.send(add(amount)).await;
    }
    client.settle().await;
    client.send(r#"{"type":"state"}"#.to_owned()).await;
    let state = client.until(|v| v["type"] == "state").await;
    let entries: Vec<u64> = serde_json::from_value(state["ledger"]["entries"].clone()).unwrap();
    assert_eq!(
        entries,
        (1..=130).collect::<Vec<u64>>(),
        "every message applied once, in order, across the failover"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_setups_are_refused_at_startup_and_the_internal_port_wants_the_secret() {
    if !redis_here() {
        return;
    }
    let dir = scratch("refusals");
    // A Redis that can lose acknowledged writes: a gated service refuses it…
    let redis = Redis::start_with(&dir, &["--appendonly", "no"]).await;
    let start = |extra: &[&str]| {
        Command::new(LEDGER)
            .args([
                "--port",
                &free_port().to_string(),
                "--cluster",
                &redis.url(),
            ])
            .args(["--data-dir"])
            .arg(dir.join("data"))
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the ledger starts")
    };
    let refused = start(&[]).wait_with_output().unwrap();
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        why.contains("appendfsync") && why.contains("--accept-redis-durability"),
        "{why}"
    );
    // …unless the operator accepts it.
    let internal = free_port();
    let mut accepted = Running(start(&[
        "--accept-redis-durability",
        "--cluster-secret",
        "s3cret",
        "--internal-addr",
        &format!("127.0.0.1:{internal}"),
    ]));
    let internal: SocketAddr = ([127, 0, 0, 1], internal).into();
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(internal).await.is_err() {
        assert!(
            accepted.0.try_wait().unwrap().is_none(),
            "it should have started"
        );
        assert!(
            Instant::now() < deadline,
            "the internal port never listened"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // The internal port takes forwarded joins with the secret only.
    let upgrade = |secret: &str| {
        format!(
            "GET /ws/books HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             x-stateroom-hop: 1\r\n{secret}\r\n"
        )
    };
    assert_eq!(http(internal, &upgrade("")).await.0, 403);
    assert_eq!(
        http(internal, &upgrade("x-stateroom-secret: nope\r\n"))
            .await
            .0,
        403
    );
    let mut tcp = tokio::net::TcpStream::connect(internal).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut tcp,
        upgrade("x-stateroom-secret: s3cret\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut head = [0u8; 12];
    tokio::io::AsyncReadExt::read_exact(&mut tcp, &mut head)
        .await
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
    drop(tcp);
    let _ = accepted.0.kill();
    // A non-loopback internal address needs a secret.
    let open = start(&["--accept-redis-durability", "--internal-addr", "0.0.0.0:0"])
        .wait_with_output()
        .unwrap();
    let why = String::from_utf8_lossy(&open.stderr);
    assert!(!open.status.success());
    assert!(why.contains("--cluster-secret"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_comes_back_fenced_and_the_state_never_goes_back() {
    if !redis_here() {
        return;
    }
    let (redis, nodes, _dir) = cluster("paused").await;
    let room = "paused";
    let mut old = enter(nodes[0].addr(), room).await;
    for _ in 0..5 {
        add(&mut old).await;
    }
    nodes[0].signal("-STOP");
    nodes[0].wait_state('T').await;
    // The old owner's client keeps sending while it is frozen.
    send_text(&mut old, &json!({"type": "add", "amount": 100}).to_string()).await;
    tokio::time::sleep(TTL + Duration::from_millis(500)).await;
    let mut new = enter_any(&[nodes[1].addr()], room, Instant::now() + WAIT)
        .await
        .expect("n2 takes the room over");
    assert_eq!(redis.owner(room), "n2");
    assert_eq!(entries(&mut new).await, 5);
    for _ in 0..3 {
        add(&mut new).await;
    }
    let stored = redis.stored_entries(room);
    assert_eq!(stored, 8);
    nodes[0].signal("-CONT");
    // The old owner fences itself: its client gets 1012, not an ack.
    let deadline = Instant::now() + WAIT;
    let code = loop {
        assert!(
            Instant::now() < deadline,
            "the old owner never closed its client"
        );
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut old)).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(Message::Text(text)))) => {
                panic!("the fenced owner released a frame: {text}")
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) | Err(_) => break None,
        }
    };
    assert_eq!(code, Some(1012));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        redis.stored_entries(room),
        8,
        "the stored state never went back"
    );
    assert_eq!(entries(&mut new).await, 8);
    assert_eq!(redis.owner(room), "n2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_node_hands_its_rooms_over_without_1006() {
    if !redis_here() {
        return;
    }
    let (redis, mut nodes, _dir) = cluster("drain").await;
    let rooms = ["d1", "d2", "d3"];
    let mut clients = Vec::new();
    for room in rooms {
        let mut ws = enter(nodes[0].addr(), room).await;
        add(&mut ws).await;
        clients.push(ws);
    }
    nodes[0].terminate().await;
    for mut ws in clients {
        let code = loop {
            match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut ws)).await {
                Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => {}
                other => panic!("the socket ended without a close frame (1006): {other:?}"),
            }
        };
        assert_eq!(code, Some(1012), "service restart: reconnect");
    }
    let started = Instant::now();
    for room in rooms {
        let mut ws = enter(nodes[1].addr(), room).await;
        assert_eq!(entries(&mut ws).await, 1);
        assert_ne!(redis.owner(room), "n1");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the leases were released, not waited out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_rooms_fence_and_joins_get_503_then_come_back() {
    if !redis_here() {
        return;
    }
    let (mut redis, nodes, _dir) = cluster("redis-down").await;
    let room = "outage";
    let mut ws = enter(nodes[0].addr(), room).await;
    for _ in 0..4 {
        add(&mut ws).await;
    }
    redis.stop().await;
    // The room fences itself within the TTL.
    let started = Instant::now();
    let code = loop {
        match tokio::time::timeout(TTL * 3, futures_util::StreamExt::next(&mut ws)).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(code, Some(1012));
    assert!(
        started.elapsed() < TTL + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Every node says it is not ready (a balancer stops sending it joins).
    for node in &nodes {
        until_ready(node.addr(), 503, "store_unreachable").await;
    }
    // New joins get a clear 503; nothing crashes.
    for node in &nodes {
        let (status, body) = http(
            node.addr(),
            "GET /ws/outage HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(health(node.addr()).await["status"], "ok");
    }
    redis.restart().await;
    for node in &nodes {
        until_ready(node.addr(), 200, "ready").await;
    }
    let mut ws = enter_any(&[nodes[1].addr()], room, Instant::now() + WAIT)
        .await
        .expect("the room comes back");
    assert_eq!(entries(&mut ws).await, 4, "with its state (AOF)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_haproxy_removing_and_readding_a_node_keeps_one_owner() {
    if !redis_here() || !node::installed("haproxy") {
        return;
    }
    let (redis, mut nodes, dir) = cluster("haproxy").await;
    let ports: Vec<u16> = nodes.iter().map(|node| node.port).collect();
    let (haproxy, front) = support::haproxy::start_documented(&dir, &ports).await;
    let rooms: Vec<String> = (0..30).map(|r| format!("lb-{r}")).collect();
    for room in &rooms {
        let mut ws = enter(front, room).await;
        add(&mut ws).await;
    }
    assert_eq!(owners(&nodes).await.len(), 30);
    // Take n2 out (drain), let HAProxy see it, use every room, put it back.
    nodes[1].terminate().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for room in &rooms {
        let mut ws = enter_any(&[front], room, Instant::now() + WAIT)
            .await
            .expect("served");
        assert_eq!(entries(&mut ws).await, 1, "{room}");
    }
    nodes[1].restart(&redis, &dir).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for room in &rooms {
        let mut ws = enter_any(&[front], room, Instant::now() + WAIT)
            .await
            .expect("served");
        assert_eq!(add(&mut ws).await, 2, "{room}");
    }
    let owners = owners(&nodes).await;
    assert_eq!(owners.len(), 30, "one owner per room: {owners:?}");
    for (room, node) in &owners {
        assert_eq!(&redis.owner(room), node);
    }
    drop(haproxy);
}

/// A Redis hang (SIGSTOP) and a Redis restart (same AOF), each 4 s, shorter
/// than the default 10 s lease, under a client adding entries: nobody is
/// closed, every add is acknowledged (late, not lost), acks come back
/// within a second of Redis, and the room holds exactly what was acked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_blip_shorter_than_the_lease_closes_nobody_and_loses_nothing() {
    if !redis_here() {
        return;
    }
    let dir = scratch("blip");
    let mut redis = Redis::start(&dir).await;
    let node = Node::start_with_ttl(
        &redis,
        "b1",
        free_port(),
        free_port(),
        &dir,
        Duration::from_secs(10),
    )
    .await;
    let mut ws = enter(node.addr(), "blip").await;
    let mut acked = 0;
    let outage = Duration::from_secs(4);
    for blip in ["hang", "restart"] {
        for _ in 0..10 {
            acked = add(&mut ws).await;
        }
        match blip {
            "hang" => redis.signal("-STOP"),
            _ => redis.stop().await,
        }
        // An add during the outage: its ack waits for its save, and nothing
        // closes the client meanwhile.
        send_text(&mut ws, &json!({"type": "add", "amount": 1}).to_string()).await;
        let early = tokio::time::timeout(outage, next(&mut ws)).await;
        assert!(early.is_err(), "{blip}: during the outage: {early:?}");
        match blip {
            "hang" => redis.signal("-CONT"),
            _ => redis.restart().await,
        }
        let back = Instant::now();
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "ack", "{blip}: {reply}");
        assert_eq!(
            reply["entries"].as_u64(),
            Some(acked + 1),
            "{blip}: {reply}"
        );
        assert!(
            back.elapsed() <= Duration::from_secs(1),
            "{blip}: the ack came {:?} after Redis",
            back.elapsed()
        );
        for _ in 0..10 {
            acked = add(&mut ws).await;
        }
    }
    assert_eq!(
        entries(&mut ws).await as u64,
        acked,
        "exactly what was acked"
    );
    // The outage is in the metrics; the store is reachable again (at the
    // first renewal since Redis came back).
    let deadline = Instant::now() + WAIT;
    let metrics = loop {
        let (_, metrics) = get(node.addr(), "/metrics").await;
        let reachable = metrics
            .lines()
            .any(|line| line == "stateroom_cluster_store_reachable 1");
        if reachable || Instant::now() > deadline {
            break metrics;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    assert!(value("stateroom_cluster_lease_renewal_failures_total") >= 1.0);
    assert!(value("stateroom_cluster_lease_renewals_total") >= 1.0);
    assert_eq!(value("stateroom_cluster_store_reachable"), 1.0);
    assert_eq!(value("stateroom_cluster_leases"), 1.0);
    assert_eq!(value("stateroom_cluster_rooms_fenced_total"), 0.0);
    drop(node);
}

/// Waits until `/readyz` on `addr` answers `status` with `{"status": why}`.
async fn until_ready(addr: SocketAddr, status: u16, why: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (got, body) = get(addr, "/readyz").await;
        if got == status && body.contains(&format!(r#""status":"{why}""#)) {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz on {addr}: {got} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
