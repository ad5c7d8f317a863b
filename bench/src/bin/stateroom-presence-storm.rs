//! The presence benchmark's clients (see `stateroom_bench::presence_storm`):
//! `stateroom-presence-storm --target 127.0.0.1:9701 --clients 1000 --server-pid N`.

use clap::Parser;
use stateroom_bench::presence_storm::{StormConfig, run};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
struct Args {
    /// `host:port` of the server (`bench-server --kind presence` or `--kind hand-presence`).
    #[arg(long)]
    target: String,
    /// Clients that join the one room.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// The room (a fresh one per run).
    #[arg(long, default_value = "storm")]
    room: String,
    /// The server's pid, for its CPU.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = StormConfig {
        target: args.target,
        room: args.room,
        clients: args.clients.max(1),
        concurrency: args.concurrency,
        server_pid: args.server_pid,
        timeout: Duration::from_secs(60),
    };
    stateroom_bench::report_main(args.json, run(config))
}
