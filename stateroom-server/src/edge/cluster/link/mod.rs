//! The link between two nodes: one TCP connection per node pair (opened by
//! the forwarding node to the owner's internal port) that carries every
//! forwarded connection between them as a stream of frames
//! ([`frame`]: open, data, end, close, credit).
//!
//! A forwarded join used to be one TCP connection to the owner per client,
//! copied byte for byte: on the forwarding node one `recvfrom` and one
//! `sendto` per frame per client, on the owner one `sendto`. On a link the
//! owner's frames for all the clients it forwards are written together
//! (one system call carries as many as were ready), and the forwarding
//! node reads them together and writes each straight to its client's
//! socket from the link's reader (`relay`): one `sendto` per frame per
//! client, as on a direct connection. Neither side parses or re-frames a
//! WebSocket frame: a stream's bytes are the owner's WebSocket bytes.
//!
//! On the owner, each stream is served as a connection to the internal
//! port (hyper, the hop's own request head, the `101`), so a forwarded
//! client is admitted exactly as before. Each direction of a stream has a
//! window ([`WINDOW`](stream::WINDOW)) of credit: a client that stops
//! reading holds up its own stream only, and the owner's writer then
//! stalls as it would on a direct client's full socket, so its overload
//! rule sees the same thing. When the link breaks, every stream on it ends
//! as a connection to a dead node would.

mod frame;
mod relay;
mod stream;

pub(crate) use relay::relay;
pub(crate) use stream::LinkStream;

use super::head::HeadError;
use bytes::BytesMut;
use frame::Kind;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use stream::Shared;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

/// The internal port's path that opens a link.
pub(crate) const PATH: &str = "/__stateroom/link";
/// The `Upgrade` protocol a link asks for.
const PROTOCOL: &str = "stateroom-link";
/// Bytes read off the link at most per call.
const READ: usize = 64 * 1024;

/// What the owner does with a stream its peer opened.
type Accept = Arc<dyn Fn(LinkStream) + Send + Sync>;

/// One link's shared state: what waits to be written, and its streams.
pub(crate) struct Link {
    out: Mutex<Out>,
    streams: Mutex<HashMap<u32, Arc<Shared>>>,
    /// The next stream id this end opens.
    next: AtomicU32,
    broken: AtomicBool,
}

/// Frames waiting for the link's writer.
#[derive(Default)]
struct Out {
    buffer: Vec<u8>,
    /// The writer, waiting for a first frame.
    waker: Option<Waker>,
    /// The link broke: nothing more is queued.
    closed: bool,
}

impl Link {
    fn new() -> Arc<Link> {
        Arc::new(Link {
            out: Mutex::new(Out::default()),
            streams: Mutex::new(HashMap::new()),
            next: AtomicU32::new(1),
            broken: AtomicBool::new(false),
        })
    }

    fn out(&self) -> std::sync::MutexGuard<'_, Out> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<Shared>>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame of the first `len` bytes of `parts`; false once the
    /// link is broken. The writer is woken by the first frame of a batch
    /// only: what is queued while it writes goes out in its next write.
    fn send<B: Deref<Target = [u8]>>(&self, kind: Kind, id: u32, len: usize, parts: &[B]) -> bool {
        let mut out = self.out();
        if out.closed {
            return false;
        }
        let first = out.buffer.is_empty();
        frame::put(&mut out.buffer, kind, id, len, parts);
        let waker = if first { out.waker.take() } else { None };
        drop(out);
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Queues a frame without payload.
    fn signal(&self, kind: Kind, id: u32) {
        let none: [&[u8]; 0] = [];
        self.send(kind, id, 0, &none);
    }

    /// Drops a stream whose end here is gone.
    fn forget(&self, id: u32) {
        self.streams().remove(&id);
    }

    /// Whether the link broke (a new one is needed).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    /// Opens a stream to the peer, or `None` once the link is broken.
    fn open(self: &Arc<Self>) -> Option<LinkStream> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let shared = Shared::new(id);
        self.streams().insert(id, shared.clone());
        if !self.send::<&[u8]>(Kind::Open, id, 0, &[]) || self.is_broken() {
            self.forget(id);
            return None;
        }
        Some(LinkStream {
            shared,
            link: self.clone(),
        })
    }

