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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config = SyncConfig {
        target: args.target,
        protocol: args.protocol,
        clients: args.clients.max(2),
        duration: Duration::from_secs_f64(args.duration),
        server_pid: args.server_pid,
        tick: Duration::from_millis(stateroom_bench::servers::rooms::SYNC_TICK_MS),
    };
    match runtime.block_on(run(config)) {
        Ok(report) => {
            let json = serde_json::to_string_pretty(&report).unwrap_or_default();
            println!("{json}");
            if let Some(path) = args.json
                && let Err(error) = std::fs::write(&path, json)
            {
                eprintln!("error: {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
