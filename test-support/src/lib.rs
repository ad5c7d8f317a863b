//! Shared support for Stateroom's own integration tests (a dev-only crate,
//! never published): a real server on 127.0.0.1:0, real WebSocket clients
//! and raw sockets, every wait bounded; test services (`probe`, `gate`), an
//! in-memory store (`memstore`) and Node helpers (`node`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod gate;
pub mod haproxy;
pub mod memstore;
pub mod node;
pub mod numbered;
pub mod probe;
pub mod proxy;
pub mod redis;

use futures_util::{SinkExt, StreamExt};
use stateroom::{Server, ServerHandle, SimpleStateroomService};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Starts `S` on a free loopback port.
pub async fn start<S: SimpleStateroomService>(server: Server) -> ServerHandle {
    server
        .host("127.0.0.1")
        .port(0)
        .start::<S>()
        .await
        .expect("server starts")
}

/// Opens a WebSocket to `/ws/{room}`.
pub async fn join(addr: SocketAddr, room: &str) -> Ws {
    let url = format!("ws://{addr}/ws/{room}");
    // TCP_NODELAY, as browsers set it: Nagle would hold back a second small frame.
    let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
    let (ws, _) = tokio::time::timeout(WAIT, connect)
        .await
        .expect("connect in time")
        .expect("connect");
    ws
}

/// The next data frame (pings and pongs skipped).
pub async fn next(ws: &mut Ws) -> Message {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame arrives in time")
            .expect("the connection is open")
            .expect("a valid frame");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

pub async fn next_text(ws: &mut Ws) -> String {
    match next(ws).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

pub async fn next_json(ws: &mut Ws) -> serde_json::Value {
    let text = next_text(ws).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// Asserts that no data frame arrives within `quiet`.
pub async fn assert_silent(ws: &mut Ws, quiet: Duration) {
    let deadline = tokio::time::Instant::now() + quiet;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

/// Reads until the server closes the connection; returns the close code it sent.
pub async fn close_code(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the close arrives in time")
        {
            Some(Ok(Message::Close(frame))) => {
                // Reading on sends the answer to the close, so the server
                // need not wait for it.
                while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, ws.next()).await {}
                return frame.map(|f| f.code);
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// Sends a raw HTTP/1.1 request and returns the status code and the body.
pub async fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let (status, _, body) = http_full(addr, request).await;
    (status, body)
}

/// Sends one raw HTTP request; returns the status, the head (status line and
/// headers) and the body.
pub async fn http_full(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut response))
        .await
        .expect("the response arrives in time")
        .expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_owned(), body.to_owned())
}

/// `GET path` with `Connection: close`.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// `/healthz` as JSON.
pub async fn health(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("healthz is JSON")
}

/// Polls `/healthz` until `check` holds, failing after [`WAIT`].
pub async fn wait_health(
    addr: SocketAddr,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let health = health(addr).await;
        if check(&health) {
            return health;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "healthz never matched: {health}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server binary started by a test; killed if the test fails half-way.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.0.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        tokio::task::spawn_blocking(move || self.0.wait())
            .await
            .expect("wait task")
            .expect("wait")
    }
}

/// A port nobody listens on right now, for a process or listener the test
/// starts later.
///
/// It comes from below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`), never from a bind to port 0: a port the
/// kernel handed out once it hands out again, to the next `bind(0)` or
/// outgoing `connect` anywhere on the machine, and a parallel test then takes
/// it between this call and the caller's bind (`AddrInUse`). Below that range
/// only another caller of this function can take it: a counter keeps this
/// process's ports apart, and each process starts at its own offset.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    // The window below the range, clear of the registered ports under 10,000.
    let low = 10_000.min(ephemeral_low.saturating_sub(1_000));
    let span = ephemeral_low.saturating_sub(low).max(1);
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let port = low + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = u16::try_from(port).expect("a port number");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below {ephemeral_low}")
}

/// Starts the server binary at `path` on a free port (through `STATEROOM_PORT`,
/// as a user would) and waits until `/healthz` answers.
pub async fn spawn_binary(path: &str) -> (Running, SocketAddr) {
    let port = free_port();
    let child = std::process::Command::new(path)
        .env("STATEROOM_PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let running = Running(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = tokio::time::Instant::now() + WAIT;
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health(addr).await["status"], "ok");
    (running, addr)
}

/// Completes a WebSocket handshake by hand and returns the raw TCP stream, for
/// sending frames no well-behaved client library would.
pub async fn raw_upgrade(addr: SocketAddr, room: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /ws/{room} HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(WAIT, tcp.read(&mut byte))
            .await
            .expect("handshake in time")
            .expect("read");
        assert_eq!(n, 1, "connection closed during the handshake");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    tcp
}

/// A client frame: FIN/RSV/opcode byte, masked (unless `masked` is false) payload.
pub fn raw_frame(first_byte: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![
        first_byte,
        payload.len() as u8 | if masked { 0x80 } else { 0 },
    ];
    if masked {
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    } else {
        frame.extend_from_slice(payload);
    }
    frame
}

/// Reads the server's (unmasked) frames until a close frame, and returns its
/// code; `None` if the connection ends without one.
pub async fn raw_close_code(tcp: &mut TcpStream) -> Option<u16> {
    raw_read_until_close(tcp).await.1
}

/// Reads the server's (unmasked) frames until a close frame; returns the
/// payloads of the data frames before it and the close code (`None` if the
/// connection ends without a close frame, or the frame has no code).
pub async fn raw_read_until_close(tcp: &mut TcpStream) -> (Vec<Vec<u8>>, Option<u16>) {
    let mut buffer = Vec::new();
    let mut data = Vec::new();
    loop {
        // Parse whatever complete frames are buffered.
        while buffer.len() >= 2 {
            let opcode = buffer[0] & 0x0f;
            let (len, start) = match buffer[1] & 0x7f {
                126 if buffer.len() >= 4 => {
                    (u16::from_be_bytes([buffer[2], buffer[3]]) as usize, 4)
                }
                127 if buffer.len() >= 10 => (
                    u64::from_be_bytes(buffer[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => break,
                len => (len as usize, 2),
            };
            if buffer.len() < start + len {
                break;
            }
            let payload = buffer[start..start + len].to_vec();
            buffer.drain(..start + len);
            match opcode {
                0x8 => {
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    return (data, code);
                }
                0x1 | 0x2 => data.push(payload),
                _ => {}
            }
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(WAIT, tcp.read(&mut chunk))
            .await
            .expect("the server answers in time")
        {
            Ok(0) | Err(_) => return (data, None),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}
