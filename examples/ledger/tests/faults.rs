//! The ledger cluster under faults and an operator's hands: a Redis blip
//! shorter than the lease, a dead or frozen owner's rooms moving within
//! the node TTL, and `/admin/owner`, `/admin/nodes`, a revocation and a
//! drain.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use support::redis::Redis;
use support::*;
use tokio::time::Instant;

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

/// Three nodes with the default 10 s lease (and 2 s node heartbeat).
async fn default_cluster(name: &str) -> (Redis, Vec<Node>, std::path::PathBuf) {
    let dir = scratch(name);
    let redis = Redis::start(&dir).await;
    let mut nodes = Vec::new();
    for id in ["n1", "n2", "n3"] {
        let ttl = Duration::from_secs(10);
        nodes.push(Node::start_with_ttl(&redis, id, free_port(), free_port(), &dir, ttl).await);
    }
    // Each node judges others dead only after hearing its own heartbeat
    // for a whole node TTL.
    tokio::time::sleep(Duration::from_secs(2)).await;
    (redis, nodes, dir)
}

/// Reads the close code a client gets, failing on any frame before it.
async fn close_code(ws: &mut Ws, why: &str) -> Option<u16> {
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(ws)).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(Message::Text(text)))) => panic!("{why}: a frame leaked: {text}"),
            Ok(Some(Ok(_))) => {}
            other => panic!("{why}: no close frame: {other:?}"),
        }
    }
}

/// With the default 10 s lease, a killed owner's room and a frozen
/// owner's room each move within about the node TTL (2 s), with every
/// acknowledged entry; the frozen owner, once it thaws, closes its client
/// with 1012 and never releases a frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_or_frozen_owner_s_rooms_move_within_the_node_ttl() {
    if !redis_here() {
        return;
    }
    let (redis, mut nodes, _dir) = default_cluster("fast").await;
    let lease = Duration::from_secs(10);

    let mut ws = enter(nodes[0].addr(), "killed").await;
    let mut acked = 0;
    for _ in 0..10 {
        acked = add(&mut ws).await;
    }
    nodes[0].kill9();
    drop(ws);
    let started = Instant::now();
    let others = [nodes[1].addr(), nodes[2].addr()];
    let mut ws = enter_any(&others, "killed", Instant::now() + lease)
        .await
        .expect("another node takes the killed node's room");
    let after_kill = started.elapsed();
    assert_eq!(entries(&mut ws).await as u64, acked, "every acked entry");
    assert!(
        after_kill < lease / 2,
        "the room moved {after_kill:?} after kill -9: the node TTL, not the lease, should rule"
    );

    let mut frozen = enter(nodes[1].addr(), "frozen").await;
    for _ in 0..5 {
        acked = add(&mut frozen).await;
    }
    nodes[1].signal("-STOP");
    nodes[1].wait_state('T').await;
    send_text(
        &mut frozen,
        &json!({"type": "add", "amount": 1}).to_string(),
    )
    .await;
    let started = Instant::now();
    let mut moved = enter_any(&[nodes[2].addr()], "frozen", Instant::now() + lease)
        .await
        .expect("another node takes the frozen node's room");
    let after_stop = started.elapsed();
    assert_eq!(entries(&mut moved).await as u64, acked);
    assert_eq!(redis.owner("frozen"), "n3");
    assert!(
        after_stop < lease / 2,
        "the room moved {after_stop:?} after SIGSTOP"
    );
    eprintln!("failover: {after_kill:?} after kill -9, {after_stop:?} after SIGSTOP");
    assert_eq!(add(&mut moved).await, acked + 1);
    nodes[1].signal("-CONT");
    assert_eq!(
        close_code(&mut frozen, "the thawed owner").await,
        Some(1012),
        "service restart: reconnect"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(redis.stored_entries("frozen") as u64, acked + 1);
    assert_eq!(entries(&mut moved).await as u64, acked + 1);
}

/// Sends `method path` with the admin token to `addr`.
async fn admin(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = http(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    (status, body)
}

/// Any node says who owns a room and which nodes live; an operator revokes
/// a frozen node (its room moves at once, and the node, thawed, fences it
/// and says not-ready until the revocation lapses) and drains another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_find_owners_list_nodes_revoke_a_frozen_node_and_drain_one() {
    if !redis_here() {
        return;
    }
    let (redis, nodes, _dir) = cluster("steer").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut first = enter(nodes[0].addr(), "steer").await;
    for _ in 0..3 {
        add(&mut first).await;
    }
    let (status, owner) = admin(nodes[2].addr(), "GET", "/admin/owner/steer").await;
    assert_eq!(status, 200, "{owner}");
    assert_eq!(owner["node"], "n1", "{owner}");
    assert_eq!(owner["alive"], true, "{owner}");
    assert!(owner["fence"].as_u64().unwrap() >= 1, "{owner}");
    let (status, _) = admin(nodes[2].addr(), "GET", "/admin/owner/nobody").await;
    assert_eq!(status, 404);
    let (status, _) = get(nodes[2].addr(), "/admin/owner/steer").await;
    assert_eq!(status, 401, "the token is wanted");
    let (status, listed) = admin(nodes[1].addr(), "GET", "/admin/nodes").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["node"], "n2");
    let live: Vec<&str> = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|node| node["state"] == "live")
        .map(|node| node["node"].as_str().unwrap())
        .collect();
    assert_eq!(live, ["n1", "n2", "n3"], "{listed}");

    // Revoke a frozen owner: its room moves at once, not after a TTL.
    nodes[0].signal("-STOP");
    nodes[0].wait_state('T').await;
    let (status, revoked) = admin(nodes[1].addr(), "POST", "/admin/nodes/n1/revoke").await;
    assert_eq!(
        (status, &revoked["revoked"]),
        (200, &json!(true)),
        "{revoked}"
    );
    let started = Instant::now();
    let mut second = enter(nodes[1].addr(), "steer").await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the revoked node's room moved in {:?}",
        started.elapsed()
    );
    assert_eq!(entries(&mut second).await, 3);
    assert_eq!(redis.owner("steer"), "n2");
    let (_, listed) = admin(nodes[2].addr(), "GET", "/admin/nodes").await;
    assert!(
        listed["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|node| node["node"] == "n1" && node["state"] == "revoked"),
        "{listed}"
    );
    nodes[0].signal("-CONT");
    assert_eq!(close_code(&mut first, "the revoked node").await, Some(1012));
    until_ready(nodes[0].addr(), 503, "revoked").await;
    until_ready(nodes[0].addr(), 200, "ready").await;
    let (status, _) = admin(nodes[1].addr(), "POST", "/admin/nodes/n2/revoke").await;
    assert_eq!(status, 409, "a node does not revoke itself");

    // Drain n2: its client gets 1012, it says not-ready, the room moves.
    let (status, drained) = admin(nodes[1].addr(), "POST", "/admin/drain").await;
    assert_eq!((status, &drained["draining"]), (202, &json!(true)));
    assert_eq!(
        close_code(&mut second, "the drained node").await,
        Some(1012)
    );
    until_ready(nodes[1].addr(), 503, "shutting_down").await;
    let mut third = enter_any(&[nodes[2].addr()], "steer", Instant::now() + WAIT)
        .await
        .expect("the drained room moves");
    assert_eq!(entries(&mut third).await, 3);
    assert_eq!(redis.owner("steer"), "n3");
    assert_eq!(
        health(nodes[1].addr()).await["status"],
        "ok",
        "still running"
    );
}
