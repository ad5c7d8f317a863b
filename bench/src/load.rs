//! The load generator: N clients across R rooms drive a scenario for a set
//! time and report deliveries per second, latency percentiles, loss, connect
//! rate and the server's memory and CPU.

use crate::colyseus;
use crate::payload::{self, Received};
use crate::procfs::{self, Sample};
use crate::wire;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

/// What the clients do once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Every client sends at the given rate; the server broadcasts each message
    /// to the sender's whole room (a chat).
    Fanout,
    /// Every client sends at the given rate; the server returns each message to
    /// its sender.
    Echo,
    /// Clients connect and stay silent: memory per idle connection.
    Idle,
}

/// How the generator reaches a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// `ws://TARGET/ws/{room}`, JSON text frames (Stateroom, the raw server, Node `ws`).
    Path,
    /// Colyseus matchmaking and its binary room-message framing.
    Colyseus,
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// `host:port` of the server.
    pub target: String,
    /// How rooms are reached.
    pub protocol: Protocol,
    /// What the clients do.
    pub scenario: Scenario,
    /// Number of rooms.
    pub rooms: usize,
    /// Clients in each room.
    pub clients_per_room: usize,
    /// Messages per second each client sends (fanout, echo).
    pub rate: f64,
    /// How long clients send (or, idle, hold their connections).
    pub duration: Duration,
    /// Size of each sent message in bytes.
    pub payload_bytes: usize,
    /// Longest wait after sending stops for messages still in flight.
    pub drain: Duration,
    /// Connections being opened at once.
    pub connect_concurrency: usize,
    /// The server's pid, to read its memory and CPU from `/proc`.
    pub server_pid: Option<u32>,
    /// Room names are `{room_prefix}{index}`.
    pub room_prefix: String,
    /// A query string for every room's path (`next=1`: the clients number
    /// their messages, for exactly-once).
    pub query: Option<String>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            target: "127.0.0.1:8080".to_owned(),
            protocol: Protocol::Path,
            scenario: Scenario::Fanout,
            rooms: 1,
            clients_per_room: 10,
            rate: 10.0,
            duration: Duration::from_secs(5),
            payload_bytes: 100,
            drain: Duration::from_secs(5),
            connect_concurrency: 256,
            server_pid: None,
            room_prefix: "bench-".to_owned(),
            query: None,
            progress: false,
        }
    }
}

/// Latency percentiles, microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Largest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
}

/// The server's resources over the run, from `/proc`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ServerUse {
    /// Before any client connected.
    pub before: Sample,
    /// Once every client had connected.
    pub connected: Sample,
    /// When sending stopped.
    pub after: Sample,
    /// CPU seconds the server spent during the send window.
    pub cpu_secs: f64,
    /// CPU seconds per million deliveries in the send window.
    pub cpu_secs_per_million: Option<f64>,
    /// (RSS once connected − RSS before) / connections, bytes.
    pub rss_per_connection_bytes: Option<f64>,
    /// Frames per socket write in the send window, from a Stateroom
    /// server's `/metrics` (`None` for other servers).
    pub frames_per_write: Option<f64>,
    /// Frames per wake-up of a client's writer in the send window, from the
    /// same counters (`None` for other servers).
    pub frames_per_wakeup: Option<f64>,
    /// The share of messages in handled in their connection's task, from
    /// the same counters (`None` for other servers and older builds).
    pub connection_turn_share: Option<f64>,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The scenario run.
    pub scenario: Scenario,
    /// The protocol used.
    pub protocol: Protocol,
    /// The server's address.
    pub target: String,
    /// Rooms.
    pub rooms: usize,
    /// Clients per room.
    pub clients_per_room: usize,
    /// Clients that connected.
    pub connected: usize,
    /// Clients that could not connect.
    pub connect_failures: usize,
    /// Seconds to open every connection.
    pub connect_secs: f64,
    /// Connections opened per second.
    pub connects_per_sec: f64,
    /// Seconds of sending.
    pub duration_secs: f64,
    /// Messages per second each client was asked to send.
    pub rate_per_client: f64,
    /// Bytes per message.
    pub payload_bytes: usize,
    /// Messages sent.
    pub sent: u64,
    /// Deliveries that should have arrived (sent × recipients).
    pub expected: u64,
    /// Deliveries that arrived (after the drain).
    pub delivered: u64,
    /// `expected − delivered`.
    pub lost: u64,
    /// Deliveries that arrived out of their sender's order.
    pub out_of_order: u64,
    /// Sockets that failed or closed during the run.
    pub errors: u64,
    /// Deliveries received during the send window, per second.
    pub deliveries_per_sec: f64,
    /// End-to-end latency from the intended send time.
    pub latency: Latency,
    /// The server's resources, if its pid was given.
    pub server: Option<ServerUse>,
    /// The generator's own CPU time in the send window, as a share of one
    /// core: near 1.0 (with one generator thread) the generator, not the
    /// server, bounds the figures.
    pub generator_cpu_share: Option<f64>,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No client could connect.
    #[error("no client could connect to {0}")]
    NoConnections(String),
}

