//! The listeners: binding, the accept loops, serving HTTP/1 with upgrades on
//! each connection, and the signal that starts a graceful shutdown.

use crate::edge::{Edge, drain};
use crate::error::ServerError;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

/// Waits for SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
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

/// Binds `host:port`.
pub(crate) async fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), ServerError> {
    let listener = TcpListener::bind((host, port))
        .await
        .map_err(|source| ServerError::Bind {
            addr: format!("{host}:{port}"),
            source,
        })?;
    let addr = listener.local_addr().map_err(ServerError::Io)?;
    Ok((listener, addr))
}

/// Binds `host:port` given as one string.
pub(crate) async fn bind_addr(addr: &str) -> Result<(TcpListener, SocketAddr), ServerError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: addr.to_owned(),
            source,
        })?;
    let addr = listener.local_addr().map_err(ServerError::Io)?;
    Ok((listener, addr))
}

/// Serves until told to stop, then drains: refuse new joins (`/readyz` 503),
/// wait out the shutdown delay while still serving, end every room, and wait
/// for the connections to close. Both listeners keep answering HTTP until the
/// end, so `/healthz` is 200 until the process exits.
pub(crate) async fn run(
    listener: TcpListener,
    admin: Option<TcpListener>,
    internal: Option<TcpListener>,
    edge: Arc<Edge>,
    mut stopped: watch::Receiver<bool>,
) {
    let public = tokio::spawn(accept_loop(listener, edge.clone(), Listener::Public));
    let admin = admin.map(|admin| tokio::spawn(accept_loop(admin, edge.clone(), Listener::Admin)));
    let internal = internal
        .map(|internal| tokio::spawn(accept_loop(internal, edge.clone(), Listener::Internal)));
    let _ = stopped.changed().await;
    drain(&edge).await;
    public.abort();
    for task in [admin, internal].into_iter().flatten() {
        task.abort();
    }
    info!("server stopped");
}

/// Which listener a connection came in on.
#[derive(Clone, Copy)]
enum Listener {
    Public,
    Admin,
    /// A cluster node's port for its peers' forwarded joins.
    Internal,
}

async fn accept_loop(listener: TcpListener, edge: Arc<Edge>, which: Listener) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let edge = edge.clone();
                let span = info_span!("http", %peer);
                tokio::spawn(serve_http(tcp, peer, edge, which).instrument(span));
            }
            Err(error) => {
                // Out of file descriptors, or a connection reset before accept:
                // back off briefly instead of spinning.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves a stream the owner's end of a cluster link opened (see
/// `edge::cluster::link`) as a connection to the internal port.
pub(crate) fn serve_linked(stream: crate::edge::cluster::link::LinkStream, edge: Arc<Edge>) {
    let peer = SocketAddr::from(([0, 0, 0, 0], 0));
    tokio::spawn(serve_http(stream, peer, edge, Listener::Internal));
}

async fn serve_http<I>(io: I, peer: SocketAddr, edge: Arc<Edge>, which: Listener)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let edge = edge.clone();
        async move {
            match which {
                Listener::Public => crate::edge::http::handle(edge, Some(peer), request).await,
                Listener::Admin => crate::edge::http::handle_admin(edge, request).await,
                Listener::Internal => crate::edge::http::handle_internal(edge, request).await,
            }
        }
    });
    let result = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
    if let Err(error) = result {
        debug!(%error, "HTTP connection ended with an error");
    }
}
