//! The floor of our own stack: a minimal broadcast server written straight on
//! hyper + hyper-tungstenite, with the same socket settings as Stateroom and
//! the same write coalescing, but no room task, no limits, no heartbeats and
//! no error handling beyond dropping the client. Fan-out happens in the
//! sender's reader task under one lock.

use super::Mode;
use crate::payload::{Relayed, Sent};
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::WebSocketConfig;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type Members = Vec<(u64, mpsc::UnboundedSender<Message>)>;

struct State {
    mode: Mode,
    rooms: Mutex<HashMap<String, Members>>,
    next_id: AtomicU64,
}

/// Listens on `host:port` with the accept queue Stateroom's listeners ask
/// for (1,024 connections; `TcpListener::bind` asks for 128).
///
/// # Errors
/// When `host` does not resolve or no address it names can be bound.
pub async fn listen(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(1024)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("the address resolved to nothing")))
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, mode: Mode) {
    let state = Arc::new(State {
        mode,
        rooms: Mutex::default(),
        next_id: AtomicU64::new(1),
    });
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
        });
    }
}

async fn handle(
    state: Arc<State>,
    mut request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(room) = request.uri().path().strip_prefix("/ws/").map(str::to_owned) else {
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024);
    match hyper_tungstenite::upgrade(&mut request, Some(config)) {
        Ok((response, websocket)) => {
            tokio::spawn(async move {
                if let Ok(socket) = websocket.await {
                    client(state, room, socket).await;
                }
            });
            Ok(response)
        }
        Err(_) => {
            let mut response = Response::new(Full::default());
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}

fn lock(state: &State) -> std::sync::MutexGuard<'_, HashMap<String, Members>> {
    state
        .rooms
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn client(state: Arc<State>, room: String, socket: hyper_tungstenite::HyperWebsocketStream) {
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    lock(&state)
        .entry(room.clone())
        .or_default()
        .push((id, tx.clone()));
    let (mut sink, mut stream) = socket.split();
    let writer = async {
        while let Some(message) = rx.recv().await {
            sink.feed(message).await?;
            while let Ok(message) = rx.try_recv() {
                sink.feed(message).await?;
            }
            sink.flush().await?;
        }
        Ok::<(), hyper_tungstenite::tungstenite::Error>(())
    };
    let reader = async {
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(sent) = serde_json::from_str::<Sent>(&text) else {
                continue;
            };
            let Ok(out) = serde_json::to_string(&Relayed::new(id, &sent)) else {
                continue;
            };
            let out = Message::text(out);
            match state.mode {
                Mode::Echo => {
                    let _ = tx.send(out);
                }
                Mode::Fanout => {
                    if let Some(members) = lock(&state).get(&room) {
                        for (_, member) in members {
                            let _ = member.send(out.clone());
                        }
                    }
                }
            }
        }
    };
    tokio::select! {
        () = reader => {}
        _ = writer => {}
    }
    let mut rooms = lock(&state);
    if let Some(members) = rooms.get_mut(&room) {
        members.retain(|(member, _)| *member != id);
        if members.is_empty() {
            rooms.remove(&room);
        }
    }
}
