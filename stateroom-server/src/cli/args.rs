//! The server's options as flags and environment variables, one spelling
//! for durations, and how they become a [`Server`].

use super::LogFormat;
use crate::config::Server;
use crate::config::defaults;
pub use crate::config::parse_duration;
use clap::Parser;
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
    #[arg(long, env = "STATEROOM_HOST", default_value = defaults::HOST)]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "STATEROOM_PORT", default_value_t = defaults::PORT)]
    pub port: u16,
    /// How long an empty room is kept before it is freed.
    #[arg(long, alias = "room-grace-ms", env = "STATEROOM_ROOM_GRACE_MS", default_value = defaults::ROOM_GRACE, value_parser = parse_duration)]
    pub room_grace: Duration,
    /// How long a seat that matchmaking reserved waits for its client.
    #[arg(long, env = "STATEROOM_SEAT_RESERVATION", default_value = defaults::SEAT_RESERVATION, value_parser = parse_duration)]
    pub seat_reservation: Duration,
    /// How long a persisted room (one node) retries a failing store before it fails.
    #[arg(long, env = "STATEROOM_STORE_RETRY", default_value = defaults::STORE_RETRY, value_parser = parse_duration)]
    pub store_retry: Duration,
    /// How long a graceful shutdown waits for clients to close.
    #[arg(long, alias = "shutdown-timeout-ms", env = "STATEROOM_SHUTDOWN_TIMEOUT_MS", default_value = defaults::SHUTDOWN_TIMEOUT, value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// Time between the server's pings to each client.
    #[arg(long, alias = "heartbeat-interval-ms", env = "STATEROOM_HEARTBEAT_INTERVAL_MS", default_value = defaults::HEARTBEAT_INTERVAL, value_parser = parse_duration)]
    pub heartbeat_interval: Duration,
    /// How long a client may stay silent (pongs count) before it is dropped.
    #[arg(long, alias = "heartbeat-timeout-ms", env = "STATEROOM_HEARTBEAT_TIMEOUT_MS", default_value = defaults::HEARTBEAT_TIMEOUT, value_parser = parse_duration)]
    pub heartbeat_timeout: Duration,
    /// Worker threads: as many room shards (each room and its clients on one), and as many for HTTP and the rest (default: one per CPU core).
    #[arg(long, env = "STATEROOM_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    /// Largest message a client may send, in bytes (larger: close 1009).
    #[arg(long, env = "STATEROOM_MAX_MESSAGE_SIZE", default_value_t = defaults::MAX_MESSAGE_SIZE)]
    pub max_message_size: usize,
    /// Longest room id, in bytes.
    #[arg(long, env = "STATEROOM_MAX_ROOM_ID_LEN", default_value_t = defaults::MAX_ROOM_ID_LEN)]
    pub max_room_id_len: usize,
    /// Most frames queued for one client before it is closed as too slow.
    #[arg(long, env = "STATEROOM_MAX_QUEUED_MESSAGES", default_value_t = defaults::MAX_QUEUED_MESSAGES)]
    pub max_queued_messages: usize,
    /// Most bytes queued for one client before it is closed as too slow.
    #[arg(long, env = "STATEROOM_MAX_QUEUED_BYTES", default_value_t = defaults::MAX_QUEUED_BYTES)]
    pub max_queued_bytes: usize,
    /// How long a client's socket may refuse bytes, its queue past the
    /// bound, before it is closed as too slow (1008).
    #[arg(long, alias = "slow-reader-grace-ms", env = "STATEROOM_SLOW_READER_GRACE_MS", default_value = defaults::SLOW_READER_GRACE, value_parser = parse_duration)]
    pub slow_reader_grace: Duration,
    /// Hard limit on a client's queue, as a multiple of the two bounds
    /// above: past it the client is closed (1008) whatever the reason.
    #[arg(long, env = "STATEROOM_HARD_QUEUE_MULTIPLE", default_value_t = defaults::HARD_QUEUE_MULTIPLE)]
    pub hard_queue_multiple: usize,
    /// Most clients in one room.
    #[arg(long, env = "STATEROOM_MAX_CLIENTS_PER_ROOM", default_value_t = defaults::MAX_CLIENTS_PER_ROOM)]
    pub max_clients_per_room: usize,
    /// Most open WebSocket connections.
    #[arg(long, env = "STATEROOM_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Most live rooms.
    #[arg(long, env = "STATEROOM_MAX_ROOMS", default_value_t = defaults::MAX_ROOMS)]
    pub max_rooms: usize,
    /// How long a dropped client's seat is held for a resume (0: off;
    /// default: the service's own setting).
    #[arg(long, alias = "reconnect-window-ms", env = "STATEROOM_RECONNECT_WINDOW_MS", value_parser = parse_duration)]
    pub reconnect_window: Option<Duration>,
    /// With reconnection on: most frames kept per client for a resume.
    #[arg(long, env = "STATEROOM_MAX_RESUME_MESSAGES", default_value_t = defaults::MAX_RESUME_MESSAGES)]
    pub max_resume_messages: usize,
    /// With reconnection on: most bytes kept per client for a resume.
    #[arg(long, env = "STATEROOM_MAX_RESUME_BYTES", default_value_t = defaults::MAX_RESUME_BYTES)]
    pub max_resume_bytes: usize,
    /// Comma-separated origins (scheme://host:port) whose pages may open
    /// sockets; others get 403. Default: any origin.
    #[arg(long, env = "STATEROOM_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Comma-separated proxies (addresses or networks, such as 10.0.0.0/8)
    /// whose Forwarded or X-Forwarded-For headers give the client's address.
    #[arg(long, env = "STATEROOM_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<stateroom_core::TrustedNet>,
    /// How long shutdown keeps serving, with /readyz at 503, before it
    /// closes clients (time for a load balancer to take the server out).
    #[arg(long, alias = "shutdown-delay-ms", env = "STATEROOM_SHUTDOWN_DELAY_MS", default_value = defaults::SHUTDOWN_DELAY, value_parser = parse_duration)]
    pub shutdown_delay: Duration,
    /// Serve /metrics, /readyz and /admin/rooms on this port only (0: any free
    /// one) instead of the WebSocket port.
    #[arg(long, env = "STATEROOM_ADMIN_PORT")]
    pub admin_port: Option<u16>,
    /// Address of the admin listener.
    #[arg(long, env = "STATEROOM_ADMIN_HOST", default_value = defaults::ADMIN_HOST)]
    pub admin_host: String,
    /// File holding the bearer token required on /admin/... (or put the
    /// token itself in STATEROOM_ADMIN_TOKEN; never on the command line,
    /// where ps shows it). Without an admin port, the admin view is served
    /// only when a token is set.
    #[arg(long, env = "STATEROOM_ADMIN_TOKEN_FILE", value_name = "PATH", value_parser = read_secret_file)]
    pub admin_token_file: Option<String>,
    /// Refused with a pointer to STATEROOM_ADMIN_TOKEN: a token on the
    /// command line shows in ps.
    #[doc(hidden)]
    #[arg(long = "admin-token", hide = true, value_parser = refuse_secret_argument)]
    pub admin_token_argument: Option<String>,
    /// Count and export metrics at /metrics.
    #[arg(long, env = "STATEROOM_METRICS", default_value_t = defaults::METRICS, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Persisted services: the embedded store's directory (one server per
    /// directory).
    #[arg(long, global = true, env = "STATEROOM_DATA_DIR", default_value = defaults::DATA_DIR)]
    pub data_dir: std::path::PathBuf,
    /// Persisted services: the service's name in the store (default: the
    /// service type's name).
    #[arg(long, global = true, env = "STATEROOM_SERVICE_NAME")]
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
    /// (redis://host:port/db, redis+unix:///path, or
    /// redis+sentinel://host:port,host:port/master for the primary Sentinel
    /// names); persisted rooms are stored there too. See docs/scale-out.md.
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
    #[arg(long, env = "STATEROOM_INTERNAL_ADDR", default_value = defaults::INTERNAL_ADDR)]
    pub internal_addr: String,
    /// Cluster: how long a room's lease lasts without renewal (at least 300ms).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_LEASE_TTL", default_value = defaults::LEASE_TTL, value_parser = parse_lease_ttl)]
    pub lease_ttl: Duration,
    /// Cluster: how long a node's heartbeat lasts; a node silent this long
    /// is judged dead and its rooms move at their next join (at least
    /// 300ms).
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_NODE_TTL", default_value = defaults::NODE_TTL, value_parser = parse_lease_ttl)]
    pub node_ttl: Duration,
    /// Cluster: a file holding the secret nodes present on each other's
    /// internal port (or put the secret itself in STATEROOM_CLUSTER_SECRET;
    /// never on the command line, where ps shows it). Required unless the
    /// internal address is loopback.
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_CLUSTER_SECRET_FILE", value_name = "PATH", value_parser = read_secret_file)]
    pub cluster_secret_file: Option<String>,
    /// Refused with a pointer to STATEROOM_CLUSTER_SECRET: a secret on the
    /// command line shows in ps.
    #[cfg(feature = "cluster")]
    #[doc(hidden)]
    #[arg(long = "cluster-secret", hide = true, value_parser = refuse_cluster_secret_argument)]
    pub cluster_secret_argument: Option<String>,
    /// Cluster: how many Redis replicas must confirm each save and each
    /// lease before it counts (WAIT); 1 with a Sentinel URL, else 0.
    #[cfg(feature = "cluster")]
    #[arg(long, env = "STATEROOM_REDIS_WAIT_REPLICAS", value_name = "N")]
    pub redis_wait_replicas: Option<usize>,
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
        let token = args
            .admin_token_file
            .or_else(|| secret_from_env("STATEROOM_ADMIN_TOKEN"));
        if let Some(token) = token {
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
                .node_ttl(args.node_ttl)
                .accept_redis_durability(args.accept_redis_durability);
            if let Some(node) = args.node_id {
                options = options.node_id(node);
            }
            let secret = args
                .cluster_secret_file
                .or_else(|| secret_from_env("STATEROOM_CLUSTER_SECRET"));
            if let Some(secret) = secret {
                options = options.secret(secret);
            }
            if let Some(replicas) = args.redis_wait_replicas {
                options = options.wait_replicas(replicas);
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
            .seat_reservation(args.seat_reservation)
            .store_retry(args.store_retry)
            .shutdown_timeout(args.shutdown_timeout)
            .heartbeat_interval(args.heartbeat_interval)
            .heartbeat_timeout(args.heartbeat_timeout)
            .max_message_size(args.max_message_size)
            .max_room_id_len(args.max_room_id_len)
            .max_queued_messages(args.max_queued_messages)
            .max_queued_bytes(args.max_queued_bytes)
            .slow_reader_grace(args.slow_reader_grace)
            .hard_queue_multiple(args.hard_queue_multiple)
            .max_clients_per_room(args.max_clients_per_room)
            .max_connections(args.max_connections)
            .max_rooms(args.max_rooms)
            .max_resume_messages(args.max_resume_messages)
            .max_resume_bytes(args.max_resume_bytes)
            .allowed_origins(args.allowed_origins)
            .trusted_proxies(args.trusted_proxies)
            .shutdown_delay(args.shutdown_delay)
            .admin_host(args.admin_host)
            .metrics(args.metrics)
            .data_dir(args.data_dir)
            .dev_page(args.dev)
    }
}

