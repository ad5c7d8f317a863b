//! The Rust servers of the benchmark: `--kind stateroom` (our runtime and the
//! fair-scenario service) or `--kind raw` (the hyper-tungstenite floor), in
//! `--mode fanout` or `--mode echo`, on `--port` (or `STATEROOM_PORT`).

use clap::Parser;
use stateroom::{Server, ServerArgs};
use stateroom_bench::servers::rooms::{
    EchoRoom, FanoutRoom, HandPresenceRoom, MemoryChat, PersistedChat, PersistedSessions,
    PersistedYjsRoom, PresenceRoom, SyncRoom, YjsRoom,
};
use stateroom_bench::servers::{Mode, raw};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Kind {
    /// Stateroom, with `FanoutRoom` or `EchoRoom`.
    Stateroom,
    /// Stateroom, a chat room that counts its messages, in memory.
    Chat,
    /// The same chat, persisted (gated) in the embedded SQLite store
    /// (`--data-dir`).
    PersistedChat,
    /// The persisted chat with reconnection on (sessions), for numbered
    /// (exactly-once) against unnumbered clients.
    PersistedSessions,
    /// State sync: 1,000 entities, 5 % of their fields changed per 50 ms
    /// tick, the world as the shared view (`stateroom-sync-load`).
    Sync,
    /// Presence, the runtime's (`stateroom-presence-storm`).
    Presence,
    /// Presence written by hand: every join broadcast at once.
    HandPresence,
    /// A Yjs document per room, in memory (`stateroom-yjs-load`).
    Yjs,
    /// A Yjs document per room, persisted (gated) in SQLite (`--data-dir`).
    PersistedYjs,
    /// The raw hyper-tungstenite floor.
    Raw,
}

#[derive(Debug, Parser)]
struct Args {
    /// Which server.
    #[arg(long, value_enum, default_value_t = Kind::Stateroom)]
    kind: Kind,
    /// Where messages go.
    #[arg(long, value_enum, default_value_t = Mode::Fanout)]
    mode: Mode,
    /// The server's options (`--port`, `--worker-threads`, limits, …).
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    stateroom::init_logging();
    let (host, port, threads) = (
        args.server.host.clone(),
        args.server.port,
        args.server.worker_threads,
    );
    let result = match args.kind {
        Kind::Stateroom => {
            let server = Server::from(args.server);
            match args.mode {
                Mode::Fanout => server.serve::<FanoutRoom>(),
                Mode::Echo => server.serve::<EchoRoom>(),
            }
            .map_err(|e| e.to_string())
        }
        Kind::Chat => Server::from(args.server)
            .serve::<MemoryChat>()
            .map_err(|e| e.to_string()),
        Kind::PersistedChat => Server::from(args.server)
            .serve::<PersistedChat>()
            .map_err(|e| e.to_string()),
        Kind::Sync => Server::from(args.server)
            .serve::<SyncRoom>()
            .map_err(|e| e.to_string()),
        Kind::Yjs => Server::from(args.server)
            .serve::<YjsRoom>()
            .map_err(|e| e.to_string()),
        Kind::PersistedYjs => Server::from(args.server)
            .serve::<PersistedYjsRoom>()
            .map_err(|e| e.to_string()),
        Kind::Presence => Server::from(args.server)
            .serve::<PresenceRoom>()
            .map_err(|e| e.to_string()),
        Kind::HandPresence => Server::from(args.server)
            .serve::<HandPresenceRoom>()
            .map_err(|e| e.to_string()),
        Kind::PersistedSessions => Server::from(args.server)
            .serve::<PersistedSessions>()
            .map_err(|e| e.to_string()),
        Kind::Raw => {
            let mut runtime = tokio::runtime::Builder::new_multi_thread();
            if let Some(threads) = threads {
                runtime.worker_threads(threads);
            }
            runtime
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|runtime| {
                    runtime.block_on(async {
                        // The same accept queue as Stateroom's listeners (1,024).
                        let listener = raw::listen(&host, port).await.map_err(|e| e.to_string())?;
                        tokio::select! {
                            () = raw::serve(listener, args.mode) => {}
                            _ = tokio::signal::ctrl_c() => {}
                        }
                        Ok(())
                    })
                })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
