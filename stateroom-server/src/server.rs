//! Binding, the accept loop, and shutdown.

use crate::config::Server;
use crate::error::ServerError;
use crate::room::{self, RoomEvent};
use crate::rooms::Rooms;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use stateroom_core::SimpleStateroomService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, info, info_span, warn};

/// How a room task of the served service type is started; the only place the
/// service's type is needed, so everything else is not generic.
pub(crate) type SpawnRoomFn = fn(Arc<Shared>, Arc<str>, u64, mpsc::Receiver<RoomEvent>);

/// What every part of a running server shares.
pub(crate) struct Shared {
    pub(crate) config: Server,
    pub(crate) rooms: Rooms,
    pub(crate) spawn_room: SpawnRoomFn,
}

/// A server running in the background, returned by [`Server::start`].
///
/// Dropping the handle leaves the server running until the runtime stops; call
/// [`shutdown`](Self::shutdown) to stop it gracefully.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The address the server listens on (with the real port when 0 was asked).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every client with 1001 after the messages already
    /// queued for it, and waits (at most the configured shutdown timeout) for
    /// the connections to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Server {
    /// Binds the listener and starts serving `S` in the background on the current
    /// tokio runtime.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub async fn start<S: SimpleStateroomService>(self) -> Result<ServerHandle, ServerError> {
        let listener = TcpListener::bind((self.host.as_str(), self.port))
            .await
            .map_err(|source| ServerError::Bind {
                addr: format!("{}:{}", self.host, self.port),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(ServerError::Io)?;
        let shared = Arc::new(Shared {
            config: self,
            rooms: Rooms::default(),
            spawn_room: room::spawn::<S>,
        });
        let (stop, stopped) = watch::channel(false);
        info!(%local_addr, "stateroom listening; rooms at ws://{local_addr}/ws/{{room_id}}");
        let task = tokio::spawn(accept_loop(listener, shared, stopped));
        Ok(ServerHandle {
            local_addr,
            stop,
            task,
        })
    }

    /// Serves `S` on the current tokio runtime until SIGINT or SIGTERM, then
    /// shuts down gracefully.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub async fn serve_async<S: SimpleStateroomService>(self) -> Result<(), ServerError> {
        let handle = self.start::<S>().await?;
        shutdown_signal().await;
        info!("shutdown signal received; closing clients");
        handle.shutdown().await;
        Ok(())
    }

    /// Builds a multi-threaded tokio runtime and serves `S` on it until SIGINT or
    /// SIGTERM.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound,
    /// [`ServerError::Io`] when the runtime cannot start.
    pub fn serve<S: SimpleStateroomService>(self) -> Result<(), ServerError> {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if let Some(threads) = self.worker_threads {
            runtime.worker_threads(threads);
        }
        runtime
            .enable_all()
            .build()
            .map_err(ServerError::Io)?
            .block_on(self.serve_async::<S>())
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let shared = shared.clone();
                    let span = info_span!("http", %peer);
                    tokio::spawn(serve_http(tcp, peer, shared).instrument(span));
                }
                Err(error) => {
                    // Out of file descriptors, or a connection reset before accept:
                    // back off briefly instead of spinning.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    let rooms = shared.rooms.start_shutdown();
    for events in rooms {
        let _ = events.send(RoomEvent::Shutdown).await;
    }
    let timeout = shared.config.shutdown_timeout;
    if tokio::time::timeout(timeout, shared.rooms.wait_idle())
        .await
        .is_err()
    {
        warn!(
            open = shared.rooms.connection_count(),
            "shutdown timeout reached with connections still open"
        );
    }
    info!("server stopped");
}

async fn serve_http(tcp: tokio::net::TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let service = service_fn(move |request| crate::http::handle(shared.clone(), peer, request));
    let result = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades()
        .await;
    if let Err(error) = result {
        debug!(%error, "HTTP connection ended with an error");
    }
}