/// A secret read from a file (its trailing newline dropped); an empty file
/// is refused.
fn read_secret_file(path: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))?;
    let secret = text.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(format!("{path} is empty"));
    }
    Ok(secret)
}

/// A secret from the environment (an empty one is none).
fn secret_from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|secret| !secret.is_empty())
}

/// `--admin-token`: refused, whatever its value.
fn refuse_secret_argument(_: &str) -> Result<String, String> {
    Err("a token on the command line shows in ps; put it in STATEROOM_ADMIN_TOKEN or in a file named by --admin-token-file".into())
}

/// `--cluster-secret`: refused, whatever its value.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
fn refuse_cluster_secret_argument(_: &str) -> Result<String, String> {
    Err("a secret on the command line shows in ps; put it in STATEROOM_CLUSTER_SECRET or in a file named by --cluster-secret-file".into())
}

/// A lease's or heartbeat's time to live: a duration of at least 300 ms.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
fn parse_lease_ttl(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration < Duration::from_millis(300) {
        return Err("a time to live is at least 300ms".into());
    }
    Ok(duration)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
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

    #[test]
    fn the_admin_token_comes_from_a_file_or_the_environment_never_an_argument() {
        let refused = Cli::try_parse_from(["x", "--admin-token", "hunter2"])
            .err()
            .expect("refused");
        let message = refused.to_string();
        assert!(message.contains("STATEROOM_ADMIN_TOKEN"), "{message}");
        assert!(!message.contains("hunter2 "), "{message}");
        let dir = std::env::temp_dir().join(format!("stateroom-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "s3cret\n").unwrap();
        let cli = Cli::try_parse_from(["x", "--admin-token-file", file.to_str().unwrap()]).unwrap();
        assert_eq!(cli.server.admin_token_file.as_deref(), Some("s3cret"));
        std::fs::write(&file, "").unwrap();
        assert!(Cli::try_parse_from(["x", "--admin-token-file", file.to_str().unwrap()]).is_err());
        let missing = dir.join("missing");
        let error = Cli::try_parse_from(["x", "--admin-token-file", missing.to_str().unwrap()])
            .err()
            .expect("a missing file is refused")
            .to_string();
        assert!(error.contains("cannot read"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