struct Shared {
    config: LoadConfig,
    base: Instant,
    connect_limit: Semaphore,
    arrived: AtomicUsize,
    failed: AtomicUsize,
    members: Vec<AtomicU64>,
    room_sent: Vec<AtomicU64>,
    delivered: AtomicU64,
    /// Every client's latencies, fed in batches (one histogram per client would
    /// cost hundreds of KiB each).
    latencies: std::sync::Mutex<Histogram<u64>>,
    start: watch::Sender<Option<Instant>>,
    stop: watch::Sender<bool>,
}

#[derive(Default)]
struct ClientResult {
    sent: u64,
    delivered: u64,
    in_window: u64,
    out_of_order: u64,
    errors: u64,
}

/// Latencies a client has measured but not yet added to the shared histogram.
struct LatencyBatch<'a> {
    pending: Vec<u64>,
    into: &'a std::sync::Mutex<Histogram<u64>>,
}

impl LatencyBatch<'_> {
    const SIZE: usize = 256;

    fn record(&mut self, micros: u64) {
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(Self::SIZE);
        }
        self.pending.push(micros);
        if self.pending.len() == Self::SIZE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut histogram = self
            .into
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for &micros in &self.pending {
            histogram.saturating_record(micros);
        }
        self.pending.clear();
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 min, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Runs one load test to completion.
///
/// # Errors
/// [`LoadError::NoConnections`] when no client connected at all.
pub async fn run(config: LoadConfig) -> Result<Report, LoadError> {
    let total = config.rooms * config.clients_per_room;
    let shared = Arc::new(Shared {
        base: Instant::now(),
        connect_limit: Semaphore::new(config.connect_concurrency.max(1)),
        arrived: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        members: (0..config.rooms).map(|_| AtomicU64::new(0)).collect(),
        room_sent: (0..config.rooms).map(|_| AtomicU64::new(0)).collect(),
        delivered: AtomicU64::new(0),
        latencies: std::sync::Mutex::new(new_histogram()),
        start: watch::Sender::new(None),
        stop: watch::Sender::new(false),
        config,
    });
    let config = &shared.config;
    let bar = progress_bar(config.progress, total as u64);
    let sample = || config.server_pid.and_then(procfs::sample);
    let before = sample();

    let connect_start = Instant::now();
    let tasks: Vec<_> = (0..total)
        .map(|index| {
            let shared = shared.clone();
            tokio::spawn(client(index, shared))
        })
        .collect();
    bar.set_message("connecting");
    loop {
        let done = shared.arrived.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed);
        bar.set_position(done as u64);
        if done >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let connect_secs = connect_start.elapsed().as_secs_f64();
    let connected = shared.arrived.load(Ordering::Relaxed);
    if connected == 0 {
        shared.stop.send_replace(true);
        return Err(LoadError::NoConnections(config.target.clone()));
    }
    // Let the server settle (room creation, first allocations) before measuring.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let at_connect = sample();
    let counters = || async {
        match (config.server_pid, config.protocol) {
            (Some(_), Protocol::Path) => crate::scrape::counters(&config.target).await,
            _ => None,
        }
    };
    let counters_at_connect = counters().await;
    let own = || procfs::sample(std::process::id());
    let own_at_connect = own();

    let start = Instant::now() + Duration::from_millis(50);
    let end = start + config.duration;
    shared.start.send_replace(Some(start));
    bar.reset();
    bar.set_length(config.duration.as_millis() as u64);
    bar.set_message(if config.scenario == Scenario::Idle {
        "holding"
    } else {
        "sending"
    });
    while Instant::now() < end {
        bar.set_position(start.elapsed().as_millis().min(u128::from(u64::MAX)) as u64);
        tokio::time::sleep(
            Duration::from_millis(100).min(end.saturating_duration_since(Instant::now())),
        )
        .await;
    }
    let after = sample();
    let own_after = own();
    let counters_after = counters().await;

    // Drain: wait for deliveries still in flight.
    let expected = || -> u64 {
        (0..config.rooms)
            .map(|room| {
                let sent = shared.room_sent[room].load(Ordering::Relaxed);
                match config.scenario {
                    Scenario::Fanout => sent * shared.members[room].load(Ordering::Relaxed),
                    Scenario::Echo | Scenario::Idle => sent,
                }
            })
            .sum()
    };
    bar.set_message("draining");
    let drain_end = Instant::now() + config.drain;
    while shared.delivered.load(Ordering::Relaxed) < expected() && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shared.stop.send_replace(true);
    bar.finish_and_clear();

    let mut result = ClientResult::default();
    for task in tasks {
        if let Ok(client) = task.await {
            result.sent += client.sent;
            result.delivered += client.delivered;
            result.in_window += client.in_window;
            result.out_of_order += client.out_of_order;
            result.errors += client.errors;
        }
    }
    let histogram = shared
        .latencies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let expected = expected();
    let duration_secs = config.duration.as_secs_f64();
    let server = before.map(|before| {
        let at_connect = at_connect.unwrap_or(before);
        let after = after.unwrap_or(at_connect);
        let cpu_secs = after.cpu_secs - at_connect.cpu_secs;
        ServerUse {
            before,
            connected: at_connect,
            after,
            cpu_secs,
            cpu_secs_per_million: (result.in_window > 0)
                .then(|| cpu_secs / (result.in_window as f64 / 1e6)),
            rss_per_connection_bytes: Some(
                (at_connect.rss_kib as f64 - before.rss_kib as f64) * 1024.0 / connected as f64,
            ),
            frames_per_write: counters_at_connect
                .zip(counters_after)
                .and_then(|(start, end)| crate::scrape::frames_per_write(start, end)),
            frames_per_wakeup: counters_at_connect
                .zip(counters_after)
                .and_then(|(start, end)| crate::scrape::frames_per_wakeup(start, end)),
            connection_turn_share: counters_at_connect
                .zip(counters_after)
                .and_then(|(start, end)| crate::scrape::connection_turn_share(start, end)),
        }
    });
    let generator_cpu_share = own_at_connect
        .zip(own_after)
        .map(|(start, end)| (end.cpu_secs - start.cpu_secs) / duration_secs.max(1e-9));
    let latency = if histogram.is_empty() {
        Latency::default()
    } else {
        Latency {
            p50_us: histogram.value_at_quantile(0.50),
            p90_us: histogram.value_at_quantile(0.90),
            p99_us: histogram.value_at_quantile(0.99),
            max_us: histogram.max(),
            mean_us: histogram.mean(),
        }
    };
    Ok(Report {
        scenario: config.scenario,
        protocol: config.protocol,
        target: config.target.clone(),
        rooms: config.rooms,
        clients_per_room: config.clients_per_room,
        connected,
        connect_failures: shared.failed.load(Ordering::Relaxed),
        connect_secs,
        connects_per_sec: connected as f64 / connect_secs.max(1e-9),
        duration_secs,
        rate_per_client: config.rate,
        payload_bytes: config.payload_bytes,
        sent: result.sent,
        expected,
        delivered: result.delivered,
        lost: expected.saturating_sub(result.delivered),
        out_of_order: result.out_of_order,
        errors: result.errors,
        deliveries_per_sec: result.in_window as f64 / duration_secs,
        latency,
        server,
        generator_cpu_share,
    })
}

