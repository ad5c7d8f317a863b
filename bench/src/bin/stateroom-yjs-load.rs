//! The Yjs benchmark's clients (see `stateroom_bench::yjs_load`):
//! `stateroom-yjs-load --target 127.0.0.1:9701 --peer stateroom --scenario updates --docs 100 --clients 5 --rate 5000`.

use clap::Parser;
use stateroom_bench::yjs_load::{Peer, Scenario, YjsConfig, run};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
struct Args {
    /// `host:port` of the server.
    #[arg(long)]
    target: String,
    /// Which server (the URL and framing it wants).
    #[arg(long, value_enum)]
    peer: Peer,
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::Updates)]
    scenario: Scenario,
    /// Documents.
    #[arg(long, default_value_t = 100)]
    docs: usize,
    /// Clients per document (`updates`).
    #[arg(long, default_value_t = 5)]
    clients: usize,
    /// Updates a second, all writers together (`updates`).
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seconds of sending (`updates`).
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// The server's pid, for its CPU and memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = YjsConfig {
        target: args.target,
        peer: args.peer,
        scenario: args.scenario,
        docs: args.docs,
        clients: args.clients,
        rate: args.rate,
        duration: Duration::from_secs_f64(args.duration),
        server_pid: args.server_pid,
    };
    stateroom_bench::report_main(args.json, run(config))
}
