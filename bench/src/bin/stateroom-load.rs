//! The load generator. For example, a 10-room chat of 100 clients each sending
//! 20 messages a second for 10 seconds:
//!
//! ```text
//! stateroom-load --target 127.0.0.1:8080 --scenario fanout --rooms 10 \
//!     --clients 100 --rate 20 --duration 10 --server-pid $(pidof example-chat)
//! ```
//!
//! Prints a table (and `--json FILE` writes the same report as JSON).

use clap::Parser;
use stateroom_bench::load::{self, LoadConfig, Protocol, Scenario};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(about = "Load generator for WebSocket room servers")]
struct Args {
    /// Server address, host:port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    target: String,
    /// How rooms are reached: `path` (/ws/{room}, JSON) or `colyseus`.
    #[arg(long, value_enum, default_value_t = Protocol::Path)]
    protocol: Protocol,
    /// What clients do.
    #[arg(long, value_enum, default_value_t = Scenario::Fanout)]
    scenario: Scenario,
    /// Number of rooms.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Clients per room.
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Messages per second each client sends.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Seconds of sending (or, idle, of holding the connections).
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Bytes per message.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// Longest wait, in seconds, for messages in flight after sending stops.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    /// Connections opened at once.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// The server's pid, to report its memory and CPU.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Prefix of room names.
    #[arg(long, default_value = "bench-")]
    room_prefix: String,
    /// A query string for every room's path (`next=1`: the clients number
    /// their messages, for exactly-once).
    #[arg(long)]
    query: Option<String>,
    /// Generator worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = LoadConfig {
        target: args.target,
        protocol: args.protocol,
        scenario: args.scenario,
        rooms: args.rooms,
        clients_per_room: args.clients,
        rate: args.rate,
        duration: Duration::from_secs_f64(args.duration),
        payload_bytes: args.payload,
        drain: Duration::from_secs_f64(args.drain),
        connect_concurrency: args.connect_concurrency,
        server_pid: args.server_pid,
        room_prefix: args.room_prefix,
        query: args.query,
        progress: !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(load::run(config)) {
        Ok(report) => {
            print!("{}", report.table());
            if let Some(path) = args.json {
                let json = serde_json::to_string_pretty(&report).unwrap_or_default();
                if let Err(error) = std::fs::write(&path, json) {
                    eprintln!("error: writing {}: {error}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