    /// Hands one frame to its stream; a relayed stream that now has bytes
    /// to write to its client goes on `flush`. Frames for a stream this end
    /// has closed are dropped; an `Err` is a peer that broke the protocol.
    fn dispatch(
        self: &Arc<Self>,
        frame: frame::Frame,
        accept: Option<&Accept>,
        flush: &mut Vec<Arc<Shared>>,
    ) -> Result<(), &'static str> {
        if frame.kind == Kind::Open {
            let Some(accept) = accept else {
                return Err("the owner opened a stream");
            };
            let shared = Shared::new(frame.stream);
            if self
                .streams()
                .insert(frame.stream, shared.clone())
                .is_some()
            {
                return Err("a stream was opened twice");
            }
            accept(LinkStream {
                shared,
                link: self.clone(),
            });
            return Ok(());
        }
        let Some(shared) = self.streams().get(&frame.stream).cloned() else {
            return Ok(());
        };
        match frame.kind {
            Kind::Data => {
                if shared.data(frame.payload) {
                    flush.push(shared);
                }
            }
            Kind::End => shared.ended(false),
            Kind::Close => {
                shared.ended(true);
                self.forget(frame.stream);
            }
            Kind::Credit => shared.credit(frame::credit(&frame.payload)),
            Kind::Open => {}
        }
        Ok(())
    }

    /// The link is gone: every stream on it ends (reads end, writes fail).
    fn broke(&self) {
        self.broken.store(true, Ordering::Release);
        let waker = {
            let mut out = self.out();
            out.closed = true;
            out.buffer = Vec::new();
            out.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        let streams: Vec<_> = self.streams().drain().map(|(_, shared)| shared).collect();
        for shared in streams {
            shared.ended(true);
        }
    }

    /// The writer's next batch, swapped into `batch` (empty on the call);
    /// `None` once the link is broken.
    fn poll_batch(&self, cx: &mut Context<'_>, batch: &mut Vec<u8>) -> Poll<Option<()>> {
        let mut out = self.out();
        if out.closed {
            return Poll::Ready(None);
        }
        if out.buffer.is_empty() {
            out.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        std::mem::swap(&mut out.buffer, batch);
        Poll::Ready(Some(()))
    }
}

/// Runs a link over `tcp` (whose first bytes, read with the handshake, are
/// `early`): its reader and writer tasks on this runtime.
fn start(tcp: TcpStream, early: BytesMut, accept: Option<Accept>) -> Arc<Link> {
    let link = Link::new();
    let (mut from, mut to) = tcp.into_split();
    let reader = link.clone();
    tokio::spawn(async move {
        let mut buffer = early;
        // The relayed streams this read brought bytes for: each is written
        // to its client once, after the whole read is handed out, so that
        // what the owner wrote for one client in several batches goes out
        // in one system call.
        let mut flush = Vec::new();
        let why = loop {
            match frame::next(&mut buffer) {
                Ok(Some(frame)) => match reader.dispatch(frame, accept.as_ref(), &mut flush) {
                    Ok(()) => continue,
                    Err(why) => break why.to_owned(),
                },
                Ok(None) => {}
                Err(malformed) => break malformed.to_string(),
            }
            for shared in flush.drain(..) {
                shared.flush(&reader);
            }
            buffer.reserve(READ);
            match from.read_buf(&mut buffer).await {
                Ok(0) => break "the peer closed the link".to_owned(),
                Ok(_) => {}
                Err(error) => break error.to_string(),
            }
        };
        debug!(%why, "cluster link ended");
        reader.broke();
    });
    let writer = link.clone();
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while std::future::poll_fn(|cx| writer.poll_batch(cx, &mut batch))
            .await
            .is_some()
        {
            if to.write_all(&batch).await.is_err() {
                break;
            }
            batch.clear();
            if batch.capacity() > 4 * READ {
                batch = Vec::new();
            }
        }
        writer.broke();
    });
    link
}

