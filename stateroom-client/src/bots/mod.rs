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

mod report;

pub use report::{BotArgs, BotReport, Snapshot, render};
use report::{dashboard, report};

use crate::client::{Client, Received, Status};
use crate::protocol::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
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
    Matchmake(#[from] crate::directory::MatchmakeError),
    /// A marked request had no matching reply in time.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The script's own failure.
    #[error("{0}")]
    Script(String),
}

/// Counts every bot adds to, read by the dashboard and the report.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(super) connected: AtomicU64,
    pub(super) finished: AtomicU64,
    pub(super) errors: AtomicU64,
    pub(super) sent: AtomicU64,
    /// Every bot's count of frames received, read or not.
    pub(super) frames_in: Mutex<Vec<Arc<AtomicU64>>>,
    /// Round trips of marked requests, in microseconds.
    latencies: Mutex<Vec<u64>>,
    /// The first few errors, as text.
    pub(super) samples: Mutex<Vec<String>>,
}

impl Counters {
    /// Frames received by every bot, read by its script or not.
    pub(super) fn frames_in(&self) -> u64 {
        self.frames_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|counter| counter.load(Ordering::Relaxed))
            .sum()
    }

    pub(super) fn latencies(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
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
        self.read_until(|received| match received {
            Some(Received::Message(message)) => Some(message),
            _ => None,
        })
        .await
    }

    /// Reads what the room sends until `found` takes something (it is
    /// asked first with nothing read), waiting at most the bots' timeout.
    async fn read_until<T>(
        &self,
        mut found: impl FnMut(Option<Received<Out>>) -> Option<T>,
    ) -> Result<T, BotError> {
        let wait = async {
            let mut received = None;
            loop {
                if let Some(value) = found(received.take()) {
                    return Ok(value);
                }
                match self.client.recv().await {
                    Some(Received::Status(Status::Closed { .. })) | None => {
                        return Err(BotError::Closed);
                    }
                    other => received = other,
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
        self.read_until(|_| self.client.state::<T>().filter(|state| accept(state)))
            .await
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
        self.timed(async {
            self.send(message)?;
            loop {
                let reply = self.next().await?;
                if is_reply(&reply) {
                    return Ok(reply);
                }
            }
        })
        .await
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
            tokio::spawn(dashboard(
                counters.clone(),
                started,
                self.clients,
                stop.clone(),
            ))
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
