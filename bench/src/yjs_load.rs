//! The Yjs benchmark's clients (`stateroom-yjs-load`), one program for the
//! three servers: Stateroom's doc room (`bench-server --kind yjs`),
//! y-websocket's own server (`@y/websocket-server`) and Hocuspocus. All
//! speak the y-protocols sync messages; Hocuspocus prefixes each with the
//! document's name and wants an auth message first.
//!
//! - `updates`: D documents × C clients, each client a writer with its own
//!   `yrs` document, R updates a second in all (open loop). An update
//!   inserts a marker (`#T`, the writer, a sequence number); a receiver
//!   finds markers in the raw frame (Yjs's v1 encoding stores strings as
//!   they are), so latency is measured without decoding. Deliveries are to
//!   the other clients of the writer's document.
//! - `memory`: D documents, one client each that writes a 2 KB text; the
//!   server's resident memory before and after, per document.
//! - `load`: one client writes a 1 MB document (10,000 inserts of 50
//!   characters at scattered places, so as many blocks); fresh clients then
//!   time connect → the whole document in a sync reply.

use crate::procfs;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as Frame;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Options, ReadTxn, StateVector, Text, Transact};

/// Which server, hence the URL and the framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Peer {
    /// Stateroom's doc room: `/ws/{doc}`.
    Stateroom,
    /// y-websocket's server: `/{doc}`.
    YWebsocket,
    /// Hocuspocus: one URL, the document named in every message.
    Hocuspocus,
}

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Scenario {
    /// Updates per second and their latency.
    Updates,
    /// Memory per open document.
    Memory,
    /// Time to load a 1 MB document.
    Load,
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct YjsConfig {
    /// `host:port`.
    pub target: String,
    /// The server.
    pub peer: Peer,
    /// What to measure.
    pub scenario: Scenario,
    /// Documents.
    pub docs: usize,
    /// Clients per document (`updates`).
    pub clients: usize,
    /// Updates a second, all writers together (`updates`).
    pub rate: u64,
    /// How long to send (`updates`).
    pub duration: Duration,
    /// The server's pid (CPU, memory).
    pub server_pid: Option<u32>,
}

/// What a run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct YjsReport {
    /// The server.
    pub peer: Option<Peer>,
    /// The scenario.
    pub scenario: Option<Scenario>,
    /// Documents and clients per document.
    pub docs: usize,
    /// Clients per document.
    pub clients: usize,
    /// Updates a second offered.
    pub rate: u64,
    /// Updates sent.
    pub sent: u64,
    /// Deliveries expected (each update to the other clients of its document).
    pub expected: u64,
    /// Deliveries received.
    pub delivered: u64,
    /// Deliveries not received within the drain.
    pub lost: u64,
    /// Delivery latency, microseconds.
    pub p50_us: u64,
    /// Delivery latency, microseconds.
    pub p99_us: u64,
    /// The server's CPU milliseconds over the run.
    pub server_cpu_ms: f64,
    /// Server CPU microseconds per delivery.
    pub cpu_us_per_delivery: f64,
    /// Clients that failed.
    pub errors: u64,
    /// `memory`: the server's resident KiB per open document.
    pub kib_per_doc: f64,
    /// `load`: the document's size as sent, bytes.
    pub doc_bytes: usize,
    /// `load`: milliseconds from connect to the whole document, median of 5.
    pub load_ms: f64,
}

