//! Command-line flags and environment variables for a server binary, and the
//! one-call entry point that the `#[stateroom::service]` macro's `main` uses.

use crate::config::{Limits, Server};
use clap::Parser;
use stateroom_core::SimpleStateroomService;
use std::time::Duration;

/// The server's options as flags, each with an environment-variable fallback.
///
/// `--help` on any Stateroom binary lists them with their defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    about = "A Stateroom WebSocket server: rooms at ws://HOST:PORT/ws/{room_id}",
    long_about = None
)]
#[non_exhaustive]
pub struct ServerArgs {
    /// Address to listen on (0.0.0.0 accepts connections from other machines).
    #[arg(long, env = "STATEROOM_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "STATEROOM_PORT", default_value_t = 8080)]
    pub port: u16,
    /// How long an empty room is kept before it is freed.
    #[arg(long, alias = "room-grace-ms", env = "STATEROOM_ROOM_GRACE_MS", default_value = "5s", value_parser = parse_duration)]
    pub room_grace: Duration,
    /// How long a graceful shutdown waits for clients to close.
    #[arg(long, alias = "shutdown-timeout-ms", env = "STATEROOM_SHUTDOWN_TIMEOUT_MS", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// Time between the server's pings to each client.
    #[arg(long, alias = "heartbeat-interval-ms", env = "STATEROOM_HEARTBEAT_INTERVAL_MS", default_value = "15s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,
    /// How long a client may stay silent (pongs count) before it is dropped.
    #[arg(long, alias = "heartbeat-timeout-ms", env = "STATEROOM_HEARTBEAT_TIMEOUT_MS", default_value = "45s", value_parser = parse_duration)]
    pub heartbeat_timeout: Duration,
    /// Tokio worker threads (default: one per CPU core).
    #[arg(long, env = "STATEROOM_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    /// Largest message a client may send, in bytes (larger: close 1009).
    #[arg(long, env = "STATEROOM_MAX_MESSAGE_SIZE", default_value_t = Limits::default().max_message_size)]
    pub max_message_size: usize,
    /// Longest room id, in bytes.
    #[arg(long, env = "STATEROOM_MAX_ROOM_ID_LEN", default_value_t = Limits::default().max_room_id_len)]
    pub max_room_id_len: usize,
    /// Most frames queued for one client before it is closed as too slow.
    #[arg(long, env = "STATEROOM_MAX_QUEUED_MESSAGES", default_value_t = Limits::default().max_queued_messages)]
    pub max_queued_messages: usize,
    /// Most bytes queued for one client before it is closed as too slow.
    #[arg(long, env = "STATEROOM_MAX_QUEUED_BYTES", default_value_t = Limits::default().max_queued_bytes)]
    pub max_queued_bytes: usize,
    /// How long a client's socket may refuse bytes, its queue past the
    /// bound, before it is closed as too slow (1008).
    #[arg(long, alias = "slow-reader-grace-ms", env = "STATEROOM_SLOW_READER_GRACE_MS", default_value = "500ms", value_parser = parse_duration)]
    pub slow_reader_grace: Duration,
    /// Hard limit on a client's queue, as a multiple of the two bounds
    /// above: past it the client is closed (1008) whatever the reason.
    #[arg(long, env = "STATEROOM_HARD_QUEUE_MULTIPLE", default_value_t = Limits::default().hard_queue_multiple)]
    pub hard_queue_multiple: usize,
    /// Most clients in one room.
    #[arg(long, env = "STATEROOM_MAX_CLIENTS_PER_ROOM", default_value_t = Limits::default().max_clients_per_room)]
    pub max_clients_per_room: usize,
    /// Most open WebSocket connections.
    #[arg(long, env = "STATEROOM_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Most live rooms.
    #[arg(long, env = "STATEROOM_MAX_ROOMS", default_value_t = Limits::default().max_rooms)]
    pub max_rooms: usize,
    /// How long a dropped client's seat is held for a resume (0: off;
    /// default: the service's own setting).
    #[arg(long, alias = "reconnect-window-ms", env = "STATEROOM_RECONNECT_WINDOW_MS", value_parser = parse_duration)]
    pub reconnect_window: Option<Duration>,
    /// With reconnection on: most frames kept per client for a resume.
    #[arg(long, env = "STATEROOM_MAX_RESUME_MESSAGES", default_value_t = Limits::default().max_resume_messages)]
    pub max_resume_messages: usize,
    /// With reconnection on: most bytes kept per client for a resume.
    #[arg(long, env = "STATEROOM_MAX_RESUME_BYTES", default_value_t = Limits::default().max_resume_bytes)]
    pub max_resume_bytes: usize,
    /// Comma-separated origins (scheme://host:port) whose pages may open
    /// sockets; others get 403. Default: any origin.
    #[arg(long, env = "STATEROOM_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// How long shutdown keeps serving, with /readyz at 503, before it
    /// closes clients (time for a load balancer to take the server out).
    #[arg(long, alias = "shutdown-delay-ms", env = "STATEROOM_SHUTDOWN_DELAY_MS", default_value = "0s", value_parser = parse_duration)]
    pub shutdown_delay: Duration,
    /// Serve /metrics, /readyz and /admin/rooms on this port only (0: any free
    /// one) instead of the WebSocket port.
    #[arg(long, env = "STATEROOM_ADMIN_PORT")]
    pub admin_port: Option<u16>,
    /// Address of the admin listener.
    #[arg(long, env = "STATEROOM_ADMIN_HOST", default_value = "127.0.0.1")]
    pub admin_host: String,
    /// Bearer token required on /admin/... (without an admin port, the admin
    /// view is served only when this is set).
    #[arg(long, env = "STATEROOM_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Count and export metrics at /metrics.
    #[arg(long, env = "STATEROOM_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Persisted services: the embedded store's directory (one server per
    /// directory).
    #[arg(long, env = "STATEROOM_DATA_DIR", default_value = "stateroom-data")]
    pub data_dir: std::path::PathBuf,
    /// Persisted services: the service's name in the store (default: the
    /// service type's name).
    #[arg(long, env = "STATEROOM_SERVICE_NAME")]
    pub service_name: Option<String>,
    /// Persisted services: delete stored rooms not saved for this long
    /// (such as 30d).
    #[arg(long, env = "STATEROOM_RETENTION", value_parser = parse_duration)]
    pub retention: Option<Duration>,
    /// The same, in days (the older spelling).
    #[arg(
        long,
        env = "STATEROOM_RETENTION_DAYS",
        hide = true,
        conflicts_with = "retention"
    )]
    pub retention_days: Option<u64>,
    /// Log lines as human-readable text or as JSON objects, one per line.
    #[arg(long, env = "STATEROOM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Serve the development page at / (and /__stateroom/dev/): open clients
    /// side by side, send JSON, watch every frame. Never in production.
    #[arg(long, env = "STATEROOM_DEV", value_parser = clap::builder::FalseyValueParser::new())]
    pub dev: bool,
    /// Join a cluster of nodes sharing rooms through this Redis
    /// (redis://host:port/db or redis+unix:///path); persisted rooms are
    /// stored there too. See docs/scale-out.md.
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_CLUSTER", value_name = "URL")]
    pub cluster: Option<String>,
    /// Cluster: this node's unique name (default: host name and port).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_NODE_ID")]
    pub node_id: Option<String>,
    /// Cluster: the host:port other nodes forward joins to; an address they
    /// can reach (port 0 picks a free one).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_INTERNAL_ADDR", default_value = "127.0.0.1:0")]
    pub internal_addr: String,
    /// Cluster: how long a room's lease lasts without renewal (at least 300ms).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_LEASE_TTL", default_value = "10s", value_parser = parse_lease_ttl)]
    pub lease_ttl: Duration,
    /// Cluster: the secret nodes present on each other's internal port
    /// (required unless it is loopback).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_CLUSTER_SECRET")]
    pub cluster_secret: Option<String>,
    /// Cluster: start a gated persisted service even on a Redis that can
    /// lose acknowledged writes (without appendonly yes and appendfsync
    /// always).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_ACCEPT_REDIS_DURABILITY", value_parser = clap::builder::FalseyValueParser::new())]
    pub accept_redis_durability: bool,
    /// Serve the files under this directory (a game's HTML, JS, images) on
    /// the same port, at the paths no room or endpoint uses.
    #[arg(long, env = "STATEROOM_STATIC_DIR")]
    pub static_dir: Option<std::path::PathBuf>,
}

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

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the room and client ids as fields.
    Json,
}

