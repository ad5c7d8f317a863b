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
use tokio::net::{TcpListener, TcpSocket};
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

/// The length of each listener's queue of connections the kernel has
/// completed and the server has not yet accepted. `TcpListener::bind` asks
/// for 128: in a reconnect storm (every client of a restarted node at once)
/// accepts wait behind the joins they started, the queue overflows, and each
/// dropped SYN costs its client a one-second retransmit. Node and nginx ask
/// for 511, Bun for 512; Linux clamps this to `net.core.somaxconn` (4096 by
/// default).
pub(crate) const BACKLOG: u32 = 1024;

/// Binds `host:port`.
pub(crate) async fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), ServerError> {
    bind_first((host, port), || format!("{host}:{port}")).await
}

/// Binds `host:port` given as one string.
pub(crate) async fn bind_addr(addr: &str) -> Result<(TcpListener, SocketAddr), ServerError> {
    bind_first(addr, || addr.to_owned()).await
}

/// Listens on the first address `addr` resolves to that can be bound, as
/// `TcpListener::bind` does, with a queue of [`BACKLOG`].
async fn bind_first(
    addr: impl tokio::net::ToSocketAddrs,
    name: impl FnOnce() -> String,
) -> Result<(TcpListener, SocketAddr), ServerError> {
    let mut last = None;
    match tokio::net::lookup_host(addr).await {
        Ok(addrs) => {
            for addr in addrs {
                match listen(addr) {
                    Ok(listener) => {
                        let addr = listener.local_addr().map_err(ServerError::Io)?;
                        return Ok((listener, addr));
                    }
                    Err(error) => last = Some(error),
                }
            }
        }
        Err(error) => last = Some(error),
    }
    let source = last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    });
    Err(ServerError::Bind {
        addr: name(),
        source,
    })
}

/// A listener on `addr` with SO_REUSEADDR (as the standard library sets on
/// Unix, so a restarted server can bind while old connections linger in
/// TIME_WAIT) and a queue of [`BACKLOG`].
pub(crate) fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Far more clients than `TcpListener::bind`'s queue of 128 connect to a
    /// listener that has not accepted yet: every handshake completes. With
    /// the old queue the kernel drops the 130th SYN onwards, and with nothing
    /// accepted their retransmits are dropped too, so they would still be
    /// waiting when the 30 s deadline ends the test.
    #[tokio::test]
    async fn a_storm_of_connects_fits_the_accept_queue() {
        let (listener, addr) = bind("127.0.0.1", 0).await.unwrap();
        let connects: Vec<_> = (0..400)
            .map(|_| tokio::spawn(tokio::net::TcpStream::connect(addr)))
            .collect();
        let all = async {
            let mut streams = Vec::new();
            for connect in connects {
                streams.push(connect.await.unwrap().unwrap());
            }
            streams
        };
        let streams = tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .expect("every connect completes before any is accepted");
        assert_eq!(streams.len(), 400);
        // And they are all there to accept.
        for _ in 0..400 {
            listener.accept().await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_port_in_use_is_a_bind_error_naming_the_address() {
        let (_held, addr) = bind("127.0.0.1", 0).await.unwrap();
        let Err(ServerError::Bind {
            addr: named,
            source,
        }) = bind("127.0.0.1", addr.port()).await
        else {
            panic!("binding a port in use must fail");
        };
        assert_eq!(named, format!("127.0.0.1:{}", addr.port()));
        assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
    }
}