fn progress_bar(visible: bool, length: u64) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(length);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A connection to a room: the generator's own lean client for `/ws/{room}`
/// servers, tungstenite for Colyseus (its matchmaking and framing).
enum Link {
    Wire(wire::Conn),
    Colyseus(Box<colyseus::Ws>),
}

impl Link {
    async fn open(config: &LoadConfig, index: usize, room_name: &str) -> Result<Link, String> {
        match config.protocol {
            Protocol::Path => {
                let path = match &config.query {
                    Some(query) => format!("/ws/{room_name}?{query}"),
                    None => format!("/ws/{room_name}"),
                };
                let seed = (index as u32).wrapping_mul(0x9E37_79B9);
                wire::connect(&config.target, &path, seed)
                    .await
                    .map(Link::Wire)
            }
            Protocol::Colyseus => colyseus::join(&config.target, room_name)
                .await
                .map(|ws| Link::Colyseus(Box::new(ws))),
        }
    }

    /// Waits for the next payloads and appends them to `into`. Cancel-safe.
    async fn recv(&mut self, into: &mut Vec<Received>) -> Result<(), ()> {
        match self {
            Link::Wire(conn) => conn.recv(into).await.map_err(drop),
            Link::Colyseus(ws) => match ws.next().await {
                Some(Ok(message)) => {
                    into.extend(colyseus::decode(&message));
                    Ok(())
                }
                Some(Err(_)) | None => Err(()),
            },
        }
    }

