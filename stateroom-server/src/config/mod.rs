//! Server configuration: the [`Server`] builder, its [`Limits`], and the
//! options of a cluster node (`ClusterOptions`, with the `cluster` feature).

// Without the `cluster` feature nothing sets these options.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
mod cluster;
pub(crate) mod defaults;
mod duration;
mod limits;

#[cfg(feature = "cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
pub use cluster::ClusterOptions;
#[cfg(not(feature = "cluster"))]
pub(crate) use cluster::ClusterOptions;
pub use duration::parse_duration;
pub use limits::Limits;

use std::time::Duration;

/// Builds and runs a Stateroom server.
///
/// ```no_run
/// # use stateroom_core::{SimpleStateroomService, StateroomContext};
/// # struct Echo;
/// # impl SimpleStateroomService for Echo {
/// #     fn new(_: &str, _: &impl StateroomContext) -> Self { Echo }
/// # }
/// use std::time::Duration;
/// use stateroom_server::Server;
///
/// Server::new()
///     .host("0.0.0.0")
///     .port(8080)
///     .room_grace(Duration::from_secs(10))
///     .serve::<Echo>()
///     .expect("server failed");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Server {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) room_grace: Duration,
    /// How long a matchmaking seat reservation waits for its client.
    pub(crate) seat_reservation: Duration,
    pub(crate) store_retry: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) worker_threads: Option<usize>,
    pub(crate) limits: Limits,
    /// Overrides the service's `RECONNECT_WINDOW` when set (zero: off).
    pub(crate) reconnect_window: Option<Duration>,
    /// Origins whose pages may open sockets; empty: any.
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) trusted_proxies: Vec<stateroom_core::TrustedNet>,
    /// Count and export metrics (`/metrics`).
    pub(crate) metrics: bool,
    pub(crate) admin_host: String,
    /// The admin listener's port, if it has its own.
    pub(crate) admin_port: Option<u16>,
    /// Required as `Authorization: Bearer …` on `/admin/…` when set.
    pub(crate) admin_token: Option<String>,
    /// How long shutdown keeps serving with `/readyz` at 503 before it closes
    /// clients.
    pub(crate) shutdown_delay: Duration,
    /// Persisted services: where the embedded store keeps its data.
    pub(crate) data_dir: std::path::PathBuf,
    /// Persisted services: a store of the user's own instead of the embedded one.
    pub(crate) store: Option<StoreHandle>,
    /// Persisted services: the service's name in the store.
    pub(crate) service_name: Option<String>,
    /// Persisted services: stored rooms not saved for this long are deleted.
    pub(crate) retention: Option<Duration>,
    /// Where rooms' WebSockets are: `{ws_prefix}{room_id}`.
    pub(crate) ws_prefix: String,
    /// Where rooms answer HTTP: `{http_prefix}{room_id}`.
    pub(crate) http_prefix: String,
    /// Serve the development page.
    pub(crate) dev_page: bool,
    /// The service's TypeScript, which the development page shows.
    pub(crate) client_types: Option<std::sync::Arc<str>>,
    /// A directory of the user's files to serve.
    pub(crate) static_dir: Option<std::path::PathBuf>,
    /// Many nodes: the registry, this node's name and internal address.
    pub(crate) cluster: Option<ClusterOptions>,
    /// Set by [`serve`](Self::serve): the threads its rooms run on.
    pub(crate) shards: Option<std::sync::Arc<crate::engine::shards::Shards>>,
    /// The services given to [`Server::room`], in order.
    pub(crate) kinds: Vec<std::sync::Arc<crate::engine::kinds::Kind>>,
}

