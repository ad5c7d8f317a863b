//! The state-sync benchmark's clients (see `stateroom_bench::sync_load`):
//! `stateroom-sync-load --target 127.0.0.1:9701 --clients 50 --server-pid N`.

use clap::Parser;
use stateroom_bench::load::Protocol;
use stateroom_bench::sync_load::{SyncConfig, run};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
struct Args {
    /// `host:port` of the server.
    #[arg(long)]
    target: String,
    /// How the room is reached.
    #[arg(long, value_enum, default_value_t = Protocol::Path)]
    protocol: Protocol,
    /// Clients in the room.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// The server's pid, for its CPU.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = SyncConfig {
        target: args.target,
        protocol: args.protocol,
        clients: args.clients.max(2),
        duration: Duration::from_secs_f64(args.duration),
        server_pid: args.server_pid,
        tick: Duration::from_millis(stateroom_bench::servers::rooms::SYNC_TICK_MS),
    };
    stateroom_bench::report_main(args.json, run(config))
}