    async fn send(&mut self, c: u32, s: u64, t: u64, size: usize) -> Result<(), ()> {
        match self {
            Link::Wire(conn) => conn
                .send_text(&payload::encode(c, s, t, size))
                .await
                .map_err(drop),
            Link::Colyseus(ws) => ws
                .send(colyseus::encode(&payload::Sent::new(c, s, t, size)))
                .await
                .map_err(drop),
        }
    }

    async fn close(&mut self) {
        let _ = match self {
            Link::Wire(conn) => conn.close().await.map_err(drop),
            Link::Colyseus(ws) => ws.send(Message::Close(None)).await.map_err(drop),
        };
    }
}

/// Per sender, the sequence number expected next (senders are in the
/// receiver's room, so a slice indexed by place in the room; a map for any
/// other).
struct Order {
    room_base: u32,
    in_room: Vec<u64>,
    others: HashMap<u32, u64>,
}

impl Order {
    /// Whether `received` came in its sender's order; notes it.
    fn in_order(&mut self, received: &Received) -> bool {
        let slot = match received.c.checked_sub(self.room_base) {
            Some(at) if (at as usize) < self.in_room.len() => &mut self.in_room[at as usize],
            _ => self.others.entry(received.c).or_insert(0),
        };
        let fine = received.s == *slot;
        *slot = received.s + 1;
        fine
    }
}