/// A store given to [`Server::store`].
#[derive(Clone)]
pub(crate) struct StoreHandle(pub(crate) std::sync::Arc<dyn crate::engine::store::RoomStore>);

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomStore")
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            host: defaults::HOST.to_owned(),
            port: defaults::PORT,
            room_grace: defaults::duration(defaults::ROOM_GRACE),
            seat_reservation: defaults::duration(defaults::SEAT_RESERVATION),
            store_retry: defaults::duration(defaults::STORE_RETRY),
            shutdown_timeout: defaults::duration(defaults::SHUTDOWN_TIMEOUT),
            heartbeat_interval: defaults::duration(defaults::HEARTBEAT_INTERVAL),
            heartbeat_timeout: defaults::duration(defaults::HEARTBEAT_TIMEOUT),
            worker_threads: None,
            limits: Limits::default(),
            reconnect_window: None,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            metrics: defaults::METRICS,
            admin_host: defaults::ADMIN_HOST.to_owned(),
            admin_port: None,
            admin_token: None,
            shutdown_delay: defaults::duration(defaults::SHUTDOWN_DELAY),
            data_dir: std::path::PathBuf::from(defaults::DATA_DIR),
            store: None,
            service_name: None,
            retention: None,
            ws_prefix: "/ws/".to_owned(),
            http_prefix: "/rooms/".to_owned(),
            dev_page: false,
            client_types: None,
            static_dir: None,
            cluster: None,
            shards: None,
            kinds: Vec::new(),
        }
    }
}

impl Server {
    /// Serves the development page at `/` (or, with a static directory, at
    /// `/__stateroom/dev/`): pick a room, open clients side by side, send
    /// JSON, see every frame with its time and every close code. Off by
    /// default; for development only (it lets anyone who reaches the port
    /// talk to any room).
    pub fn dev_page(mut self, on: bool) -> Self {
        self.dev_page = on;
        self
    }

    /// The service's message types in TypeScript (what `--emit-ts` writes),
    /// which the development page shows and fills its message box from.
    pub fn client_types(mut self, typescript: impl Into<String>) -> Self {
        self.client_types = Some(typescript.into().into());
        self
    }

    /// Serves the files under `dir` (a game's HTML, scripts, images) at the
    /// paths that no room or endpoint uses, with content types from their
    /// extensions, `Last-Modified` and `Cache-Control: no-cache` (browsers
    /// revalidate, and get `304` while a file is unchanged). `/` serves
    /// `index.html`. Nothing outside `dir` is served: `..`, encoded or not,
    /// and symlinks that lead out of it get `404`.
    pub fn static_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    /// Joins a cluster of nodes that share rooms through a registry
    /// (Redis): each room is served by one node at a time, which holds its
    /// lease; a join that lands elsewhere is forwarded there. Persisted
    /// rooms are stored in the same Redis. See `docs/scale-out.md`.
    pub fn cluster(mut self, options: ClusterOptions) -> Self {
        self.cluster = Some(options);
        self
    }

    /// A server with the defaults: `127.0.0.1:8080`, a 5-second room grace period
    /// and the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The address to listen on: an IP address or a host name. Default `127.0.0.1`;
    /// use `0.0.0.0` to accept connections from other machines.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port to listen on. Default 8080; 0 picks a free port, which
    /// [`ServerHandle::local_addr`](crate::ServerHandle::local_addr) reports.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long an empty room is kept before it is freed, so that a client that
    /// reloads its page finds the same state. Default 5 seconds.
    pub fn room_grace(mut self, grace: Duration) -> Self {
        self.room_grace = grace;
        self
    }

    /// How long a seat that matchmaking reserved waits for its client
    /// (`POST /matchmake`, `Rooms::matchmake`): past it the reservation is
    /// refused (410) and the seat is free again. Default 15 seconds.
    pub fn seat_reservation(mut self, window: Duration) -> Self {
        self.seat_reservation = window;
        self
    }

    /// How long a persisted room on one node keeps retrying a store that
    /// fails, its frames held, before it gives up (1011). In a cluster a
    /// room retries as long as its lease holds instead. Default 10 seconds.
    pub fn store_retry(mut self, budget: Duration) -> Self {
        self.store_retry = budget;
        self
    }

