//! The ledger cluster on Redis Sentinel (Debian's `redis-server` and
//! `redis-sentinel`, started by the test on ports of its own): a primary,
//! two replicas and three sentinels. The primary is killed (`kill -9`)
//! under a client adding entries; Sentinel promotes a replica, the nodes
//! follow it, and every acknowledged entry is still there (each save waits
//! for a replica's `WAIT` before it counts), with one owner throughout.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use support::redis::{Redis, Sentinel, sentinel_installed};
use support::*;
use tokio::time::Instant;

/// Adds 1 and waits (bounded) for its ack: the acknowledged count, or
/// `None` when no ack came in `wait`.
async fn try_add(ws: &mut Ws, wait: Duration) -> Option<u64> {
    send_text(ws, &json!({"type": "add", "amount": 1}).to_string()).await;
    let reply = tokio::time::timeout(wait, next_json(ws)).await.ok()?;
    assert_eq!(reply["type"], "ack", "{reply}");
    reply["entries"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_under_writes_loses_no_acknowledged_entry() {
    if !sentinel_installed() {
        return;
    }
    let dir = scratch("sentinel");
    let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
    let fast_sync = ["--repl-diskless-sync-delay", "0"];
    let mut primary = Redis::start_tcp(&dir.join("r0"), ports[0], &fast_sync).await;
    let primary_port = ports[0].to_string();
    let replica_of = [
        "--replicaof",
        "127.0.0.1",
        primary_port.as_str(),
        "--repl-diskless-sync-delay",
        "0",
    ];
    let _replicas = [
        Redis::start_tcp(&dir.join("r1"), ports[1], &replica_of).await,
        Redis::start_tcp(&dir.join("r2"), ports[2], &replica_of).await,
    ];
    let mut sentinels = Vec::new();
    for (i, port) in ports[3..].iter().enumerate() {
        sentinels.push(Sentinel::start(&dir.join(format!("s{i}")), *port, ports[0]).await);
    }
    // Both replicas are in sync and the sentinels know them before
    // anything depends on them.
    let deadline = Instant::now() + WAIT;
    while primary
        .cli(&["INFO", "replication"])
        .matches("state=online")
        .count()
        < 2
        || sentinels.iter().any(|s| s.replicas() < 2)
    {
        assert!(Instant::now() < deadline, "the replicas never came online");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!(
        "redis+sentinel://{}/{}",
        sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port()))
            .collect::<Vec<_>>()
            .join(","),
        Sentinel::MASTER
    );
    let lease = Duration::from_secs(10);
    let n1 = Node::start_at(&url, "s1", (free_port(), free_port()), &dir, lease).await;
    let n2 = Node::start_at(&url, "s2", (free_port(), free_port()), &dir, lease).await;

    let mut ws = enter(n1.addr(), "ha").await;
    let mut acked = 0;
    for _ in 0..20 {
        acked = add(&mut ws).await;
    }
    primary.kill9();
    let killed = Instant::now();
    // Keep adding: an add whose ack does not come is still pending (its
    // save retries while the lease holds); the next ack covers it.
    let mut sent = acked;
    let mut first_ack = None;
    while killed.elapsed() < Duration::from_secs(20) {
        sent += 1;
        if let Some(count) = try_add(&mut ws, Duration::from_secs(15)).await {
            assert_eq!(count, sent, "every add applied once, in order");
            first_ack.get_or_insert_with(|| killed.elapsed());
            acked = count;
            if acked >= 40 {
                break;
            }
        }
    }
    assert!(
        acked >= 40,
        "acks resumed after the failover: {acked} of {sent}"
    );
    let promoted = sentinels[0].primary().expect("a primary");
    assert_ne!(promoted, ports[0], "Sentinel promoted a replica");
    eprintln!(
        "sentinel failover: the first ack {first_ack:?} after the kill, {acked} acknowledged"
    );
    // Everything acknowledged is on the new primary, under one owner, and
    // a join through the other node reaches that owner.
    let new_primary = Redis::attach_tcp(promoted);
    assert_eq!(new_primary.stored_entries("ha") as u64, acked);
    assert_eq!(new_primary.owner("ha"), "s1");
    let mut other = enter(n2.addr(), "ha").await;
    assert_eq!(entries(&mut other).await as u64, acked);
    assert_eq!(add(&mut other).await, acked + 1);
}
