//! Command-line flags and environment variables for a server binary, and the
//! one-call entry point that the `#[stateroom::service]` macro's `main` uses.

mod args;
mod json_log;
mod logging;

pub use args::{ServerArgs, parse_duration};
pub use logging::{LogFormat, init_logging, init_logging_as};

use crate::config::Server;
use clap::Parser;
use stateroom_core::SimpleStateroomService;

/// A Stateroom binary's command line: the server's options, or a command.
#[derive(Debug, Parser)]
#[command(
    about = "A Stateroom WebSocket server: rooms at ws://HOST:PORT/ws/{room_id}",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Write the service's message types as TypeScript to this file (or to
    /// standard output for -) and exit, for the @stateroom/client package.
    #[arg(long, value_name = "PATH")]
    emit_ts: Option<std::path::PathBuf>,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// A persisted service's stored rooms: list, show, export, import (stop
    /// the server first; --data-dir and --service-name apply).
    Data {
        #[command(subcommand)]
        action: crate::data::DataCommand,
    },
}

/// The whole `main` of a Stateroom binary: parses [`ServerArgs`] from the
/// command line and environment, sets up logging, and serves `S` until SIGINT or
/// SIGTERM. On a startup error it logs the reason and exits with status 1.
pub fn run<S: SimpleStateroomService>() {
    run_with::<S>(None, None);
}

/// What writes a service's TypeScript, or why it cannot.
#[doc(hidden)]
pub type TypesFn = fn() -> Result<String, String>;

/// [`run`], for a service that can describe its messages in TypeScript
/// (`--emit-ts PATH` writes them and exits, and the `--dev` page shows
/// them), with a default for `--static-dir` (used when it is a directory).
/// The `#[stateroom::service]` macro's `main` calls this.
#[doc(hidden)]
pub fn run_with<S: SimpleStateroomService>(
    types: Option<TypesFn>,
    default_static_dir: Option<&'static str>,
) {
    let main = Main {
        types,
        default_static_dir,
        service_name: crate::engine::persistence::service_name::<S>(),
        check: crate::data::check_state::<S>,
        serve: |server: Server| server.serve::<S>(),
    };
    main.run();
}

/// The whole `main` of a binary that hosts several room kinds: `rooms`
/// adds them to the server built from the command line
/// ([`Server::room`]), which then serves them as [`run`] does.
///
/// ```no_run
/// # use stateroom_core::{SimpleStateroomService, StateroomContext};
/// # struct Lobby; struct Match;
/// # impl SimpleStateroomService for Lobby { fn new(_: &str, _: &impl StateroomContext) -> Self { Lobby } }
/// # impl SimpleStateroomService for Match { fn new(_: &str, _: &impl StateroomContext) -> Self { Match } }
/// fn main() {
///     stateroom_server::run_rooms(|server| server.room::<Lobby>("lobby").room::<Match>("match"));
/// }
/// ```
///
/// `data import` cannot check a snapshot against its service here (the
/// kinds share one store); a room whose snapshot does not load is refused
/// when it opens, and its stored state is left as it is.
pub fn run_rooms(rooms: fn(Server) -> Server) {
    let service_name = match crate::engine::kinds::Kinds::named(rooms(Server::new()).kinds) {
        Ok(kinds) => kinds.service_name(),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    let main = Main {
        types: None,
        default_static_dir: None,
        service_name,
        check: |_, _| Ok(()),
        serve: move |server: Server| rooms(server).serve_rooms(),
    };
    main.run();
}

/// What a binary's `main` serves.
struct Main<F> {
    types: Option<TypesFn>,
    default_static_dir: Option<&'static str>,
    /// The default name in the store.
    service_name: String,
    check: crate::data::StateCheck,
    serve: F,
}

impl<F: FnOnce(Server) -> Result<(), crate::ServerError>> Main<F> {
    fn run(self) {
        let cli = Cli::parse();
        if let Some(path) = &cli.emit_ts {
            std::process::exit(emit_ts(self.types, path));
        }
        if let Some(Command::Data { action }) = &cli.command {
            let service = cli.server.service_name.clone();
            let service = service.unwrap_or(self.service_name);
            if let Err(error) =
                crate::data::run_data_in(&cli.server.data_dir, &service, action, self.check)
            {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
            return;
        }
        let mut args = cli.server;
        init_logging_as(args.log_format);
        if args.static_dir.is_none()
            && let Some(dir) = self.default_static_dir
        {
            if std::path::Path::new(dir).is_dir() {
                args.static_dir = Some(dir.into());
            } else {
                tracing::warn!(
                    dir,
                    "the default static directory is missing; pass --static-dir"
                );
            }
        }
        let dev = args.dev;
        let mut server = Server::from(args);
        if dev && let Some(Ok(types)) = self.types.map(|types| types()) {
            server = server.client_types(types);
        }
        if let Err(error) = (self.serve)(server) {
            tracing::error!(%error, "server failed");
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

/// `--emit-ts PATH`: the exit status.
fn emit_ts(types: Option<TypesFn>, path: &std::path::Path) -> i32 {
    let Some(types) = types else {
        eprintln!(
            "error: this service has no TypeScript types: serve it with `#[stateroom::service]` and mark its message types `#[stateroom::message]`"
        );
        return 2;
    };
    let text = match types() {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    let written = if path.as_os_str() == "-" {
        use std::io::Write as _;
        std::io::stdout().write_all(text.as_bytes())
    } else {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(path, &text)
    };
    match written {
        Ok(()) => {
            if path.as_os_str() != "-" {
                eprintln!("wrote {}", path.display());
            }
            0
        }
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", path.display());
            1
        }
    }
}
