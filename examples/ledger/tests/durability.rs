//! The ledger's real binaries against real files: acknowledged entries
//! survive `kill -9` (in a loop), and so does every value an HTTP caller or
//! an app's handle command was told, timers survive restarts, a version 1 snapshot is
//! migrated, an undecodable one is refused and left byte for byte, one
//! process per data directory, and one `disconnect` per client across a
//! restart.

use stateroom_test_support as support;

use serde_json::Value;
use stateroom_test_support::numbered::Numbered;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

/// A fresh data directory under `target/`.
fn data_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ledger-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts the ledger on `dir` and waits for it to listen.
async fn start_ledger(dir: &Path, extra: &[(&str, &str)]) -> (Running, SocketAddr) {
    start_binary(env!("CARGO_BIN_EXE_example-ledger"), dir, extra).await
}

/// Starts the ledger inside its axum app (`ledger-app`) on `dir`.
async fn start_app(dir: &Path) -> (Running, SocketAddr) {
    start_binary(env!("CARGO_BIN_EXE_ledger-app"), dir, &[]).await
}

async fn start_binary(path: &str, dir: &Path, extra: &[(&str, &str)]) -> (Running, SocketAddr) {
    start_binary_on(path, dir, extra, free_port()).await
}

async fn start_binary_on(
    path: &str,
    dir: &Path,
    extra: &[(&str, &str)],
    port: u16,
) -> (Running, SocketAddr) {
    let mut command = Command::new(path);
    command
        .env("STATEROOM_PORT", port.to_string())
        .env("PORT", port.to_string())
        .env("STATEROOM_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    for (key, value) in extra {
        command.env(key, value);
    }
    let running = Running(command.spawn().expect("the ledger starts"));
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ledger never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (running, addr)
}

/// Joins `room` and skips the session frame.
async fn enter(addr: SocketAddr, room: &str) -> Ws {
    let mut ws = join(addr, room).await;
    let session = next_json(&mut ws).await;
    assert!(session.get("stateroom").is_some(), "{session}");
    ws
}

async fn state(addr: SocketAddr, room: &str) -> Value {
    let mut ws = enter(addr, room).await;
    send_text(&mut ws, r#"{"type":"state"}"#).await;
    let reply = next_json(&mut ws).await;
    reply["ledger"].clone()
}

fn kill9(running: Running) {
    let pid = running.0.id().to_string();
    let status = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    assert!(status.success());
    drop(running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_entries_survive_kill_9_in_a_loop() {
    let dir = data_dir("crash");
    let mut acknowledged: i64 = 0;
    let mut entries = 0usize;
    for round in 0..5 {
        let (server, addr) = start_ledger(&dir, &[]).await;
        let restored = state(addr, "books").await;
        assert_eq!(
            restored["entries"].as_array().unwrap().len(),
            entries,
            "round {round}"
        );
        assert_eq!(restored["total"], acknowledged, "round {round}: {restored}");
        let mut ws = enter(addr, "books").await;
        // Fire a stream of adds, take some acks, and kill mid-stream.
        for _ in 0..200 {
            send_text(&mut ws, r#"{"type":"add","amount":1}"#).await;
        }
        for _ in 0..(40 + round * 30) {
            let ack = next_json(&mut ws).await;
            assert_eq!(ack["type"], "ack");
            acknowledged = ack["total"].as_i64().unwrap();
            assert_eq!(ack["entries"], acknowledged, "one entry of 1 per ack");
        }
        kill9(server);
        // What was saved may be more than what was acknowledged (the kill
        // came between a commit and its acks), never less.
        let (server, addr) = start_ledger(&dir, &[]).await;
        let after = state(addr, "books").await;
        let total = after["total"].as_i64().unwrap();
        assert!(
            total >= acknowledged,
            "round {round}: lost acknowledged entries: {total} < {acknowledged}"
        );
        assert_eq!(
            after["entries"].as_array().unwrap().len() as i64,
            total,
            "no torn snapshot"
        );
        acknowledged = total;
        entries = total as usize;
        kill9(server);
    }
}

/// One HTTP request on a fresh connection: its status and body, or `None`
/// when the server is gone (killed mid-request).
async fn try_http(addr: SocketAddr, request: String) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    tcp.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut response))
        .await
        .ok()?
        .ok()?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_owned()))
}

