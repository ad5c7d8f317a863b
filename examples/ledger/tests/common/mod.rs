//! What the ledger's cluster tests share: three nodes on one Redis
//! (Debian's `redis-server`, started by each test on its own unix socket
//! with AOF `appendfsync always`), and a client's moves. Every wait is
//! bounded. Leases last 3 s here (10 s by default).

#![allow(dead_code)] // each test binary uses its own part

pub(crate) use stateroom_test_support as support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::redis::Redis;
use support::*;
use tokio::time::Instant;

pub(crate) const LEDGER: &str = env!("CARGO_BIN_EXE_example-ledger");
pub(crate) const TTL: Duration = Duration::from_secs(3);
pub(crate) const TOKEN: &str = "cluster-admin";

/// A scratch directory under `target/`, fresh for each test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cluster-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the ledger's tests read of Redis.
pub(crate) trait LedgerKeys {
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
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) port: u16,
    pub(crate) internal: u16,
    pub(crate) process: Option<Running>,
    pub(crate) ttl: Duration,
}

impl Node {
    pub(crate) fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// Starts node `id` (or restarts it on the same ports).
    pub(crate) async fn start(
        redis: &Redis,
        id: &str,
        port: u16,
        internal: u16,
        data: &Path,
    ) -> Node {
        Self::start_with_ttl(redis, id, port, internal, data, TTL).await
    }

    /// [`start`](Self::start) with leases of `ttl`.
    pub(crate) async fn start_with_ttl(
        redis: &Redis,
        id: &str,
        port: u16,
        internal: u16,
        data: &Path,
        ttl: Duration,
    ) -> Node {
        Self::start_at(&redis.url(), id, (port, internal), data, ttl).await
    }

    /// Starts node `id` on the cluster at `url` with leases of `ttl`.
    pub(crate) async fn start_at(
        url: &str,
        id: &str,
        (port, internal): (u16, u16),
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
        node.spawn(url, data).await;
        node
    }

    /// Starts it again (after a kill) on the same ports.
    pub(crate) async fn restart(&mut self, redis: &Redis, data: &Path) {
        self.spawn(&redis.url(), data).await;
    }

    async fn spawn(&mut self, url: &str, data: &Path) {
        let child = Command::new(LEDGER)
            .args(["--port", &self.port.to_string()])
            .args(["--cluster", url, "--node-id", &self.id])
            .args(["--internal-addr", &format!("127.0.0.1:{}", self.internal)])
            .args(["--lease-ttl", &format!("{}ms", self.ttl.as_millis())])
            .args(["--room-grace-ms", "60000"])
            .env("STATEROOM_ADMIN_TOKEN", TOKEN)
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

    pub(crate) fn pid(&self) -> String {
        self.process.as_ref().expect("running").0.id().to_string()
    }

    pub(crate) fn signal(&self, signal: &str) {
        let sent = Command::new("kill").args([signal, &self.pid()]).status();
        assert!(sent.is_ok_and(|s| s.success()));
    }

    /// Waits until the process is in `state` (`/proc/PID/stat`: `T` stopped).
    pub(crate) async fn wait_state(&self, state: char) {
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

    pub(crate) fn kill9(&mut self) {
        self.signal("-KILL");
        if let Some(mut process) = self.process.take() {
            let _ = process.0.wait();
            std::mem::forget(process);
        }
    }

    pub(crate) async fn terminate(&mut self) {
        if let Some(process) = self.process.take() {
            assert!(process.terminate().await.success());
        }
    }

    /// The rooms live on this node (its admin view).
    pub(crate) async fn rooms(&self) -> Vec<String> {
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
pub(crate) async fn cluster(name: &str) -> (Redis, Vec<Node>, PathBuf) {
    let dir = scratch(name);
    let redis = Redis::start(&dir).await;
    let mut nodes = Vec::new();
    for id in ["n1", "n2", "n3"] {
        nodes.push(Node::start(&redis, id, free_port(), free_port(), &dir).await);
    }
    (redis, nodes, dir)
}

/// Whether the tests can run here (they need Debian's redis-server).
pub(crate) fn redis_here() -> bool {
    support::redis::installed()
}

/// Joins `room` on `addr` and reads the session frame.
pub(crate) async fn enter(addr: SocketAddr, room: &str) -> Ws {
    enter_as(addr, room).await.0
}

/// Joins `room` on `addr`; the socket and the client's id.
pub(crate) async fn enter_as(addr: SocketAddr, room: &str) -> (Ws, u64) {
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
pub(crate) async fn enter_any(addrs: &[SocketAddr], room: &str, deadline: Instant) -> Option<Ws> {
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
pub(crate) async fn add(ws: &mut Ws) -> u64 {
    send_text(ws, &json!({"type": "add", "amount": 1}).to_string()).await;
    let ack = next_json(ws).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ack["entries"].as_u64().unwrap()
}

/// The room's entries, as it says.
pub(crate) async fn entries(ws: &mut Ws) -> usize {
    send_text(ws, r#"{"type":"state"}"#).await;
    let state = next_json(ws).await;
    state["ledger"]["entries"].as_array().map_or(0, Vec::len)
}

/// Each room's owner per the nodes' admin views; fails on a room two list.
pub(crate) async fn owners(nodes: &[Node]) -> BTreeMap<String, String> {
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

/// Waits until `/readyz` on `addr` answers `status` with `{"status": why}`.
pub(crate) async fn until_ready(addr: SocketAddr, status: u16, why: &str) {
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