impl From<ServerArgs> for Server {
    fn from(args: ServerArgs) -> Self {
        let mut server = match args.worker_threads {
            Some(threads) => Server::new().worker_threads(threads),
            None => Server::new(),
        };
        if let Some(window) = args.reconnect_window {
            server = server.reconnect_window(window);
        }
        if let Some(port) = args.admin_port {
            server = server.admin_port(port);
        }
        if let Some(token) = args.admin_token {
            server = server.admin_token(token);
        }
        if let Some(name) = args.service_name {
            server = server.service_name(name);
        }
        if let Some(dir) = args.static_dir {
            server = server.static_dir(dir);
        }
        #[cfg(feature = "cluster")]
        if let Some(url) = args.cluster {
            let mut options = crate::config::ClusterOptions::new(url)
                .internal_addr(args.internal_addr)
                .lease_ttl(args.lease_ttl)
                .accept_redis_durability(args.accept_redis_durability);
            if let Some(node) = args.node_id {
                options = options.node_id(node);
            }
            if let Some(secret) = args.cluster_secret {
                options = options.secret(secret);
            }
            server = server.cluster(options);
        }
        let retention = args.retention.or(args
            .retention_days
            .map(|days| Duration::from_secs(days.saturating_mul(86_400))));
        if let Some(retention) = retention {
            server = server.retention(retention);
        }
        server
            .host(args.host)
            .port(args.port)
            .room_grace(args.room_grace)
            .shutdown_timeout(args.shutdown_timeout)
            .heartbeat_interval(args.heartbeat_interval)
            .heartbeat_timeout(args.heartbeat_timeout)
            .max_message_size(args.max_message_size)
            .max_room_id_len(args.max_room_id_len)
            .outbound_queue(args.max_queued_messages, args.max_queued_bytes)
            .slow_reader(args.slow_reader_grace, args.hard_queue_multiple)
            .max_clients_per_room(args.max_clients_per_room)
            .max_connections(args.max_connections)
            .max_rooms(args.max_rooms)
            .resume_buffer(args.max_resume_messages, args.max_resume_bytes)
            .allowed_origins(args.allowed_origins)
            .shutdown_delay(args.shutdown_delay)
            .admin_host(args.admin_host)
            .metrics(args.metrics)
            .data_dir(args.data_dir)
            .dev_page(args.dev)
    }
}

