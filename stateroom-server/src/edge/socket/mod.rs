//! A client's WebSocket: the HTTP upgrade, the framing, and the byte stream
//! under it.
//!
//! [`Wire`] is the WebSocket itself: data frames read and written here, and
//! tungstenite's protocol state machine (`WebSocketContext`) for control
//! frames, fragments and the close handshake, driven by the connection's
//! own task with its own waker. Data frames are encoded here and written a
//! batch per system call (short batches copied on the stack, long ones
//! vectored from the messages' shared bytes). See `wire` for why it is not
//! tokio-tungstenite.
//!
//! Reads: each socket read goes into a stack buffer of 8 KiB, and the
//! common frame (whole, final, masked text or binary) is parsed from it
//! straight into its message's one allocation (`inbound`); any other frame
//! goes whole to tungstenite. Bytes past the frame a read returns wait in a
//! heap buffer that exists only while they do, so an idle connection keeps
//! no read buffer of ours, and tungstenite's, which now sees only the rare
//! frames, is [`READ_BUFFER`] bytes.

mod inbound;
mod stream;
mod wire;

use crate::edge::cluster::link::LinkStream;
use crate::engine::outbox::Outbox;
use bytes::Bytes;
use http_body_util::Full;
use hyper::upgrade::OnUpgrade;
use hyper_tungstenite::tungstenite::error::ProtocolError;
use hyper_tungstenite::tungstenite::handshake::derive_accept_key;
use hyper_tungstenite::tungstenite::protocol::WebSocketConfig;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
pub(crate) use stream::Stream;
pub(crate) use wire::Wire;

/// An admitted client's WebSocket.
pub(crate) type Socket = Wire<Stream>;

impl Socket {
    /// Moves the socket to `runtime`'s reactor, for a task there (see
    /// [`Stream::move_to`]).
    pub(crate) fn move_to(&mut self, runtime: &tokio::runtime::Handle) -> std::io::Result<()> {
        self.get_mut().move_to(runtime)
    }

    /// Moves the TCP stream underneath into `outbox`, for the shard's
    /// flusher (see [`Stream::Shared`]).
    pub(crate) fn share(&mut self, outbox: &Arc<Outbox>) {
        self.get_mut().share(outbox);
    }
}

/// tungstenite's own read buffer per connection (it grows for a frame larger
/// than this while the frame arrives). It reads only the frames `inbound`
/// hands it whole, from memory.
pub(crate) const READ_BUFFER: usize = 16;

/// The WebSocket settings of a room connection under `limits`.
pub(crate) fn config(limits: &crate::config::Limits) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(limits.max_queued_bytes.saturating_add(64 * 1024))
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size))
}

/// Checks an upgrade request's WebSocket headers and builds the `101`
/// response (body empty); the [`Upgrading`] resolves to the socket once hyper
/// has sent it.
pub(crate) fn accept<B>(
    request: &mut hyper::Request<B>,
    config: Arc<WebSocketConfig>,
) -> Result<(hyper::Response<Full<Bytes>>, Upgrading), ProtocolError> {
    let key = request
        .headers()
        .get(hyper::header::SEC_WEBSOCKET_KEY)
        .ok_or(ProtocolError::MissingSecWebSocketKey)?;
    let version = request.headers().get(hyper::header::SEC_WEBSOCKET_VERSION);
    if version.map(|v| v.as_bytes()) != Some(b"13") {
        return Err(ProtocolError::MissingSecWebSocketVersionHeader);
    }
    let accept = hyper::header::HeaderValue::try_from(derive_accept_key(key.as_bytes()))
        .map_err(|_| ProtocolError::InvalidHeader(Box::new(hyper::header::SEC_WEBSOCKET_KEY)))?;
    let mut response = hyper::Response::new(Full::default());
    *response.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("upgrade"),
    );
    headers.insert(
        hyper::header::UPGRADE,
        hyper::header::HeaderValue::from_static("websocket"),
    );
    headers.insert(hyper::header::SEC_WEBSOCKET_ACCEPT, accept);
    let upgrading = Upgrading {
        on: hyper::upgrade::on(request),
        config,
    };
    Ok((response, upgrading))
}

/// A WebSocket whose `101` is on its way to the client.
pub(crate) struct Upgrading {
    on: OnUpgrade,
    config: Arc<WebSocketConfig>,
}

impl Upgrading {
    /// The socket, once the upgrade completes.
    pub(crate) async fn socket(self) -> Result<Socket, hyper::Error> {
        let upgraded = self.on.await?;
        // Our own listener's connections are a TCP stream under hyper: take
        // it back (with whatever hyper read past the request).
        // A join forwarded here is a stream on a cluster link: take it back
        // too.
        let (io, read) = match upgraded.downcast::<TokioIo<tokio::net::TcpStream>>() {
            Ok(parts) => (Stream::Tcp(parts.io.into_inner()), parts.read_buf),
            Err(upgraded) => match upgraded.downcast::<TokioIo<LinkStream>>() {
                Ok(parts) => (Stream::Link(parts.io.into_inner()), parts.read_buf),
                Err(upgraded) => (
                    Stream::Upgraded(Box::new(TokioIo::new(upgraded))),
                    Bytes::new(),
                ),
            },
        };
        Ok(Wire::after(io, self.config, &read))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;

    /// Served as `edge::listen` serves a connection (hyper over the TCP
    /// stream), an upgraded socket is that TCP stream again, which is what
    /// lets a connection move to its room's shard.
    #[tokio::test]
    async fn our_listeners_upgrades_give_back_the_tcp_stream() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (found, was_tcp) = tokio::sync::oneshot::channel();
        let found = std::sync::Mutex::new(Some(found));
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let found = std::sync::Arc::new(found);
            let service = service_fn(move |mut request| {
                let found = found.clone();
                async move {
                    let (response, upgrading) =
                        accept(&mut request, Arc::new(WebSocketConfig::default())).unwrap();
                    tokio::spawn(async move {
                        let mut socket = upgrading.socket().await.unwrap();
                        let tcp = matches!(socket.get_mut(), Stream::Tcp(_));
                        if let Some(found) = found.lock().unwrap().take() {
                            let _ = found.send(tcp);
                        }
                    });
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
        });
        let (_client, response) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/x"))
            .await
            .unwrap();
        assert_eq!(response.status(), 101);
        assert!(
            was_tcp.await.unwrap(),
            "the upgraded socket is not a TCP stream"
        );
        server.abort();
    }
}
