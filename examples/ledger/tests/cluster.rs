//! The ledger on three nodes and one Redis: placement with one owner per
//! room, crash failover, a paused owner that comes back fenced, a drain,
//! Redis going away and coming back, and HAProxy in front with the
//! documented config. `faults.rs` has the blips, the fast failover and the
//! operator's controls.

mod common;

use common::*;
use serde_json::json;
use stateroom_test_support::node;
use stateroom_test_support::numbered::Numbered;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::redis::Redis;
use support::*;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

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
    // A secret on the command line is refused (`ps` would show it); from a
    // file it is taken.
    let shown = start(&["--accept-redis-durability", "--cluster-secret", "s3cret"])
        .wait_with_output()
        .unwrap();
    assert_eq!(shown.status.code(), Some(2));
    let why = String::from_utf8_lossy(&shown.stderr);
    assert!(why.contains("STATEROOM_CLUSTER_SECRET"), "{why}");
    let secret_file = dir.join("cluster-secret");
    std::fs::write(&secret_file, "s3cret\n").unwrap();
    let internal = free_port();
    let mut accepted = Running(start(&[
        "--accept-redis-durability",
        "--cluster-secret-file",
        secret_file.to_str().unwrap(),
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
    // A link between nodes wants the secret too, and its own upgrade; one
    // that breaks the link's protocol is closed, and the port goes on.
    let link = |headers: &str| {
        format!("GET /__stateroom/link HTTP/1.1\r\nHost: t\r\nx-stateroom-hop: 1\r\n{headers}\r\n")
    };
    let upgrade_link = "Connection: upgrade\r\nUpgrade: stateroom-link\r\n";
    assert_eq!(http(internal, &link(upgrade_link)).await.0, 403);
    let no_upgrade = link("x-stateroom-secret: s3cret\r\nConnection: close\r\n");
    assert_eq!(http(internal, &no_upgrade).await.0, 400);
    for _ in 0..2 {
        let mut tcp = tokio::net::TcpStream::connect(internal).await.unwrap();
        let request = link(&format!("x-stateroom-secret: s3cret\r\n{upgrade_link}"));
        tokio::io::AsyncWriteExt::write_all(&mut tcp, request.as_bytes())
            .await
            .unwrap();
        tokio::io::AsyncReadExt::read_exact(&mut tcp, &mut head)
            .await
            .unwrap();
        assert_eq!(&head, b"HTTP/1.1 101");
        // A frame of a kind no node sends.
        tokio::io::AsyncWriteExt::write_all(&mut tcp, &[9, 0, 0, 0, 1, 0, 0, 0, 0])
            .await
            .unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(
            WAIT,
            tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut rest),
        )
        .await;
        assert!(closed.is_ok(), "a link that broke the protocol stayed open");
        assert!(
            String::from_utf8_lossy(&rest).ends_with("\r\n\r\n"),
            "the node sent more than its 101: {rest:?}"
        );
    }
    let _ = accepted.0.kill();
    // A non-loopback internal address needs a secret.
    let open = start(&["--accept-redis-durability", "--internal-addr", "0.0.0.0:0"])
        .wait_with_output()
        .unwrap();
    let why = String::from_utf8_lossy(&open.stderr);
    assert!(!open.status.success());
    assert!(why.contains("STATEROOM_CLUSTER_SECRET"), "{why}");
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
    // New joins get a clear 503 (ten per node); nothing crashes, and the
    // logs say so once per outage, not once per join.
    for node in &nodes {
        for _ in 0..10 {
            let (status, body) = http(
                node.addr(),
                "GET /ws/outage HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            )
            .await;
            assert_eq!(status, 503, "{body}");
        }
        assert_eq!(health(node.addr()).await["status"], "ok");
    }
    for node in &nodes {
        let log = std::fs::read_to_string(_dir.join(format!("{}.log", node.id))).unwrap();
        let warnings = log.lines().filter(|line| line.contains("WARN")).count();
        assert!(warnings <= 6, "{} warned {warnings} times:\n{log}", node.id);
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
