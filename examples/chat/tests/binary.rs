//! Runs the chat example's real binary, as `cargo run -p example-chat` would,
//! chats with two clients (the Rust client, `stateroom::client`), and stops
//! it with SIGTERM.

use stateroom_test_support as support;

use serde_json::{Value, json};
use stateroom::client::{Client, Received, Status};
use support::*;

type Chat = Client<Value, Value>;

/// Joins the lobby with the Rust client (reconnection is on: a session).
async fn enter(addr: std::net::SocketAddr) -> Chat {
    let chat = Chat::connect(&format!("ws://{addr}/ws/lobby"))
        .await
        .expect("joins");
    assert!(chat.wait_open().await);
    chat
}

/// The next message, or error frame (as its JSON), the room sent.
async fn next(chat: &Chat) -> Value {
    loop {
        let received = tokio::time::timeout(WAIT, chat.recv())
            .await
            .expect("in time")
            .expect("open");
        match received {
            Received::Message(message) => return message,
            Received::Error(error) => return json!({ "error": error }),
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_binary_serves_a_chat_and_stops_on_sigterm() {
    let (server, addr) = spawn_binary(env!("CARGO_BIN_EXE_example-chat")).await;

    let ada = enter(addr).await;
    let welcome = next(&ada).await;
    let session = ada.session().expect("a session frame came first");
    assert_eq!(welcome["you"], json!(session.client));
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["members"], json!([]));
    let ada_id = welcome["you"].clone();
    ada.send(&json!({"type": "join", "name": "ada"})).unwrap();
    assert_eq!(
        next(&ada).await,
        json!({"type":"joined","client":ada_id,"name":"ada"})
    );

    let bob = enter(addr).await;
    let welcome = next(&bob).await;
    assert_eq!(
        welcome["members"],
        json!([{"client": ada_id, "name": "ada"}])
    );
    let bob_id = welcome["you"].clone();
    bob.send(&json!({"type": "join", "name": "bob"})).unwrap();
    for chat in [&ada, &bob] {
        assert_eq!(
            next(chat).await,
            json!({"type":"joined","client":bob_id,"name":"bob"})
        );
    }

    bob.send(&json!({"type": "say", "text": "hi ada"})).unwrap();
    for chat in [&ada, &bob] {
        assert_eq!(
            next(chat).await,
            json!({"type":"said","from":bob_id,"name":"bob","text":"hi ada"})
        );
    }
    ada.send(&json!({"type": "nick", "name": "countess"}))
        .unwrap();
    for chat in [&ada, &bob] {
        assert_eq!(
            next(chat).await,
            json!({"type":"renamed","client":ada_id,"old":"ada","new":"countess"})
        );
    }
    // A message the room does not understand: an error frame to the sender only.
    ada.send(&json!({"type": "shout", "text": "HI"})).unwrap();
    let error = next(&ada).await;
    assert_eq!(error["error"]["code"], "invalid_message");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant `shout`")
    );
    ada.send(&json!({"type": "leave"})).unwrap();
    for chat in [&ada, &bob] {
        assert_eq!(
            next(chat).await,
            json!({"type":"left","client":ada_id,"name":"countess"})
        );
    }
    // Every message was applied, and the room said so (acks come in batches,
    // within 20 ms).
    let deadline = tokio::time::Instant::now() + WAIT;
    while ada.unacknowledged() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "never acknowledged");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    // SIGTERM: every client is closed with 1001 (which the client retries:
    // the server is going away, not refusing it) and the process exits 0.
    let stopped = tokio::spawn(server.terminate());
    for chat in [&ada, &bob] {
        loop {
            let received = tokio::time::timeout(WAIT, chat.recv())
                .await
                .expect("in time");
            if let Some(Received::Status(Status::Reconnecting { code, .. })) = received {
                assert_eq!(code, 1001);
                break;
            }
        }
    }
    ada.close();
    bob.close();
    let status = stopped.await.unwrap();
    assert!(status.success(), "exit status {status}");
}

/// Starts the chat binary with `env`, its logs (stderr) written to a file;
/// returns it, its address and the file once it listens.
async fn spawn_logging(
    env: &[(&str, &str)],
) -> (Running, std::net::SocketAddr, std::path::PathBuf) {
    let port = free_port();
    let log_path = std::env::temp_dir().join(format!("stateroom-chat-log-{port}.log"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_example-chat"))
        .env("STATEROOM_PORT", port.to_string())
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let server = Running(child);
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "never listened");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (server, addr, log_path)
}

#[tokio::test]
async fn text_logs_to_a_file_carry_no_colour_codes() {
    let (server, _addr, log_path) = spawn_logging(&[("RUST_LOG", "info")]).await;
    assert!(server.terminate().await.success());
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(text.contains("stateroom listening"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escapes in a log file: {text:?}"
    );
}

#[test]
fn help_describes_the_server_in_plain_words() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_example-chat"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        help.starts_with("A Stateroom WebSocket server: rooms at ws://HOST:PORT/ws/{room_id}\n"),
        "{help}"
    );
    assert!(!help.contains('`'), "no rustdoc markup in --help: {help}");
    for flag in [
        "--reconnect-window",
        "--allowed-origins",
        "--max-resume-messages",
        "--emit-ts",
        "--dev",
        "--static-dir",
    ] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
}