async fn client(index: usize, shared: Arc<Shared>) -> ClientResult {
    let config = &shared.config;
    let room = index / config.clients_per_room.max(1);
    let room_name = format!("{}{room}", config.room_prefix);
    let connected = {
        let _permit = shared.connect_limit.acquire().await;
        Link::open(config, index, &room_name).await
    };
    let Ok(mut link) = connected else {
        shared.failed.fetch_add(1, Ordering::Relaxed);
        return ClientResult::default();
    };
    shared.members[room].fetch_add(1, Ordering::Relaxed);
    shared.arrived.fetch_add(1, Ordering::Relaxed);

    let mut start = shared.start.subscribe();
    let mut stop = shared.stop.subscribe();
    let Ok(start) = start
        .wait_for(Option::is_some)
        .await
        .map(|s| s.unwrap_or_else(Instant::now))
    else {
        return ClientResult::default();
    };
    let end = start + config.duration;
    let mut result = ClientResult::default();
    let mut latencies = LatencyBatch {
        pending: Vec::new(),
        into: &shared.latencies,
    };
    let sends = config.scenario != Scenario::Idle && config.rate > 0.0;
    let period = Duration::from_secs_f64(1.0 / config.rate.max(1e-3));
    // Spread the clients' first sends over one period (golden-ratio offsets).
    let offset = period.mul_f64((index as f64 * 0.618_034) % 1.0);
    let mut ticker = tokio::time::interval_at(start + offset, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sending = sends;
    let mut order = Order {
        room_base: (room * config.clients_per_room) as u32,
        in_room: vec![0; if sends { config.clients_per_room } else { 0 }],
        others: HashMap::new(),
    };
    let mut batch = Vec::new();
    let base = shared.base;
    let index = index as u32;
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            read = link.recv(&mut batch) => {
                // One clock reading for everything one read brought.
                let now = Instant::now();
                let now_ns = now.duration_since(base).as_nanos() as u64;
                let count = batch.len() as u64;
                for received in batch.drain(..) {
                    latencies.record((now_ns.saturating_sub(received.t) / 1000).max(1));
                    if !order.in_order(&received) {
                        result.out_of_order += 1;
                    }
                }
                result.delivered += count;
                if now <= end {
                    result.in_window += count;
                }
                if count > 0 {
                    shared.delivered.fetch_add(count, Ordering::Relaxed);
                }
                if read.is_err() {
                    result.errors += 1;
                    break;
                }
            },
            tick = ticker.tick(), if sending => {
                if tick >= end {
                    sending = false;
                    continue;
                }
                let intended = tick.duration_since(base).as_nanos() as u64;
                if link.send(index, result.sent, intended, config.payload_bytes).await.is_err() {
                    result.errors += 1;
                    break;
                }
                result.sent += 1;
                shared.room_sent[room].fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    latencies.flush();
    let _ = tokio::time::timeout(Duration::from_millis(500), link.close()).await;
    result
}

impl Report {
    /// The report as an aligned table for people.
    #[must_use]
    pub fn table(&self) -> String {
        let mut rows = vec![
            (
                "scenario",
                format!("{:?} over {:?}", self.scenario, self.protocol),
            ),
            ("target", self.target.clone()),
            (
                "clients",
                format!(
                    "{} rooms x {} = {} connected, {} failed",
                    self.rooms, self.clients_per_room, self.connected, self.connect_failures
                ),
            ),
            (
                "connect rate",
                format!(
                    "{:.0} conn/s ({:.2} s)",
                    self.connects_per_sec, self.connect_secs
                ),
            ),
        ];
        if self.scenario != Scenario::Idle {
            rows.extend([
                (
                    "offered",
                    format!(
                        "{} msg/s per client, {} B, {:.1} s",
                        self.rate_per_client, self.payload_bytes, self.duration_secs
                    ),
                ),
                ("sent", self.sent.to_string()),
                (
                    "delivered",
                    format!(
                        "{} of {} (lost {}, out of order {})",
                        self.delivered, self.expected, self.lost, self.out_of_order
                    ),
                ),
                ("deliveries/s", format!("{:.0}", self.deliveries_per_sec)),
                (
                    "latency",
                    format!(
                        "p50 {} us, p90 {} us, p99 {} us, max {} us",
                        self.latency.p50_us,
                        self.latency.p90_us,
                        self.latency.p99_us,
                        self.latency.max_us
                    ),
                ),
            ]);
        }
        rows.push(("errors", self.errors.to_string()));
        if let Some(server) = &self.server {
            rows.push((
                "server RSS",
                format!(
                    "{} KiB before, {} KiB connected, {} KiB peak",
                    server.before.rss_kib, server.connected.rss_kib, server.after.hwm_kib
                ),
            ));
            if let Some(per) = server.rss_per_connection_bytes {
                rows.push(("RSS/conn", format!("{:.0} B", per)));
            }
            if let Some(cpu) = server.cpu_secs_per_million {
                rows.push((
                    "server CPU",
                    format!(
                        "{:.2} s in window, {:.2} s per million deliveries",
                        server.cpu_secs, cpu
                    ),
                ));
            }
        }
        if let Some(share) = self.generator_cpu_share {
            rows.push(("generator CPU", format!("{:.0} % of a core", share * 100.0)));
        }
        rows.iter()
            .map(|(k, v)| format!("{k:>14}  {v}\n"))
            .collect()
    }
}
