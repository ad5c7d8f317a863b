//! A short run of the load generator against each Rust server: every message
//! must arrive, in order, with no errors. (Speed is never asserted here;
//! `bench/run.sh` measures it.)

use stateroom::Server;
use stateroom_bench::load::{self, LoadConfig, Report, Scenario};
use stateroom_bench::servers::rooms::{EchoRoom, FanoutRoom};
use stateroom_bench::servers::{Mode, raw};
use std::time::Duration;

fn config(target: String, scenario: Scenario) -> LoadConfig {
    LoadConfig {
        target,
        scenario,
        rooms: 3,
        clients_per_room: 4,
        rate: 50.0,
        duration: Duration::from_millis(800),
        payload_bytes: 120,
        drain: Duration::from_secs(10),
        server_pid: Some(std::process::id()),
        ..LoadConfig::default()
    }
}

fn assert_complete(report: &Report) {
    assert_eq!(report.connected, 12, "{report:#?}");
    assert!(report.sent > 0, "{report:#?}");
    assert_eq!(report.delivered, report.expected, "{report:#?}");
    assert_eq!(
        (report.lost, report.out_of_order, report.errors),
        (0, 0, 0),
        "{report:#?}"
    );
    assert!(report.latency.max_us > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_through_stateroom_delivers_everything() {
    let server = Server::new().port(0).start::<FanoutRoom>().await.unwrap();
    let report = load::run(config(server.local_addr().to_string(), Scenario::Fanout))
        .await
        .unwrap();
    assert_complete(&report);
    // Every message reached all four members of its room.
    assert_eq!(report.expected, report.sent * 4);
    assert!(report.server.is_some_and(|s| s.after.rss_kib > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_through_stateroom_delivers_everything() {
    let server = Server::new().port(0).start::<EchoRoom>().await.unwrap();
    let report = load::run(config(server.local_addr().to_string(), Scenario::Echo))
        .await
        .unwrap();
    assert_complete(&report);
    assert_eq!(report.expected, report.sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_through_the_raw_server_delivers_everything() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(raw::serve(listener, Mode::Fanout));
    let report = load::run(config(addr.to_string(), Scenario::Fanout))
        .await
        .unwrap();
    assert_complete(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_counted() {
    let server = Server::new().port(0).start::<FanoutRoom>().await.unwrap();
    let mut config = config(server.local_addr().to_string(), Scenario::Idle);
    config.duration = Duration::from_millis(200);
    let report = load::run(config).await.unwrap();
    assert_eq!((report.connected, report.sent, report.errors), (12, 0, 0));
}