/// lib0's variable-length unsigned integer.
fn write_var(out: &mut Vec<u8>, mut value: usize) {
    while value > 0x7f {
        out.push(0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_var(data: &[u8]) -> Option<(usize, usize)> {
    let (mut value, mut shift) = (0usize, 0);
    for (i, &byte) in data.iter().enumerate().take(10) {
        value |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some((value, i + 1));
        }
        shift += 7;
    }
    None
}

/// One client's socket, framed for its server.
struct Conn {
    ws: crate::colyseus::Ws,
    peer: Peer,
    doc: String,
}

impl Conn {
    async fn open(config: &YjsConfig, doc: &str) -> Result<Conn, String> {
        let url = match config.peer {
            Peer::Stateroom => format!("ws://{}/ws/{doc}", config.target),
            Peer::YWebsocket => format!("ws://{}/{doc}", config.target),
            Peer::Hocuspocus => format!("ws://{}/", config.target),
        };
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .map_err(|e| e.to_string())?;
        let mut conn = Conn {
            ws,
            peer: config.peer,
            doc: doc.to_owned(),
        };
        if conn.peer == Peer::Hocuspocus {
            // Auth (2), a token (0), an empty one: no authentication hook.
            conn.send(&[2, 0, 0]).await?;
        }
        // Sync step 1 with an empty state vector.
        conn.send(&sync(0, &StateVector::default().encode_v1()))
            .await?;
        Ok(conn)
    }

    async fn send(&mut self, message: &[u8]) -> Result<(), String> {
        let mut frame = Vec::with_capacity(message.len() + self.doc.len() + 2);
        if self.peer == Peer::Hocuspocus {
            write_var(&mut frame, self.doc.len());
            frame.extend_from_slice(self.doc.as_bytes());
        }
        frame.extend_from_slice(message);
        self.ws
            .send(Frame::Binary(frame.into()))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next y-protocols message (the document's name stripped).
    async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.ws.next().await? {
                Ok(Frame::Binary(data)) => {
                    let data = data.to_vec();
                    if self.peer != Peer::Hocuspocus {
                        return Some(data);
                    }
                    let (len, at) = read_var(&data)?;
                    return data.get(at + len..).map(<[u8]>::to_vec);
                }
                Ok(Frame::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Answers the server's sync step 1 with an empty step 2 (this client
    /// sends its own changes as updates); whether `message` was one.
    async fn answer(&mut self, message: &[u8]) -> Result<bool, String> {
        if message.starts_with(&[0, 0]) {
            self.send(&sync(1, &[0, 0])).await?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// A sync message: `kind` 0 step 1, 1 step 2, 2 update.
fn sync(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0, kind];
    write_var(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The markers (`#T` + 6 hex writer + 10 hex sequence) in `data`.
fn markers(data: &[u8]) -> impl Iterator<Item = (u32, u64)> + '_ {
    data.windows(18).filter_map(|w| {
        if &w[..2] != b"#T" {
            return None;
        }
        let text = std::str::from_utf8(&w[2..]).ok()?;
        let writer = u32::from_str_radix(&text[..6], 16).ok()?;
        let seq = u64::from_str_radix(&text[6..], 16).ok()?;
        Some((writer, seq))
    })
}

/// Runs one scenario.
///
/// # Errors
/// When no client could connect.
pub async fn run(config: YjsConfig) -> Result<YjsReport, String> {
    let mut report = match config.scenario {
        Scenario::Updates => updates(&config).await?,
        Scenario::Memory => memory(&config).await?,
        Scenario::Load => load(&config).await?,
    };
    report.peer = Some(config.peer);
    report.scenario = Some(config.scenario);
    report.docs = config.docs;
    report.clients = config.clients;
    report.rate = config.rate;
    Ok(report)
}

struct Shared {
    start: Instant,
    next_seq: AtomicU64,
    sent_at: Vec<AtomicU64>,
}

async fn updates(config: &YjsConfig) -> Result<YjsReport, String> {
    let writers = (config.docs * config.clients).max(1);
    let capacity = (config.rate as f64 * config.duration.as_secs_f64() * 1.5) as usize + 1024;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        next_seq: AtomicU64::new(0),
        sent_at: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
    });
    let every = Duration::from_secs_f64(writers as f64 / config.rate.max(1) as f64);
    let mut conns = Vec::new();
    for i in 0..writers {
        let doc = format!("doc{}", i / config.clients.max(1));
        conns.push(Conn::open(config, &doc).await?);
    }
    // Everyone synced before the clock starts.
    let mut ready = Vec::new();
    for mut conn in conns {
        ready.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while let Ok(Some(message)) = tokio::time::timeout_at(deadline, conn.next()).await {
                if message.starts_with(&[0, 1]) {
                    return Some(conn);
                }
                conn.answer(&message).await.ok()?;
            }
            None
        }));
    }
    let mut conns = Vec::new();
    for task in ready {
        if let Some(conn) = task.await.ok().flatten() {
            conns.push(conn);
        }
    }
    let errors = (writers - conns.len()) as u64;
    let before = config.server_pid.and_then(procfs::sample);
    let stop_sending = Instant::now() + config.duration;
    let stop_reading = stop_sending + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for (writer, mut conn) in conns.into_iter().enumerate() {
        let shared = shared.clone();
        let writer = writer as u32;
        tasks.push(tokio::spawn(async move {
            let doc = Doc::with_options(Options {
                client_id: yrs::ClientID::new(u64::from(writer) + 1),
                ..Options::default()
            });
            let text = doc.get_or_insert_text("body");
            let mut histogram = Histogram::<u64>::new(3).expect("a histogram");
            let (mut sent, mut delivered) = (0u64, 0u64);
            // Spread the writers' first ticks over one period.
            let offset = every.mul_f64(f64::from(writer % 97) / 97.0);
            let mut tick = tokio::time::interval_at(Instant::now() + offset, every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
            loop {
                let sending = Instant::now() < stop_sending;
                tokio::select! {
                    _ = tick.tick(), if sending => {
                        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = shared.sent_at.get(seq as usize) else { continue };
                        let before = doc.transact().state_vector();
                        text.push(&mut doc.transact_mut(), &format!("#T{writer:06x}{seq:010x}"));
                        let update = doc.transact().encode_diff_v1(&before);
                        slot.store(shared.start.elapsed().as_nanos() as u64, Ordering::Relaxed);
                        if conn.send(&sync(2, &update)).await.is_err() { break; }
                        sent += 1;
                    }
                    message = tokio::time::timeout_at(stop_reading, conn.next()) => {
                        let Ok(Some(message)) = message else { break };
                        if conn.answer(&message).await.is_err() { break; }
                        let now = shared.start.elapsed().as_nanos() as u64;
                        for (from, seq) in markers(&message) {
                            if from == writer { continue; }
                            let at = shared.sent_at.get(seq as usize).map_or(0, |s| s.load(Ordering::Relaxed));
                            if at > 0 {
                                delivered += 1;
                                let _ = histogram.record(now.saturating_sub(at) / 1000);
                            }
                        }
                    }
                }
            }
            (sent, delivered, histogram)
        }));
    }
    let mut histogram = Histogram::<u64>::new(3).expect("a histogram");
    let (mut sent, mut delivered) = (0, 0);
    for task in tasks {
        if let Ok((s, d, h)) = task.await {
            sent += s;
            delivered += d;
            let _ = histogram.add(h);
        }
    }
    let after = config.server_pid.and_then(procfs::sample);
    let expected = sent * (config.clients.saturating_sub(1)) as u64;
    let cpu_ms = match (before, after) {
        (Some(b), Some(a)) => (a.cpu_secs - b.cpu_secs) * 1e3,
        _ => 0.0,
    };
    Ok(YjsReport {
        sent,
        expected,
        delivered: delivered.min(expected),
        lost: expected.saturating_sub(delivered),
        p50_us: histogram.value_at_quantile(0.5),
        p99_us: histogram.value_at_quantile(0.99),
        server_cpu_ms: cpu_ms,
        cpu_us_per_delivery: if delivered > 0 {
            cpu_ms * 1e3 / delivered as f64
        } else {
            0.0
        },
        errors,
        ..YjsReport::default()
    })
}

async fn memory(config: &YjsConfig) -> Result<YjsReport, String> {
    let pid = config.server_pid.ok_or("memory needs --server-pid")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = procfs::sample(pid).ok_or("the server is gone")?;
    let mut conns = Vec::new();
    for i in 0..config.docs {
        let mut conn = Conn::open(config, &format!("mem{i}")).await?;
        let doc = Doc::new();
        let text = doc.get_or_insert_text("body");
        for line in 0..40 {
            text.push(
                &mut doc.transact_mut(),
                &format!("line {line:03} of document {i:06}, some text here\n"),
            );
        }
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        conn.send(&sync(2, &update)).await?;
        conns.push(conn);
    }
    // Each client reads its replies (the server's step 1 answered).
    for conn in &mut conns {
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, conn.next()).await {
            conn.answer(&message).await?;
            if message.starts_with(&[0, 1]) {
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = procfs::sample(pid).ok_or("the server is gone")?;
    drop(conns);
    Ok(YjsReport {
        kib_per_doc: after.rss_kib.saturating_sub(before.rss_kib) as f64
            / config.docs.max(1) as f64,
        ..YjsReport::default()
    })
}

async fn load(config: &YjsConfig) -> Result<YjsReport, String> {
    // 10,000 inserts of 50 characters at scattered places (1 MB encoded), in
    // as many blocks, as a long-edited document has.
    let doc = Doc::new();
    let text = doc.get_or_insert_text("body");
    let mut seed = 0x2545_f491_u64;
    for i in 0..10_000u32 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = text.len(&doc.transact());
        let at = if len == 0 {
            0
        } else {
            (seed % u64::from(len)) as u32
        };
        text.insert(
            &mut doc.transact_mut(),
            at,
            &format!("{i:08} {:<41}", "lorem ipsum dolor sit amet"),
        );
    }
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let mut writer = Conn::open(config, "big").await?;
    writer.send(&sync(2, &update)).await?;
    // Until a reader gets it all, then time five fresh readers.
    let mut times = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(60);
    while times.len() < 5 && Instant::now() < give_up {
        let started = Instant::now();
        let mut reader = Conn::open(config, "big").await?;
        let mut got = 0;
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_secs(20), reader.next()).await
        {
            reader.answer(&message).await?;
            if message.starts_with(&[0, 1]) {
                got = message.len();
                break;
            }
        }
        if got >= update.len() {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Keep the writer's socket read (y-websocket echoes to it).
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_millis(1), writer.next()).await
        {
            writer.answer(&message).await?;
        }
    }
    if times.is_empty() {
        return Err("no reader received the whole document".into());
    }
    times.sort_by(f64::total_cmp);
    Ok(YjsReport {
        doc_bytes: update.len(),
        load_ms: times[times.len() / 2],
        ..YjsReport::default()
    })
}
