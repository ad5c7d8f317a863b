//! Load tests with scripted bots: N typed clients, each running a script
//! (an async function over its [`Bot`]), started at a steady ramp, with a
//! live dashboard (connected, messages in and out per second, errors, and
//! the latency of the request/response pairs the script marks) and a final
//! report (JSON with serde). What a game team runs before launch.
//!
//! ```no_run
//! # async fn example() {
//! use stateroom_client::bots::{Bot, Bots};
//! use std::time::Duration;
//!
//! let report = Bots::new("ws://127.0.0.1:8080/ws/lobby")
//!     .clients(2_000)
//!     .ramp(Duration::from_secs(10))
//!     .run(|bot: Bot<serde_json::Value, serde_json::Value>| async move {
//!         for i in 0..10 {
//!             let text = format!("hello {i}");
//!             bot.request(&serde_json::json!({"type": "say", "text": text}), |reply| {
//!                 reply["text"] == text.as_str()
//!             })
//!             .await?;
//!         }
//!         Ok(())
//!     })
//!     .await;
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! # }
//! ```

use crate::client::{Client, Received, Status};
use crate::protocol::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Why a bot's script stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BotError {
    /// The bot could not connect.
    #[error("connect: {0}")]
    Connect(#[from] crate::client::ConnectError),
    /// A send failed (the client stopped, or its queue is full).
    #[error("send: {0}")]
    Send(#[from] crate::protocol::SendError),
    /// The room closed the bot's connection for good.
    #[error("the connection closed")]
    Closed,
    /// Matchmaking found no seat.
    #[error("matchmaking: {0}")]
    Matchmake(#[from] crate::matchmaking::MatchmakeError),
    /// A marked request had no matching reply in time.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The script's own failure.
    #[error("{0}")]
    Script(String),
}

/// Counts every bot adds to, read by the dashboard and the report.
#[derive(Debug, Default)]
pub struct Counters {
    connected: AtomicU64,
    finished: AtomicU64,
    errors: AtomicU64,
    sent: AtomicU64,
    /// Every bot's count of frames received, read or not.
    frames_in: Mutex<Vec<Arc<AtomicU64>>>,
    /// Round trips of marked requests, in microseconds.
    latencies: Mutex<Vec<u64>>,
    /// The first few errors, as text.
    samples: Mutex<Vec<String>>,
}

impl Counters {
    /// Frames received by every bot, read by its script or not.
    fn frames_in(&self) -> u64 {
        self.frames_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|counter| counter.load(Ordering::Relaxed))
            .sum()
    }

    fn latencies(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.latencies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One bot: a typed client whose sends and receipts are counted.
pub struct Bot<In, Out> {
    /// The bot's number, from 0.
    pub index: usize,
    client: Client<In, Out>,
    counters: Arc<Counters>,
    timeout: Duration,
}

impl<In: Serialize, Out: DeserializeOwned> Bot<In, Out> {
    /// The typed client under the bot.
    #[must_use]
    pub fn client(&self) -> &Client<In, Out> {
        &self.client
    }

    /// Sends `message` (counted).
    ///
    /// # Errors
    /// [`BotError::Send`].
    pub fn send(&self, message: &In) -> Result<(), BotError> {
        self.client.send(message)?;
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The next message of type `Out`, waiting at most the
    /// bots' timeout.
    ///
    /// # Errors
    /// [`BotError::Closed`] or [`BotError::Timeout`].
    pub async fn next(&self) -> Result<Out, BotError> {
        let wait = async {
            loop {
                match self.client.recv().await {
                    Some(Received::Message(message)) => return Ok(message),
                    Some(Received::Status(Status::Closed { .. })) | None => {
                        return Err(BotError::Closed);
                    }
                    Some(_) => {}
                }
            }
        };
        tokio::time::timeout(self.timeout, wait)
            .await
            .map_err(|_| BotError::Timeout(self.timeout))?
    }

    /// Runs `work` and counts how long it took as one marked round trip
    /// (in the dashboard's and the report's p50/p99): a click and the state
    /// that shows it, say.
    ///
    /// # Errors
    /// What `work` returns.
    pub async fn timed<T>(
        &self,
        work: impl Future<Output = Result<T, BotError>>,
    ) -> Result<T, BotError> {
        let started = Instant::now();
        let value = work.await?;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.counters.latencies().push(micros);
        Ok(value)
    }

    /// Reads until the room's synced state (its `view`, as a `T`) is one
    /// `accept` takes, waiting at most the bots' timeout.
    ///
    /// # Errors
    /// [`BotError::Closed`] or [`BotError::Timeout`].
    pub async fn until_state<T: DeserializeOwned>(
        &self,
        accept: impl Fn(&T) -> bool,
    ) -> Result<T, BotError> {
        let wait = async {
            loop {
                if let Some(state) = self.client.state::<T>()
                    && accept(&state)
                {
                    return Ok(state);
                }
                match self.client.recv().await {
                    Some(Received::Status(Status::Closed { .. })) | None => {
                        return Err(BotError::Closed);
                    }
                    Some(_) => {}
                }
            }
        };
        tokio::time::timeout(self.timeout, wait)
            .await
            .map_err(|_| BotError::Timeout(self.timeout))?
    }

    /// Sends `message` and waits for the first reply `is_reply` accepts;
    /// the round trip counts in the dashboard's and the report's p50/p99.
    ///
    /// # Errors
    /// As [`send`](Self::send) and [`next`](Self::next).
    pub async fn request(
        &self,
        message: &In,
        is_reply: impl Fn(&Out) -> bool,
    ) -> Result<Out, BotError> {
        let started = Instant::now();
        self.send(message)?;
        loop {
            let reply = self.next().await?;
            if is_reply(&reply) {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.counters.latencies().push(micros);
                return Ok(reply);
            }
        }
    }
}

/// A load test: how many bots, how fast they start, and where.
#[derive(Debug, Clone)]
pub struct Bots {
    url: String,
    clients: usize,
    ramp: Duration,
    timeout: Duration,
    options: Options,
    dashboard: bool,
    /// Each bot's room: `{url}` with `{n}` replaced by the bot's number
    /// divided by this (bots share rooms in groups of this many).
    room_size: Option<usize>,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BotReport {
    /// Bots started.
    pub clients: usize,
    /// Bots that connected.
    pub connected: u64,
    /// Scripts that ran to the end.
    pub finished: u64,
    /// Scripts that failed (connect, send, timeout, closed, their own).
    pub errors: u64,
    /// Messages the scripts sent, all bots together.
    pub sent: u64,
    /// Frames the bots received (the service's messages and sync frames),
    /// read by their scripts or not.
    pub received: u64,
    /// Seconds from the first bot's start to the last script's end.
    pub seconds: f64,
    /// Messages received per second over the run.
    pub received_per_sec: f64,
    /// Marked request/response pairs.
    pub requests: usize,
    /// Their round trip: median, microseconds.
    pub p50_us: u64,
    /// 99th percentile, microseconds.
    pub p99_us: u64,
    /// The first few errors.
    pub error_samples: Vec<String>,
}

impl Bots {
    /// `clients` bots (default 10) against `url` (`ws://host/ws/room`; a
    /// `{n}` in it becomes each bot's room number, see
    /// [`room_size`](Self::room_size)).
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Bots {
            url: url.into(),
            clients: 10,
            ramp: Duration::ZERO,
            timeout: Duration::from_secs(10),
            options: Options::default(),
            dashboard: false,
            room_size: None,
        }
    }

    /// How many bots.
    #[must_use]
    pub fn clients(mut self, clients: usize) -> Self {
        self.clients = clients;
        self
    }

    /// Start them evenly over this long (default: all at once).
    #[must_use]
    pub fn ramp(mut self, ramp: Duration) -> Self {
        self.ramp = ramp;
        self
    }

    /// How long [`Bot::next`] and [`Bot::request`] wait (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The clients' options (query parameters, exactly-once, backoff).
    #[must_use]
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Bots share rooms in groups of `size`: `{n}` in the URL is the bot's
    /// number divided by `size`.
    #[must_use]
    pub fn room_size(mut self, size: usize) -> Self {
        self.room_size = Some(size.max(1));
        self
    }

    /// Prints a dashboard line to standard error every second.
    #[must_use]
    pub fn dashboard(mut self, on: bool) -> Self {
        self.dashboard = on;
        self
    }

    /// Runs every bot's `script` on a client connected to the URL (with
    /// `{n}` replaced, see [`room_size`](Self::room_size)) and reports.
    pub async fn run<In, Out, F, Fut>(self, script: F) -> BotReport
    where
        In: Serialize + Send + Sync + 'static,
        Out: DeserializeOwned + Send + Sync + 'static,
        F: Fn(Bot<In, Out>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BotError>> + Send + 'static,
    {
        let (url, room_size) = (self.url.clone(), self.room_size);
        let connect = move |index: usize, options: Options| {
            let url = match room_size {
                Some(size) => url.replace("{n}", &(index / size).to_string()),
                None => url.clone(),
            };
            async move { Ok(Client::<In, Out>::connect_with(&url, options).await?) }
        };
        self.run_connected(connect, script).await
    }

    /// [`run`](Self::run), each bot's client made by `connect` (bot
    /// number, options): through matchmaking
    /// ([`join_or_create`](crate::join_or_create)), say.
    pub async fn run_connected<In, Out, C, CFut, F, Fut>(self, connect: C, script: F) -> BotReport
    where
        In: Serialize + Send + Sync + 'static,
        Out: DeserializeOwned + Send + Sync + 'static,
        C: Fn(usize, Options) -> CFut + Send + Sync + 'static,
        CFut: Future<Output = Result<Client<In, Out>, BotError>> + Send + 'static,
        F: Fn(Bot<In, Out>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BotError>> + Send + 'static,
    {
        let counters = Arc::new(Counters::default());
        let started = Instant::now();
        let (script, connect) = (Arc::new(script), Arc::new(connect));
        let stop = Arc::new(tokio::sync::Notify::new());
        let dashboard = self.dashboard.then(|| {
            let (counters, stop) = (counters.clone(), stop.clone());
            let clients = self.clients;
            tokio::spawn(async move {
                let mut last = Snapshot::take(&counters, started);
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        () = stop.notified() => return,
                    }
                    let now = Snapshot::take(&counters, started);
                    let line = render(&last, &now, clients);
                    let _ = writeln!(std::io::stderr(), "{line}");
                    last = now;
                }
            })
        });
        let mut tasks = Vec::with_capacity(self.clients);
        let gap = if self.clients > 1 {
            self.ramp / u32::try_from(self.clients - 1).unwrap_or(u32::MAX)
        } else {
            Duration::ZERO
        };
        for index in 0..self.clients {
            let at = started + gap * u32::try_from(index).unwrap_or(u32::MAX);
            let (counters, script, connect) = (counters.clone(), script.clone(), connect.clone());
            let (options, timeout) = (self.options.clone(), self.timeout);
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                let outcome = async {
                    let client = connect(index, options).await?;
                    counters.connected.fetch_add(1, Ordering::Relaxed);
                    counters
                        .frames_in
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(client.frames_in());
                    let bot = Bot {
                        index,
                        client: client.clone(),
                        counters: counters.clone(),
                        timeout,
                    };
                    let result = script(bot).await;
                    client.close();
                    result
                }
                .await;
                match outcome {
                    Ok(()) => counters.finished.fetch_add(1, Ordering::Relaxed),
                    Err(error) => {
                        let mut samples = counters
                            .samples
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        if samples.len() < 10 {
                            samples.push(format!("bot {index}: {error}"));
                        }
                        counters.errors.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        stop.notify_waiters();
        if let Some(dashboard) = dashboard {
            let _ = dashboard.await;
        }
        report(&counters, self.clients, started.elapsed())
    }
}

/// A bot binary's command line: `SERVER [BOTS] [RAMP_MS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotArgs {
    /// The server (first argument).
    pub url: String,
    /// How many bots (second; default 200).
    pub clients: usize,
    /// Over how long they start (third, in milliseconds; default 2,000).
    pub ramp: Duration,
}

impl BotArgs {
    /// Reads `args` (the program's name first, as `std::env::args` gives
    /// it), with `default_url` when no server is named.
    pub fn parse(mut args: impl Iterator<Item = String>, default_url: &str) -> Self {
        let _program = args.next();
        let url = args.next().unwrap_or_else(|| default_url.to_owned());
        let clients = args.next().and_then(|n| n.parse().ok()).unwrap_or(200);
        let ramp = args.next().and_then(|ms| ms.parse().ok()).unwrap_or(2_000);
        BotArgs {
            url,
            clients,
            ramp: Duration::from_millis(ramp),
        }
    }
}

impl BotReport {
    /// The report as pretty JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The counts at one moment, for the dashboard's rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Seconds since the start.
    pub at: f64,
    /// Bots connected so far.
    pub connected: u64,
    /// Scripts finished.
    pub finished: u64,
    /// Scripts failed.
    pub errors: u64,
    /// Messages sent so far.
    pub sent: u64,
    /// Frames received so far.
    pub received: u64,
    /// Median round trip of the marked requests so far, µs.
    pub p50_us: u64,
    /// Their 99th percentile, µs.
    pub p99_us: u64,
}

impl Snapshot {
    fn take(counters: &Counters, started: Instant) -> Self {
        let (p50_us, p99_us) = percentiles(&counters.latencies());
        Snapshot {
            at: started.elapsed().as_secs_f64(),
            connected: counters.connected.load(Ordering::Relaxed),
            finished: counters.finished.load(Ordering::Relaxed),
            errors: counters.errors.load(Ordering::Relaxed),
            sent: counters.sent.load(Ordering::Relaxed),
            received: counters.frames_in(),
            p50_us,
            p99_us,
        }
    }
}

/// One dashboard line from two snapshots a second apart:
/// `t=3s connected 1500/2000 done 0 errors 0 | out 1500/s in 30000/s | p50 1.2 ms p99 4.5 ms`.
#[must_use]
pub fn render(before: &Snapshot, now: &Snapshot, clients: usize) -> String {
    let span = (now.at - before.at).max(1e-9);
    let rate = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / span;
    format!(
        "t={:.0}s connected {}/{} done {} errors {} | out {:.0}/s in {:.0}/s | p50 {:.1} ms p99 {:.1} ms",
        now.at,
        now.connected,
        clients,
        now.finished,
        now.errors,
        rate(before.sent, now.sent),
        rate(before.received, now.received),
        now.p50_us as f64 / 1000.0,
        now.p99_us as f64 / 1000.0,
    )
}

fn percentiles(samples: &[u64]) -> (u64, u64) {
    if samples.is_empty() {
        return (0, 0);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[index.min(sorted.len() - 1)]
    };
    (at(0.5), at(0.99))
}

fn report(counters: &Counters, clients: usize, took: Duration) -> BotReport {
    let latencies = counters.latencies().clone();
    let (p50_us, p99_us) = percentiles(&latencies);
    let seconds = took.as_secs_f64();
    let received = counters.frames_in();
    BotReport {
        clients,
        connected: counters.connected.load(Ordering::Relaxed),
        finished: counters.finished.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        sent: counters.sent.load(Ordering::Relaxed),
        received,
        seconds,
        received_per_sec: received as f64 / seconds.max(1e-9),
        requests: latencies.len(),
        p50_us,
        p99_us,
        error_samples: counters
            .samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_line_says_rates_and_latency() {
        let before = Snapshot {
            at: 2.0,
            connected: 1000,
            finished: 0,
            errors: 0,
            sent: 1000,
            received: 20_000,
            p50_us: 0,
            p99_us: 0,
        };
        let now = Snapshot {
            at: 3.0,
            connected: 1500,
            finished: 10,
            errors: 1,
            sent: 2500,
            received: 50_000,
            p50_us: 1200,
            p99_us: 4500,
        };
        assert_eq!(
            render(&before, &now, 2000),
            "t=3s connected 1500/2000 done 10 errors 1 | out 1500/s in 30000/s | p50 1.2 ms p99 4.5 ms"
        );
    }

    #[test]
    fn bot_arguments_have_defaults() {
        let args =
            |list: &[&str]| BotArgs::parse(list.iter().map(|s| (*s).to_owned()), "ws://default");
        assert_eq!(
            args(&["bots"]),
            BotArgs {
                url: "ws://default".into(),
                clients: 200,
                ramp: Duration::from_secs(2)
            }
        );
        assert_eq!(args(&["bots", "ws://x", "5", "10"]).clients, 5);
        assert_eq!(
            args(&["bots", "ws://x", "5", "10"]).ramp,
            Duration::from_millis(10)
        );
    }

    #[test]
    fn percentiles_of_a_sample() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentiles(&samples), (51, 99));
        assert_eq!(percentiles(&[]), (0, 0));
    }
}