/// The total in a `Totals` reply.
fn told_total(body: &str) -> i64 {
    let totals: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body:?}"));
    assert_eq!(
        totals["entries"], totals["total"],
        "one entry of 1 each: {body}"
    );
    totals["total"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_told_over_http_or_by_a_handle_survives_kill_9() {
    let dir = data_dir("told");
    let mut told_max: i64 = 0;
    for round in 0..3 {
        let (server, addr) = start_app(&dir).await;
        // Two HTTP posters (the room's `request` hook) and two callers of
        // the app's own route (a handle's command), all adding 1.
        let mut callers = Vec::new();
        for caller in 0..4 {
            callers.push(tokio::spawn(async move {
                let mut max = 0;
                loop {
                    let request = if caller % 2 == 0 {
                        "POST /rooms/books HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{\"amount\":1}".to_owned()
                    } else {
                        "POST /credit/books/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                    };
                    match try_http(addr, request).await {
                        Some((200, body)) => max = max.max(told_total(&body)),
                        // Killed mid-request (no answer) or while going.
                        _ => return max,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + 200 * round)).await;
        kill9(server);
        for caller in callers {
            told_max = told_max.max(caller.await.unwrap());
        }
        assert!(told_max > 0, "round {round}: nobody was told anything");
        let (server, addr) = start_app(&dir).await;
        let (status, body) = try_http(
            addr,
            "GET /rooms/books HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
        )
        .await
        .expect("the restarted app answers");
        assert_eq!(status, 200, "{body}");
        let restored = told_total(&body);
        assert!(
            restored >= told_max,
            "round {round}: a caller was told {told_max}, the restart holds {restored}"
        );
        kill9(server);
    }
}

/// Adds `amount` as a numbered message.
fn add_of(amount: u64) -> String {
    format!(r#"{{"type":"add","amount":{amount}}}"#)
}

/// The ledger's entries, asked as a numbered message.
async fn numbered_entries(client: &mut Numbered) -> Vec<u64> {
    client.send(r#"{"type":"state"}"#.to_owned()).await;
    let state = client.until(|v| v["type"] == "state").await;
    serde_json::from_value(state["ledger"]["entries"].clone()).expect("entries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbered_messages_through_kill_9_apply_exactly_once() {
    let dir = data_dir("numbered");
    let (server, addr) = start_ledger(&dir, &[]).await;
    let mut client = Numbered::join(addr, "exact").await;
    for amount in 1..=50 {
        client.send(add_of(amount)).await;
    }
    client.settle().await;
    // Another 100 in flight, then kill -9 while the room is applying and
    // saving them: some are durable and acknowledged, some applied and lost,
    // some never arrived.
    for amount in 51..=150 {
        client.send(add_of(amount)).await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    kill9(server);
    let (server, addr) = start_ledger(&dir, &[]).await;
    client.resume(addr).await;
    for amount in 151..=200 {
        client.send(add_of(amount)).await;
    }
    client.settle().await;
    assert_eq!(
        numbered_entries(&mut client).await,
        (1..=200).collect::<Vec<u64>>(),
        "every message applied once, in order"
    );
    kill9(server);
}

/// The entries in a `Totals` reply.
fn entries_of(body: &str) -> u64 {
    let totals: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body:?}"));
    totals["entries"].as_u64().unwrap()
}

fn keyed_post(key: &str, amount: i64) -> String {
    let body = format!(r#"{{"amount":{amount}}}"#);
    format!(
        "POST /rooms/keyed HTTP/1.1\r\nHost: x\r\nIdempotency-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_the_first_answer_even_after_kill_9() {
    let dir = data_dir("keyed");
    let (server, addr) = start_ledger(&dir, &[]).await;
    let first = try_http(addr, keyed_post("pay-1", 5))
        .await
        .expect("an answer");
    assert_eq!(first.0, 200, "{first:?}");
    assert_eq!(entries_of(&first.1), 1);
    // A retry (the client never saw the answer): the same answer, applied once.
    let again = try_http(addr, keyed_post("pay-1", 5))
        .await
        .expect("an answer");
    assert_eq!(again, first);
    // The same key for another request is a client bug: 422.
    let (status, body) = try_http(addr, keyed_post("pay-1", 7))
        .await
        .expect("an answer");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("idempotency_key_reused"), "{body}");
    let (status, body) = try_http(addr, keyed_post("has space", 1))
        .await
        .expect("an answer");
    assert_eq!(status, 400, "{body}");
    // The remembered answer is in the snapshot: it survives kill -9.
    kill9(server);
    let (server, addr) = start_ledger(&dir, &[]).await;
    let after = try_http(addr, keyed_post("pay-1", 5))
        .await
        .expect("an answer");
    assert_eq!(after, first, "replayed after the restart");
    let second = try_http(addr, keyed_post("pay-2", 5))
        .await
        .expect("an answer");
    assert_eq!(entries_of(&second.1), 2, "one entry per key: {second:?}");
    kill9(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_survives_a_restart_and_an_overdue_one_fires_at_once() {
    let dir = data_dir("timers");
    let (server, addr) = start_ledger(&dir, &[]).await;
    let mut ws = enter(addr, "clock").await;
    send_text(&mut ws, r#"{"type":"remind","after_ms":1500}"#).await;
    send_text(&mut ws, r#"{"type":"add","amount":1}"#).await;
    assert_eq!(
        next_json(&mut ws).await["type"],
        "ack",
        "the timer is saved with the add"
    );
    let set_at = std::time::Instant::now();
    kill9(server);
    let (server, addr) = start_ledger(&dir, &[]).await;
    let mut ws = enter(addr, "clock").await;
    let reminder = next_json(&mut ws).await;
    assert_eq!(reminder["type"], "reminder", "{reminder}");
    let fired_after = set_at.elapsed();
    assert!(
        fired_after >= Duration::from_millis(1400),
        "too early: {fired_after:?}"
    );
    assert_eq!(state(addr, "clock").await["reminders_fired"], 1);

    // Overdue while the server was down: fires as soon as the room opens.
    send_text(&mut ws, r#"{"type":"remind","after_ms":300}"#).await;
    send_text(&mut ws, r#"{"type":"add","amount":1}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "ack");
    assert!(server.terminate().await.success());
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_server, addr) = start_ledger(&dir, &[]).await;
    // It fired as the room opened (for the first client's join), before
    // anyone was in to see it.
    let opened = std::time::Instant::now();
    assert_eq!(state(addr, "clock").await["reminders_fired"], 2);
    assert!(
        opened.elapsed() < Duration::from_secs(3),
        "at once, not a period later"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_directory_refuses_to_start() {
    let dir = data_dir("lock");
    let (_server, _) = start_ledger(&dir, &[]).await;
    let output = Command::new(env!("CARGO_BIN_EXE_example-ledger"))
        .env("STATEROOM_PORT", free_port().to_string())
        .env("STATEROOM_DATA_DIR", &dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_a_crashed_server_get_one_disconnect_after_the_window() {
    let dir = data_dir("departures");
    let window = [("STATEROOM_RECONNECT_WINDOW_MS", "500")];
    let (server, addr) = start_ledger(&dir, &window).await;
    let mut ada = join(addr, "hall").await;
    let ada_id = next_json(&mut ada).await["stateroom"]["client"].clone();
    send_text(&mut ada, r#"{"type":"add","amount":1}"#).await;
    assert_eq!(next_json(&mut ada).await["type"], "ack");
    kill9(server);
    drop(ada);
    let (_server, addr) = start_ledger(&dir, &window).await;
    // Held for the window after the restart, then gone: exactly once.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ledger = state(addr, "hall").await;
        let departures = ledger["departures"].as_array().unwrap().clone();
        if departures.contains(&ada_id) {
            assert_eq!(
                departures.iter().filter(|d| **d == ada_id).count(),
                1,
                "{ledger}"
            );
            assert_eq!(ledger["restored"], Value::Null, "`restored` is never saved");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ada never left: {ledger}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let ledger = state(addr, "hall").await;
    let once = ledger["departures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| **d == ada_id)
        .count();
    assert_eq!(once, 1, "{ledger}");
}

fn data(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_example-ledger"))
        .arg("--data-dir")
        .arg(dir)
        .arg("data")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "data {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_commands_list_show_export_and_import_without_sql() {
    let dir = data_dir("cli");
    let (server, addr) = start_ledger(&dir, &[]).await;
    for (room, amount) in [("a", 3), ("b", 4)] {
        let mut ws = enter(addr, room).await;
        send_text(&mut ws, &format!(r#"{{"type":"add","amount":{amount}}}"#)).await;
        assert_eq!(next_json(&mut ws).await["total"], amount);
    }
    assert!(server.terminate().await.success());

    let list = data(&dir, &["list"]);
    let rooms: Vec<&str> = list
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(rooms, ["a", "b"], "{list}");
    // `saved` is a UTC date and time, not Unix milliseconds.
    let saved = list.lines().next().unwrap().split('\t').nth(3).unwrap();
    assert!(
        saved.starts_with("saved 20") && saved.ends_with('Z') && saved.contains('T'),
        "{saved}"
    );
    let shown: Value = serde_json::from_str(&data(&dir, &["show", "a"])).unwrap();
    assert_eq!(shown["state"]["total"], 3);
    assert_eq!(shown["state_version"], 2);

    let export = dir.join("export.json");
    data(&dir, &["export", export.to_str().unwrap()]);
    let other = data_dir("cli-import");
    assert!(data(&other, &["import", export.to_str().unwrap()]).contains("imported 2 rooms"));
    let imported: Value = serde_json::from_str(&data(&other, &["show", "b"])).unwrap();
    assert_eq!(
        imported["state"],
        serde_json::json!({"entries":[4],"total":4,"reminders_fired":0,"departures":[]})
    );
    // And a server on the imported data serves it.
    let (_server, addr) = start_ledger(&other, &[]).await;
    assert_eq!(state(addr, "b").await["total"], 4);

    // A file whose state does not load as the ledger's is refused whole.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    doc["rooms"][1]["state"] = serde_json::json!({"total": "not a number"});
    let bad = dir.join("bad-export.json");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let third = data_dir("cli-bad-import");
    let output = Command::new(env!("CARGO_BIN_EXE_example-ledger"))
        .arg("--data-dir")
        .arg(&third)
        .args(["data", "import", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success(), "a bad import must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("room `b` does not load"), "{stderr}");
    assert_eq!(data(&third, &["list"]), "", "nothing imported");

    // `--data-dir` after the subcommand works too; a directory with no
    // store is refused (a typo), and nothing is created there.
    let after = Command::new(env!("CARGO_BIN_EXE_example-ledger"))
        .args(["data", "list", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&after.stdout), list);
    let typo = data_dir("cli-typo");
    let refused = Command::new(env!("CARGO_BIN_EXE_example-ledger"))
        .args(["data", "list", "--data-dir"])
        .arg(&typo)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a directory with no store");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no store in"), "{stderr}");
    assert!(!typo.join("rooms.sqlite3").exists(), "nothing created");
}

/// `stateroom-client` (the Rust client) through a `kill -9` and a restart
/// on the same port: it reconnects by itself, resumes, resends what the
/// room had not applied, and every message is applied once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_through_kill_9_applies_every_message_once() {
    use stateroom_client::{Client, Options};
    let dir = data_dir("rust-client");
    let port = free_port();
    let ledger = env!("CARGO_BIN_EXE_example-ledger");
    let (server, addr) = start_binary_on(ledger, &dir, &[], port).await;
    let mut options = Options::default();
    options.backoff.initial = Duration::from_millis(20);
    options.backoff.max = Duration::from_millis(200);
    let url = format!("ws://{addr}/ws/rust");
    let client = Client::<Value, Value>::connect_with(&url, options)
        .await
        .expect("connects");
    let add = |amount: u64| serde_json::json!({"type": "add", "amount": amount});
    for amount in 1..=100 {
        client.send(&add(amount)).expect("sent");
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    kill9(server);
    // Sent while the server is down: kept, numbered, and sent once it is back.
    for amount in 101..=150 {
        client.send(&add(amount)).expect("kept");
    }
    let (server, _) = start_binary_on(ledger, &dir, &[], port).await;
    for amount in 151..=200 {
        client.send(&add(amount)).expect("sent");
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while client.unacknowledged() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "never all applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client
        .send(&serde_json::json!({"type": "state"}))
        .expect("sent");
    let state = loop {
        let message = client.next_message().await.expect("a reply");
        if message["type"] == "state" {
            break message;
        }
    };
    let entries: Vec<u64> =
        serde_json::from_value(state["ledger"]["entries"].clone()).expect("entries");
    assert_eq!(
        entries,
        (1..=200).collect::<Vec<u64>>(),
        "each once, in order"
    );
    assert!(client.session().is_some_and(|s| s.resumed), "it resumed");
    client.close();
    kill9(server);
}