#[tokio::test]
async fn json_logs_parse_and_carry_the_room_and_client_ids() {
    let (server, addr, log_path) = spawn_logging(&[
        ("STATEROOM_LOG_FORMAT", "json"),
        ("RUST_LOG", "stateroom_server=debug"),
    ])
    .await;
    let ada = enter(addr).await;
    let _welcome = next(&ada).await;
    let session = ada.session().expect("a session");
    ada.send(&json!({"type": "join", "name": "ada"})).unwrap();
    let _joined = next(&ada).await;
    ada.close();
    let status = tokio::spawn(server.terminate());
    assert!(status.await.unwrap().success());

    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.len() >= 3, "{text}");
    let client = session.client.to_string();
    let joined = lines
        .iter()
        .find(|line| line["fields"]["message"] == "client joined")
        .unwrap_or_else(|| panic!("no `client joined` line in {text}"));
    assert_eq!(joined["fields"]["client"], client.as_str(), "{joined}");
    let spans = joined["spans"].as_array().expect("span list");
    assert!(spans.iter().any(|s| s["room"] == "lobby"), "{joined}");
    // The room is a top-level field, and a room's own lines do not carry
    // the address of the client whose join created it.
    assert_eq!(joined["room"], "lobby", "{joined}");
    let created = lines
        .iter()
        .find(|line| line["fields"]["message"] == "room created")
        .unwrap_or_else(|| panic!("no `room created` line in {text}"));
    assert_eq!(created["room"], "lobby", "{created}");
    assert!(created.get("peer").is_none(), "{created}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}

#[test]
fn every_flag_is_in_the_documented_table_with_its_variable_and_default() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_example-chat"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    let help = String::from_utf8(output.stdout).expect("UTF-8");
    let flags: std::collections::BTreeSet<String> = help
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("--"))
        .map(|rest| rest.split([' ', '<']).next().unwrap_or_default().to_owned())
        .filter(|flag| !["emit-ts", "help"].contains(&flag.as_str()))
        .collect();
    // The options table of a doc: each row's flags and variables.
    let table = |doc: &str| -> Vec<(Vec<String>, Vec<String>, String)> {
        let path = format!("{}/../../docs/{doc}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the doc");
        let rows = text
            .split("| flag | env | default |")
            .nth(1)
            .expect("a table");
        // What is in backticks: every other piece.
        let quoted = |cell: &str| -> Vec<String> {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        };
        rows.lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|row| {
                let cells: Vec<&str> = row.split('|').collect();
                let flags = quoted(cells[1])
                    .iter()
                    .filter_map(|t| t.strip_prefix("--"))
                    .map(|t| t.split(' ').next().unwrap_or_default().to_owned())
                    .collect();
                let vars = quoted(cells[2])
                    .into_iter()
                    .filter(|t| t.starts_with("STATEROOM_"))
                    .collect();
                (flags, vars, cells[3].to_owned())
            })
            .collect()
    };
    // Each flag's default as --help prints it (`[default: 5s]` in its block).
    let mut defaults = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--") {
            current = Some(rest.split([' ', '<']).next().unwrap_or_default().to_owned());
        } else if let (Some(flag), Some(value)) = (
            &current,
            trimmed
                .strip_prefix("[default: ")
                .and_then(|v| v.strip_suffix(']')),
        ) {
            defaults.insert(flag.clone(), value.to_owned());
        }
    }
    assert!(
        defaults.get("room-grace").map(String::as_str) == Some("5s"),
        "the help's defaults were not read: {defaults:?}"
    );
    let mut documented = std::collections::BTreeSet::new();
    // Every server's options; the cluster's when the binary has them (the
    // `cluster` feature, which a workspace build turns on for the ledger).
    let clustered = flags.contains("cluster");
    for (doc, checked) in [("protocol.md", true), ("scale-out.md", clustered)] {
        for (row_flags, vars, default_cell) in table(doc) {
            documented.extend(row_flags.iter().cloned());
            if !checked {
                continue;
            }
            for flag in &row_flags {
                assert!(
                    flags.contains(flag),
                    "docs/{doc} names --{flag}, which the binary lacks"
                );
                // The default the docs give is the one the code has (both
                // come from `config::defaults`).
                if let Some(default) = defaults.get(flag) {
                    assert!(
                        default_cell.contains(default.as_str()),
                        "docs/{doc} gives --{flag} the default `{}`, the binary `{default}`",
                        default_cell.trim()
                    );
                }
            }
            for var in vars {
                assert!(
                    help.contains(&format!("[env: {var}=")),
                    "docs/{doc} names {var}, which no flag reads"
                );
            }
        }
    }
    // And every flag is a builder method of the same name (`--max-rooms` is
    // `Server::max_rooms`, in limits.rs with the other limits; the
    // cluster's are `ClusterOptions`'s).
    let builder = |file: &str| {
        std::fs::read_to_string(format!(
            "{}/../../stateroom-server/src/config/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("the builder's source")
    };
    let methods = builder("mod.rs") + &builder("limits.rs") + &builder("cluster.rs");
    // Flags that are not server settings (logging, the process), or whose
    // method says more than the flag.
    let other = [
        ("log-format", ""),
        ("worker-threads", "worker_threads"),
        ("dev", "dev_page"),
        ("cluster", "cluster"),
        ("cluster-secret-file", "secret"),
        ("admin-token-file", "admin_token"),
        ("redis-wait-replicas", "wait_replicas"),
        ("accept-redis-durability", "accept_redis_durability"),
    ];
    for flag in &flags {
        let method = other
            .iter()
            .find(|(f, _)| f == flag)
            .map_or_else(|| flag.replace('-', "_"), |(_, m)| (*m).to_owned());
        if method.is_empty() {
            continue;
        }
        assert!(
            methods.contains(&format!("pub fn {method}("))
                || methods.contains(&format!("pub fn {method}<")),
            "--{flag} has no builder method `{method}`"
        );
    }
    let undocumented: Vec<&String> = flags.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "flags missing from the docs' tables: {undocumented:?}"
    );
}
