//! What a run shows: the dashboard's line each second, the final report,
//! and a bot binary's command line.

use super::Counters;
use serde::Serialize;
use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

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
    pub(super) fn take(counters: &Counters, started: Instant) -> Self {
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

/// Prints a dashboard line to standard error every second until `stop`.
pub(super) async fn dashboard(
    counters: Arc<Counters>,
    started: Instant,
    clients: usize,
    stop: Arc<tokio::sync::Notify>,
) {
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

pub(super) fn report(counters: &Counters, clients: usize, took: Duration) -> BotReport {
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