/// The forwarding node's links, one per owner's internal address.
#[derive(Default)]
pub(crate) struct Links {
    nodes: Mutex<HashMap<String, Slot>>,
}

/// One node's link, if open: a join waits here while another opens it, so
/// that a pair of nodes has one link.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Link>>>>;

impl Links {
    /// A new stream to the node at `addr`, on its link (opened first when
    /// there is none or it broke); why not, as the client is told it.
    pub(crate) async fn open(
        &self,
        addr: &str,
        secret: Option<&str>,
        timeout: Duration,
    ) -> Result<LinkStream, &'static str> {
        let slot = self
            .nodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(addr.to_owned())
            .or_default()
            .clone();
        let mut slot = slot.lock().await;
        if let Some(link) = slot.as_ref().filter(|link| !link.is_broken())
            && let Some(stream) = link.open()
        {
            return Ok(stream);
        }
        let link = match tokio::time::timeout(timeout, connect(addr, secret)).await {
            Ok(link) => link?,
            Err(_) => return Err("the room's node does not answer; retry"),
        };
        *slot = Some(link.clone());
        link.open().ok_or("the room's node hung up; retry")
    }
}

/// Opens a link to the node at `addr`: an upgrade on its internal port.
async fn connect(addr: &str, secret: Option<&str>) -> Result<Arc<Link>, &'static str> {
    let mut tcp = TcpStream::connect(addr).await.map_err(|error| {
        tracing::warn!(owner = addr, %error, "the room's owner cannot be reached");
        "the room's node cannot be reached; retry"
    })?;
    let _ = tcp.set_nodelay(true);
    let mut head = format!(
        "GET {PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: upgrade\r\nUpgrade: {PROTOCOL}\r\n{}: 1\r\n",
        super::proxy::HOP
    );
    if let Some(secret) = secret {
        head.push_str(&format!("{}: {secret}\r\n", super::proxy::SECRET));
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes())
        .await
        .map_err(|_| "the room's node hung up; retry")?;
    let head = super::head::read_head(&mut tcp)
        .await
        .map_err(|error| match error {
            HeadError::Ended => "the room's node did not answer; retry",
            HeadError::Nonsense => "the room's node answered nonsense; retry",
        })?;
    if head.status != hyper::StatusCode::SWITCHING_PROTOCOLS {
        tracing::warn!(owner = addr, code = %head.status, "the room's owner refused a link");
        return Err("the room's node refused this node; retry");
    }
    let early = BytesMut::from(&head.rest[..]);
    Ok(start(tcp, early, None))
}

/// The owner's side of a link request on the internal port (its secret
/// already checked): the `101`, then the link, whose streams go to
/// `serve`. A request that is not a link upgrade gets `400`.
pub(crate) fn accept<B>(
    request: &mut hyper::Request<B>,
    serve: impl Fn(LinkStream) + Send + Sync + 'static,
) -> crate::edge::answer::HttpResponse {
    use hyper::header::{CONNECTION, HeaderValue, UPGRADE};
    let asked = request
        .headers()
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(PROTOCOL.as_bytes()));
    if !asked {
        return crate::edge::answer::refuse(
            hyper::StatusCode::BAD_REQUEST,
            "a cluster link is an upgrade to stateroom-link",
        );
    }
    let upgrade = hyper::upgrade::on(request);
    let serve: Accept = Arc::new(serve);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        // The internal listener is our own: a TCP stream under hyper.
        match upgraded.downcast::<hyper_util::rt::TokioIo<TcpStream>>() {
            Ok(parts) => {
                start(
                    parts.io.into_inner(),
                    BytesMut::from(&parts.read_buf[..]),
                    Some(serve),
                );
            }
            Err(_) => debug!("a cluster link over something other than TCP was dropped"),
        }
    });
    let mut response = hyper::Response::new(crate::edge::answer::ResponseBody::from(
        http_body_util::Full::new(bytes::Bytes::new()),
    ));
    *response.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("upgrade"));
    response
        .headers_mut()
        .insert(UPGRADE, HeaderValue::from_static(PROTOCOL));
    response
}

#[cfg(test)]
mod tests;