    /// How long a graceful shutdown waits for clients to take their last messages
    /// and close. Default 10 seconds.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a graceful shutdown keeps serving, with `/readyz` already at
    /// 503 and new joins refused, before it closes clients: time for a load
    /// balancer's health checks to take the server out. Default 0.
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.shutdown_delay = delay;
        self
    }

    /// Counts and exports metrics at `GET /metrics` (default on). Off, the
    /// endpoint answers 404 and rooms skip the shared counters.
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// Serves `/metrics`, `/readyz` and the admin view (`/admin/rooms`) on a
    /// listener of their own at `port` (0 picks one), and no longer on the
    /// WebSocket port. Default: no admin listener.
    pub fn admin_port(mut self, port: u16) -> Self {
        self.admin_port = Some(port);
        self
    }

    /// The admin listener's address. Default `127.0.0.1`.
    pub fn admin_host(mut self, host: impl Into<String>) -> Self {
        self.admin_host = host.into();
        self
    }

    /// Requires `Authorization: Bearer <token>` on `/admin/…` (401 without
    /// it). Without an admin listener, the admin view is served on the
    /// public port only when a token is set.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Persisted services (`#[stateroom::service(persist)]`): the directory
    /// of the embedded SQLite store. Default `./stateroom-data`. One server
    /// process per directory (it is locked).
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.data_dir = dir.into();
        self
    }

    /// Persisted services: keeps rooms in `store` instead of the embedded
    /// SQLite store.
    pub fn store(mut self, store: std::sync::Arc<dyn crate::engine::store::RoomStore>) -> Self {
        self.store = Some(StoreHandle(store));
        self
    }

    /// Persisted services: the service's name in the store (several services
    /// may share one). Default: the service type's name.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Persisted services: deletes stored rooms not saved for `retention`
    /// (checked at startup and every hour). Default: kept until
    /// `ctx.destroy()`.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// Where rooms' WebSockets are: `{prefix}{room_id}`. Default `/ws/`;
    /// set it to where you mount the service in your own router (for
    /// example `/game/ws/`).
    pub fn ws_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.ws_prefix = prefix.into();
        self
    }

    /// Where rooms answer HTTP (services with a `request` hook):
    /// `{prefix}{room_id}`. Default `/rooms/`.
    pub fn http_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.http_prefix = prefix.into();
        self
    }

    /// How often the server pings each client. Default 15 seconds.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// How long a client may stay silent (no frame at all, pongs included)
    /// before it is dropped and its room's `disconnect` runs. Default 45 seconds.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = timeout;
        self
    }

    /// How many worker threads [`serve`](Self::serve) starts: as many room
    /// shards (a current-thread runtime each; a room and its clients'
    /// connections run on one shard, a new room on the one with the fewest
    /// rooms), and as many workers of a multi-threaded runtime for HTTP,
    /// admin, persistence and the cluster. Default: one per CPU core.
    /// (Ignored by [`start`](Self::start) and
    /// [`serve_async`](Self::serve_async), which run everything on the
    /// caller's runtime.)
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = Some(threads.max(1));
        self
    }

    /// How long a client whose connection dropped keeps its seat for a
    /// resume, overriding the service's own setting
    /// (`#[stateroom::service(reconnect = "30s")]`); `Duration::ZERO` turns
    /// reconnection off. See `docs/protocol.md` for the resume protocol.
    pub fn reconnect_window(mut self, window: Duration) -> Self {
        self.reconnect_window = Some(window);
        self
    }

    /// The proxies whose forwarding headers to believe: behind them,
    /// `JoinRequest::client_ip` is the right-most address of `Forwarded`
    /// (else `X-Forwarded-For`) that is not one of them; from any other
    /// peer the headers are ignored. Empty, the default: the client's
    /// address is the TCP peer's.
    pub fn trusted_proxies(
        mut self,
        proxies: impl IntoIterator<Item = stateroom_core::TrustedNet>,
    ) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Only pages from these origins (`https://game.example`, scheme, host and
    /// port exactly) may open sockets; a browser request from any other
    /// origin gets 403 before the upgrade. Requests without an `Origin`
    /// header (not from a browser) are not affected. Empty, the default:
    /// every origin may connect. Turn it on whenever clients authenticate
    /// with cookies, so another site's page cannot open a socket as your user.
    pub fn allowed_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }
}
