//! The presence benchmark: N clients join one room as fast as they can, and
//! each counts the frames that tell it who is in the room until it knows
//! all N. Stateroom's presence (`PresenceRoom`: one patch per 50 ms tick,
//! whatever joined within it) against presence written by hand
//! (`HandPresenceRoom`: each join broadcast at once), same run, same
//! clients. The server's CPU comes from `/proc`.

use crate::procfs;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// One run's settings.
#[derive(Debug, Clone)]
pub struct StormConfig {
    /// `host:port`.
    pub target: String,
    /// The room.
    pub room: String,
    /// Clients that join.
    pub clients: usize,
    /// Handshakes in flight at once.
    pub concurrency: usize,
    /// The server's pid (CPU).
    pub server_pid: Option<u32>,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct StormReport {
    /// Clients that joined.
    pub clients: usize,
    /// Milliseconds from the first connect to the last join.
    pub join_ms: f64,
    /// Milliseconds from the first connect until every client knew all N.
    pub settled_ms: f64,
    /// Presence frames received, all clients together.
    pub frames: u64,
    /// Per client: mean and most.
    pub frames_per_client: f64,
    /// The most one client received.
    pub max_frames_per_client: u64,
    /// Bytes received per client (WebSocket payloads).
    pub bytes_per_client: f64,
    /// The server's CPU milliseconds over the storm.
    pub server_cpu_ms: f64,
    /// Clients that failed.
    pub errors: u64,
}

/// What one client learns: whom it knows to be present.
#[derive(Default)]
struct Known {
    present: std::collections::HashSet<String>,
    frames: u64,
    bytes: u64,
}

impl Known {
    /// Reads one frame: Stateroom's `presence` snapshot or patch, or the
    /// hand-written room's `here` list and `join`/`leave` messages.
    fn read(&mut self, text: &str) {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let presence = value
            .get("stateroom")
            .filter(|inner| inner.get("sync").and_then(Value::as_str) == Some("presence"));
        if let Some(inner) = presence {
            self.frames += 1;
            self.bytes += text.len() as u64;
            if let Some(state) = inner.get("state").and_then(Value::as_object) {
                self.present = state.keys().cloned().collect();
            }
            for op in inner
                .get("patch")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = op["path"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('/');
                match op["op"].as_str() {
                    Some("add") => drop(self.present.insert(id.to_owned())),
                    Some("remove") => drop(self.present.remove(id)),
                    _ => {}
                }
            }
        } else if let Some(here) = value.get("here").and_then(Value::as_array) {
            self.frames += 1;
            self.bytes += text.len() as u64;
            self.present.extend(here.iter().map(Value::to_string));
        } else if let Some(id) = value.get("join") {
            self.frames += 1;
            self.bytes += text.len() as u64;
            self.present.insert(id.to_string());
        }
    }
}

/// Runs one storm.
///
/// # Errors
/// When no client could join.
pub async fn run(config: StormConfig) -> Result<StormReport, String> {
    let before = config.server_pid.and_then(procfs::sample);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let (joined_tx, mut joined_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut tasks = Vec::new();
    for _ in 0..config.clients {
        let (gate, joined, config) = (gate.clone(), joined_tx.clone(), config.clone());
        tasks.push(tokio::spawn(async move {
            let url = format!("ws://{}/ws/{}", config.target, config.room);
            let ws = {
                let _turn = gate.acquire().await.ok()?;
                tokio_tungstenite::connect_async_with_config(url, None, true)
                    .await
                    .ok()?
                    .0
            };
            let _ = joined.send(Instant::now());
            let (_write, mut read) = ws.split();
            let mut known = Known::default();
            let deadline = started + config.timeout;
            while known.present.len() < config.clients {
                match tokio::time::timeout_at(deadline, read.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => known.read(&text),
                    Ok(Some(Ok(_))) => {}
                    _ => return None,
                }
            }
            Some((known, Instant::now(), _write, read))
        }));
    }
    drop(joined_tx);
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.ok().flatten());
    }
    let mut last_join = started;
    while let Some(at) = joined_rx.recv().await {
        last_join = last_join.max(at);
    }
    let after = config.server_pid.and_then(procfs::sample);
    let settled = results
        .iter()
        .flatten()
        .map(|(_, at, _, _)| *at)
        .max()
        .unwrap_or(started);
    let done: Vec<&Known> = results.iter().flatten().map(|(known, ..)| known).collect();
    if done.is_empty() {
        return Err("no client joined".to_owned());
    }
    let frames: u64 = done.iter().map(|known| known.frames).sum();
    let bytes: u64 = done.iter().map(|known| known.bytes).sum();
    let n = done.len() as f64;
    Ok(StormReport {
        clients: done.len(),
        join_ms: last_join.duration_since(started).as_secs_f64() * 1e3,
        settled_ms: settled.duration_since(started).as_secs_f64() * 1e3,
        frames,
        frames_per_client: frames as f64 / n,
        max_frames_per_client: done.iter().map(|known| known.frames).max().unwrap_or(0),
        bytes_per_client: bytes as f64 / n,
        server_cpu_ms: match (before, after) {
            (Some(before), Some(after)) => (after.cpu_secs - before.cpu_secs) * 1e3,
            _ => 0.0,
        },
        errors: (config.clients - done.len()) as u64,
    })
}
