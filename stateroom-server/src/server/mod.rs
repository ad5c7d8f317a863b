//! Binding, the accept loop, and shutdown; `open`: the store and the
//! cluster a server opens before it serves.

mod open;

use crate::config::Server;
use crate::edge::Edge;
use crate::edge::listen::{bind, bind_addr, run, shutdown_signal};
use crate::engine::Engine;
use crate::engine::kinds::{KindError, Kinds};
use crate::engine::metrics::Metrics;
use crate::engine::registry::Registry;
use crate::engine::shards::Shards;
use crate::error::{ClusterError, ServerError};
#[cfg(feature = "cluster")]
use open::join_cluster;
use open::open_store;
use stateroom_core::SimpleStateroomService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

/// A server running in the background, returned by [`Server::start`].
///
/// Dropping the handle leaves the server running until the runtime stops; call
/// [`shutdown`](Self::shutdown) to stop it gracefully.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    edge: Arc<Edge>,
}

impl ServerHandle {
    /// The address the server listens on (with the real port when 0 was asked).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The rooms, to reach from outside ([`Rooms`](crate::Rooms)).
    #[must_use]
    pub fn rooms(&self) -> crate::engine::handle::Rooms {
        crate::engine::handle::Rooms::new(self.edge.engine.clone())
    }

    /// The admin listener's address, when one was asked for
    /// ([`Server::admin_port`]).
    #[must_use]
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Shuts down gracefully: `/readyz` answers 503 and new joins are refused
    /// at once; after the configured shutdown delay every client is closed
    /// with 1001 after the messages already queued for it; then this waits
    /// (at most the configured shutdown timeout) for the connections to end.
    /// `/healthz` answers 200 throughout.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Server {
    /// Adds service `S` as the room kind `kind`: its rooms are at
    /// `/ws/{kind}/{room_id}` (and `/rooms/{kind}/{room_id}` for HTTP).
    /// Serve the kinds with [`start_rooms`](Self::start_rooms),
    /// [`serve_rooms`](Self::serve_rooms) or [`embed_rooms`](Self::embed_rooms).
    /// Each kind keeps its own hooks, persistence, reconnection window and
    /// limits per room; the server's limits (rooms, connections) cover them
    /// all. A kind's name follows the room-id rules (`A–Z a–z 0–9 - _ . ~`).
    ///
    /// ```no_run
    /// # use stateroom_server::Server;
    /// # use stateroom_core::{SimpleStateroomService, StateroomContext};
    /// # struct Lobby; struct Match;
    /// # impl SimpleStateroomService for Lobby { fn new(_: &str, _: &impl StateroomContext) -> Self { Lobby } }
    /// # impl SimpleStateroomService for Match { fn new(_: &str, _: &impl StateroomContext) -> Self { Match } }
    /// Server::new()
    ///     .room::<Lobby>("lobby")
    ///     .room::<Match>("match")
    ///     .serve_rooms()
    ///     .expect("server failed");
    /// ```
    pub fn room<S: SimpleStateroomService>(mut self, kind: &str) -> Self {
        let kind = crate::engine::kinds::Kind::of::<S>(kind);
        self.kinds.push(Arc::new(kind));
        self
    }

