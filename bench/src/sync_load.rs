//! The state-sync benchmark's clients: N clients join one room (Stateroom's
//! `SyncRoom` or its Colyseus twin), read every frame, and count its bytes;
//! client 0 also sends a probe every 20 ms, which the room echoes, for the
//! latency of the room's loop under the sync load. The server's CPU comes
//! from `/proc`.

use crate::colyseus;
use crate::load::Protocol;
use crate::payload::{self, Sent};
use crate::procfs;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// One run's settings.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// `host:port`.
    pub target: String,
    /// How the room is reached.
    pub protocol: Protocol,
    /// Clients in the room.
    pub clients: usize,
    /// How long to measure, after every client joined and a warm-up second.
    pub duration: Duration,
    /// The server's pid (CPU).
    pub server_pid: Option<u32>,
    /// The simulation tick (and patch rate) of the room, for per-tick figures.
    pub tick: Duration,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Clients in the room.
    pub clients: usize,
    /// Clients that joined.
    pub joined: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// Frames each client received per second (the patch rate is 20/s).
    pub frames_per_client_per_sec: f64,
    /// Bytes each client received per tick (WebSocket payloads).
    pub bytes_per_client_per_tick: f64,
    /// The server's CPU seconds in the window.
    pub server_cpu_secs: f64,
    /// Server CPU milliseconds per tick.
    pub server_cpu_ms_per_tick: f64,
    /// Probe round trips, microseconds.
    pub probe_p50_us: u64,
    /// 99th percentile.
    pub probe_p99_us: u64,
    /// Probes sent and answered.
    pub probes: (u64, u64),
    /// Connections that failed or dropped.
    pub errors: u64,
}

enum Link {
    Path(Box<colyseus::Ws>),
    Colyseus(Box<colyseus::Ws>),
}

impl Link {
    async fn open(config: &SyncConfig, room: &str) -> Result<Link, String> {
        match config.protocol {
            Protocol::Path => {
                let url = format!("ws://{}/ws/{room}", config.target);
                let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Link::Path(Box::new(ws)))
            }
            Protocol::Colyseus => colyseus::join(&config.target, room)
                .await
                .map(|ws| Link::Colyseus(Box::new(ws))),
        }
    }

    fn ws(&mut self) -> &mut colyseus::Ws {
        match self {
            Link::Path(ws) | Link::Colyseus(ws) => ws,
        }
    }

    fn probe(&self, s: u64, t: u64) -> Message {
        match self {
            Link::Path(_) => Message::text(payload::encode(0, s, t, 64)),
            Link::Colyseus(_) => colyseus::encode(&Sent::new(0, s, t, 64)),
        }
    }

    /// The probe's send time, if `message` is its echo.
    fn echoed(&self, message: &Message) -> Option<u64> {
        match self {
            Link::Path(_) => match message {
                Message::Text(text) if text.starts_with("{\"c\":") => {
                    serde_json::from_str::<payload::Received>(text)
                        .ok()
                        .map(|r| r.t)
                }
                _ => None,
            },
            Link::Colyseus(_) => colyseus::decode(message).map(|r| r.t),
        }
    }
}

#[derive(Default)]
struct Counts {
    bytes: AtomicU64,
    frames: AtomicU64,
    errors: AtomicU64,
}

/// Runs the clients and measures.
///
/// # Errors
/// When no client could join.
pub async fn run(config: SyncConfig) -> Result<SyncReport, String> {
    let base = Instant::now();
    let counting = Arc::new(tokio::sync::watch::channel(false).0);
    let counts = Arc::new(Counts::default());
    let mut links = Vec::new();
    for _ in 0..config.clients {
        match Link::open(&config, "sync-0").await {
            Ok(link) => links.push(link),
            Err(error) => {
                eprintln!("sync: a client could not join: {error}");
                counts.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if links.is_empty() {
        return Err("no client joined".to_owned());
    }
    let joined = links.len();
    let mut probe = None;
    let mut tasks = Vec::new();
    for (index, mut link) in links.into_iter().enumerate() {
        let counts = counts.clone();
        let mut counting = counting.subscribe();
        if index == 0 {
            // The prober reads on its own and sends every 20 ms.
            probe = Some(tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).ok();
                let (mut sent, mut answered) = (0u64, 0u64);
                let mut ticker = tokio::time::interval(Duration::from_millis(20));
                loop {
                    tokio::select! {
                        _ = ticker.tick() => {
                            if *counting.borrow() {
                                let t = base.elapsed().as_micros() as u64;
                                let message = link.probe(sent, t);
                                if link.ws().send(message).await.is_err() { break; }
                                sent += 1;
                            }
                        }
                        next = link.ws().next() => match next {
                            Some(Ok(message)) => {
                                if let Some(t) = link.echoed(&message) {
                                    answered += 1;
                                    let rtt = (base.elapsed().as_micros() as u64).saturating_sub(t).max(1);
                                    if let Some(h) = histogram.as_mut() { let _ = h.record(rtt); }
                                }
                            }
                            _ => { counts.errors.fetch_add(1, Ordering::Relaxed); break; }
                        },
                        changed = counting.changed() => if changed.is_err() || !*counting.borrow() && sent > 0 { break },
                    }
                }
                let _ = link.ws().close(None).await;
                (histogram, sent, answered)
            }));
            continue;
        }
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    next = link.ws().next() => match next {
                        Some(Ok(message)) => {
                            if *counting.borrow() {
                                counts.bytes.fetch_add(message.len() as u64, Ordering::Relaxed);
                                counts.frames.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        _ => { counts.errors.fetch_add(1, Ordering::Relaxed); break; }
                    },
                    changed = counting.changed() => if changed.is_err() || !*counting.borrow() { break },
                }
            }
            let _ = link.ws().close(None).await;
        }));
    }
    // A warm-up second (snapshots, first ticks), then the window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = config.server_pid.and_then(procfs::sample);
    let started = Instant::now();
    counting.send_replace(true);
    tokio::time::sleep(config.duration).await;
    counting.send_replace(false);
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = config.server_pid.and_then(procfs::sample);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    let (histogram, sent, answered) = match probe {
        Some(task) => tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or((None, 0, 0)),
        None => (None, 0, 0),
    };
    let readers = (joined - 1).max(1) as f64;
    let ticks = seconds / config.tick.as_secs_f64();
    let cpu = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => b.cpu_secs - a.cpu_secs,
        _ => 0.0,
    };
    let percentile = |q: f64| histogram.as_ref().map_or(0, |h| h.value_at_quantile(q));
    Ok(SyncReport {
        clients: config.clients,
        joined,
        seconds,
        frames_per_client_per_sec: counts.frames.load(Ordering::Relaxed) as f64 / readers / seconds,
        bytes_per_client_per_tick: counts.bytes.load(Ordering::Relaxed) as f64 / readers / ticks,
        server_cpu_secs: cpu,
        server_cpu_ms_per_tick: cpu * 1000.0 / ticks,
        probe_p50_us: percentile(0.5),
        probe_p99_us: percentile(0.99),
        probes: (sent, answered),
        errors: counts.errors.load(Ordering::Relaxed),
    })
}