/// `"10s"`, `"500ms"`, `"2m"`; a plain number is seconds.
/// A duration on the command line or in the environment, one spelling for
/// every flag: a number and a unit (`500ms`, `30s`, `2m`, `1h`, `30d`); a
/// bare number is milliseconds, which is what the older `--…-ms` names
/// (kept as aliases) took.
///
/// # Errors
/// When `text` is not such a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let number: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 30s, 2m, 1h or 30d"))?;
    let seconds = |n: u64| Duration::from_secs(number.saturating_mul(n));
    match &text[digits.len()..] {
        "" | "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(seconds(1)),
        "m" => Ok(seconds(60)),
        "h" => Ok(seconds(3_600)),
        "d" => Ok(seconds(86_400)),
        _ => Err(format!(
            "`{text}` is not a duration such as 500ms, 30s, 2m, 1h or 30d"
        )),
    }
}

/// A lease's time to live: a duration of at least 300 ms.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
fn parse_lease_ttl(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration < Duration::from_millis(300) {
        return Err("a lease lasts at least 300ms".into());
    }
    Ok(duration)
}

/// Sets up `tracing` output to stderr, filtered by `RUST_LOG` (default
/// `info`), as text or as JSON per `STATEROOM_LOG_FORMAT` (`text`, the
/// default, or `json`). Does nothing if a global subscriber is already set.
pub fn init_logging() {
    let json = std::env::var("STATEROOM_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    init_logging_as(if json {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
}

/// Sets up `tracing` output to stderr in `format`, filtered by `RUST_LOG`
/// (default `info`). In JSON, each line is an object with `timestamp`,
/// `level`, `target`, `fields` (the message and the event's own fields) and
/// `spans` (the fields of the spans it happened in: `room` for a room's
/// lines). Does nothing if a global subscriber is already set.
pub fn init_logging_as(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
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
    let cli = Cli::parse();
    if let Some(path) = &cli.emit_ts {
        std::process::exit(emit_ts(types, path));
    }
    if let Some(Command::Data { action }) = &cli.command {
        let service = cli
            .server
            .service_name
            .clone()
            .unwrap_or_else(crate::engine::persistence::service_name::<S>);
        if let Err(error) = crate::data::run_data_in(
            &cli.server.data_dir,
            &service,
            action,
            crate::data::check_state::<S>,
        ) {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
        return;
    }
    let mut args = cli.server;
    init_logging_as(args.log_format);
    if args.static_dir.is_none()
        && let Some(dir) = default_static_dir
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
    if dev && let Some(Ok(types)) = types.map(|types| types()) {
        server = server.client_types(types);
    }
    if let Err(error) = server.serve::<S>() {
        tracing::error!(%error, "server failed");
        eprintln!("error: {error}");
        std::process::exit(1);
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    #[test]
    fn durations_have_one_spelling_and_the_old_flags_still_work() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3_600));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(2_592_000)
        );
        assert_eq!(parse_duration("1500").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("").is_err());
        let cli = Cli::try_parse_from(["x", "--room-grace", "2s", "--reconnect-window-ms", "1500"])
            .unwrap();
        assert_eq!(cli.server.room_grace, Duration::from_secs(2));
        assert_eq!(
            cli.server.reconnect_window,
            Some(Duration::from_millis(1500))
        );
        let cli =
            Cli::try_parse_from(["x", "--room-grace-ms", "750", "--retention", "7d"]).unwrap();
        assert_eq!(cli.server.room_grace, Duration::from_millis(750));
        assert_eq!(cli.server.retention, Some(Duration::from_secs(7 * 86_400)));
        let defaults = Cli::try_parse_from(["x"]).unwrap().server;
        assert_eq!(defaults.heartbeat_interval, Duration::from_secs(15));
        assert_eq!(defaults.slow_reader_grace, Duration::from_millis(500));
    }
}