    /// Binds the listener and starts serving `S` in the background on the current
    /// tokio runtime.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub async fn start<S: SimpleStateroomService>(self) -> Result<ServerHandle, ServerError> {
        self.start_kinds(Kinds::single::<S>()).await
    }

    /// [`start`](Self::start) for the kinds given to [`room`](Self::room).
    ///
    /// # Errors
    /// [`ServerError::Kind`] when no kind was given, or two share a name;
    /// as [`start`](Self::start) otherwise.
    pub async fn start_rooms(mut self) -> Result<ServerHandle, ServerError> {
        let kinds = Kinds::named(std::mem::take(&mut self.kinds))?;
        self.start_kinds(kinds).await
    }

    async fn start_kinds(self, kinds: Kinds) -> Result<ServerHandle, ServerError> {
        if !self.kinds.is_empty() {
            return Err(KindError::Mixed.into());
        }
        let (listener, local_addr) = bind(&self.host, self.port).await?;
        let admin = match self.admin_port {
            Some(port) => Some(bind(&self.admin_host, port).await?),
            None => None,
        };
        let admin_addr = admin.as_ref().map(|(_, addr)| *addr);
        let internal = match &self.cluster {
            Some(options) => Some(bind_addr(&options.internal_addr).await?),
            None => None,
        };
        let joined = internal
            .as_ref()
            .map(|(_, addr)| (*addr, local_addr.port()));
        let named = kinds.named_paths();
        let edge = self.into_edge(kinds, joined).await?;
        if let Some(cluster) = &edge.cluster {
            tokio::spawn(cluster.clone().renew_loop());
            tokio::spawn(cluster.clone().heartbeat_loop());
            tokio::spawn(cluster.clone().publish_loop(edge.engine.clone()));
        }
        let (stop, stopped) = watch::channel(false);
        if named {
            info!(%local_addr, "stateroom listening; rooms at ws://{local_addr}/ws/{{kind}}/{{room_id}}");
        } else {
            info!(%local_addr, "stateroom listening; rooms at ws://{local_addr}/ws/{{room_id}}");
        }
        if let Some(admin_addr) = admin_addr {
            info!(%admin_addr, "admin listener: /metrics, /readyz, /admin/rooms");
        }
        let task = tokio::spawn(run(
            listener,
            admin.map(|(l, _)| l),
            internal.map(|(l, _)| l),
            edge.clone(),
            stopped,
        ));
        Ok(ServerHandle {
            local_addr,
            admin_addr,
            stop,
            task,
            edge,
        })
    }

    /// The engine and the edge of a server of `kinds`, with its store opened.
    #[cfg_attr(not(feature = "cluster"), allow(unused_mut))]
    async fn into_edge(
        mut self,
        kinds: Kinds,
        internal: Option<(SocketAddr, u16)>,
    ) -> Result<Arc<Edge>, ServerError> {
        let metrics = self.metrics.then(|| {
            let metrics = Metrics::new(kinds.names());
            Arc::new(match &self.cluster {
                Some(_) => metrics.for_cluster(),
                None => metrics,
            })
        });
        let cluster = match (&self.cluster, internal) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(ClusterError::NeedsListeners.into());
            }
            #[cfg(feature = "cluster")]
            (Some(options), Some((addr, port))) => {
                let cluster_metrics = metrics.as_ref().map(|metrics| metrics.cluster.clone());
                let (cluster, store) =
                    join_cluster(options, (addr, port), &self, &kinds, cluster_metrics).await?;
                if let Some(store) = store {
                    self.store = Some(crate::config::StoreHandle(store));
                }
                if let Some(metrics) = &metrics {
                    let _ = cluster.metrics.set(metrics.cluster.clone());
                }
                Some(cluster)
            }
            // Without the `cluster` feature `Server::cluster` does not
            // exist, so no options are ever set.
            #[cfg(not(feature = "cluster"))]
            (Some(_), Some(_)) => None,
        };
        let persistence = match kinds.persist() {
            Some(_) => Some(Arc::new(open_store(&self, &kinds, metrics.clone()).await?)),
            None => None,
        };
        let shards = self.shards.take();
        let static_dir = match &self.static_dir {
            Some(dir) => Some(crate::edge::files::StaticDir::open(dir).map_err(|source| {
                ServerError::StaticDir {
                    dir: dir.clone(),
                    source,
                }
            })?),
            None => None,
        };
        if self.dev_page {
            tracing::warn!(
                "the development page is on (--dev): anyone who reaches this port can open it; never use it in production"
            );
        }
        let leases = cluster
            .clone()
            .map(|cluster| cluster as Arc<dyn crate::engine::leases::Leases>);
        let cluster_rooms = cluster
            .clone()
            .map(|cluster| cluster as Arc<dyn crate::engine::cluster_rooms::ClusterRooms>);
        let engine = Arc::new(Engine {
            config: self,
            rooms: Registry::default(),
            kinds,
            metrics,
            persistence,
            leases,
            cluster: cluster_rooms,
            shards,
        });
        let ws_config = Arc::new(crate::edge::socket::config(&engine.config.limits));
        Ok(Arc::new(Edge {
            engine,
            cluster,
            static_dir,
            ws_config,
        }))
    }

    /// Starts serving `S` without a listener of its own, to mount in an
    /// existing application: [`Embedded::service`](crate::Embedded::service) is a `tower` service
    /// that axum (`Router::route_service`) and hyper accept. Set
    /// [`ws_prefix`](Self::ws_prefix) (and `http_prefix`) to where you mount
    /// it. The listener, TLS and middleware are the application's.
    ///
    /// # Errors
    /// [`ServerError::Store`] when a persisted service's store cannot open.
    pub async fn embed<S: SimpleStateroomService>(self) -> Result<crate::Embedded, ServerError> {
        if !self.kinds.is_empty() {
            return Err(KindError::Mixed.into());
        }
        Ok(crate::Embedded {
            edge: self.into_edge(Kinds::single::<S>(), None).await?,
        })
    }

    /// [`embed`](Self::embed) for the kinds given to [`room`](Self::room).
    ///
    /// # Errors
    /// [`ServerError::Kind`] when no kind was given, or two share a name;
    /// as [`embed`](Self::embed) otherwise.
    pub async fn embed_rooms(mut self) -> Result<crate::Embedded, ServerError> {
        let kinds = Kinds::named(std::mem::take(&mut self.kinds))?;
        Ok(crate::Embedded {
            edge: self.into_edge(kinds, None).await?,
        })
    }

    /// Serves `S` on the current tokio runtime until SIGINT or SIGTERM, then
    /// shuts down gracefully.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub async fn serve_async<S: SimpleStateroomService>(self) -> Result<(), ServerError> {
        serve_until_signal(self.start::<S>().await?).await
    }

    /// [`serve_async`](Self::serve_async) for the kinds given to
    /// [`room`](Self::room).
    ///
    /// # Errors
    /// As [`start_rooms`](Self::start_rooms).
    pub async fn serve_rooms_async(self) -> Result<(), ServerError> {
        serve_until_signal(self.start_rooms().await?).await
    }

    /// Builds a multi-threaded tokio runtime and serves `S` on it until SIGINT or
    /// SIGTERM.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound,
    /// [`ServerError::Io`] when the runtime cannot start.
    pub fn serve<S: SimpleStateroomService>(self) -> Result<(), ServerError> {
        self.with_shards(|server| server.serve_async::<S>())
    }

    /// [`serve`](Self::serve) for the kinds given to [`room`](Self::room).
    ///
    /// # Errors
    /// As [`start_rooms`](Self::start_rooms), and [`ServerError::Io`] when
    /// the runtime cannot start.
    pub fn serve_rooms(self) -> Result<(), ServerError> {
        self.with_shards(Server::serve_rooms_async)
    }

    /// Runs `serve` with the rooms on shards (`engine::shards`: one
    /// current-thread runtime per worker thread) and everything else on a
    /// multi-threaded runtime of as many workers.
    fn with_shards<F: Future<Output = Result<(), ServerError>>>(
        mut self,
        serve: impl FnOnce(Server) -> F,
    ) -> Result<(), ServerError> {
        let threads = self.worker_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .map_err(ServerError::Io)?;
        let shards = Shards::start(threads).map_err(ServerError::Io)?;
        self.shards = Some(shards.clone());
        let served = runtime.block_on(serve(self));
        shards.stop();
        served
    }
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully.
async fn serve_until_signal(handle: ServerHandle) -> Result<(), ServerError> {
    shutdown_signal().await;
    info!("shutdown signal received; closing clients");
    handle.shutdown().await;
    Ok(())
}
