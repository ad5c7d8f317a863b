//! The chat bots (`src/bin/chat-bots.rs`, on `stateroom::client::bots`)
//! against the real chat binary: every bot joins and says its ten lines,
//! each round trip is measured, the dashboard prints while they run, and
//! the report is JSON.

use serde_json::Value;
use stateroom_test_support::spawn_binary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_bots_chat_in_three_rooms_and_report() {
    let (server, addr) = spawn_binary(env!("CARGO_BIN_EXE_example-chat")).await;
    let url = format!("ws://{addr}");
    let bots = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_chat-bots"))
            .args([&url, "30", "1500"])
            .output()
    })
    .await
    .expect("joined")
    .expect("the bots run");
    assert!(bots.status.success());
    let report: Value = serde_json::from_slice(&bots.stdout).expect("a JSON report");
    assert_eq!(report["connected"], 30, "{report}");
    assert_eq!(report["finished"], 30, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    // A join and ten lines each, every one a measured round trip.
    assert_eq!(report["requests"], 330, "{report}");
    assert!(report["p99_us"].as_u64() >= report["p50_us"].as_u64());
    // Every reply was received (and whatever else the room sent a bot
    // while it ran: others' lines, their joins).
    assert!(
        report["received"].as_u64() >= report["requests"].as_u64(),
        "{report}"
    );
    let dashboard = String::from_utf8_lossy(&bots.stderr);
    assert!(
        dashboard
            .lines()
            .any(|line| line.starts_with("t=1s connected ")),
        "{dashboard}"
    );
    drop(server);
}
