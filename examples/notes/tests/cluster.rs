//! The notes on three nodes and one Redis (Debian's, on a unix socket of the
//! test's own), behind HAProxy with the documented config, edited by stock
//! `y-websocket` providers (`clients/js/test/yjs-cluster.test.mjs`): the
//! owner of the note is killed with SIGKILL mid-typing, the providers
//! reconnect through HAProxy to the node that takes the room over (which
//! loads the document from Redis), and they converge with nothing any
//! client had received lost. Leases last 2 s here (10 s by default).

use stateroom_test_support as support;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::redis::Redis;
use support::{Running, WAIT, free_port, wait_health};
use tokio::time::Instant;

const NOTES: &str = env!("CARGO_BIN_EXE_example-notes");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("notes-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

async fn start_node(redis: &Redis, id: &str, dir: &Path) -> (Running, u16) {
    let port = free_port();
    let log = std::fs::File::create(dir.join(format!("{id}.log"))).expect("a log file");
    let child = Command::new(NOTES)
        .args(["--port", &port.to_string()])
        .args(["--cluster", &redis.url(), "--node-id", id])
        .args(["--internal-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--lease-ttl", "2000ms"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the notes server starts");
    let addr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "{id} never listened");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    wait_health(addr, |h| h["status"] == "ok").await;
    (Running(child), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_survive_the_owners_kill_9_through_haproxy() {
    if !support::redis::installed()
        || !support::node::installed("haproxy")
        || !support::node::installed("node")
    {
        return;
    }
    let dir = scratch("failover");
    let redis = Redis::start(&dir).await;
    let mut nodes = Vec::new();
    for id in ["n1", "n2", "n3"] {
        nodes.push((id, start_node(&redis, id, &dir).await));
    }
    let ports: Vec<u16> = nodes.iter().map(|(_, (_, port))| *port).collect();
    let (_haproxy, front) = support::haproxy::start_documented(&dir, &ports).await;
    // The script finds the room's owner in the directory and kills it by pid.
    let described = nodes
        .iter()
        .map(|(id, (process, port))| {
            format!(r#"{{"id":"{id}","port":{port},"pid":{}}}"#, process.0.id())
        })
        .collect::<Vec<_>>()
        .join(",");
    let nodes_json = format!("[{described}]");
    let front_url = format!("ws://{front}");
    let script = tokio::task::spawn_blocking(move || {
        support::node::node_test(
            &["test/yjs-cluster.test.mjs"],
            &[
                ("STATEROOM_NOTES_FRONT", Path::new(&front_url)),
                ("STATEROOM_NOTES_NODES", Path::new(&nodes_json)),
            ],
        );
    });
    let result = script.await;
    drop(nodes);
    drop(redis);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}
