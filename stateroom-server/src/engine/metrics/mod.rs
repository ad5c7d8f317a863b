//! The server's metrics, exposed at `GET /metrics` in the Prometheus text
//! format (OpenMetrics), with `prometheus-client`. Labels stay low-cardinality:
//! never a room id or a client id.
//!
//! Rooms count in plain cells ([`Stats`]) and hand their counts over after
//! each event they handle, so a broadcast to a thousand clients costs a few
//! atomic additions, not a thousand.

mod build;
mod by_kind;
mod process;

pub(crate) use by_kind::KindCounters;
use by_kind::{ByKind, KindLabel};

use crate::engine::stats::{Reason, Stats};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabel {
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Every metric the server exports.
pub(crate) struct Metrics {
    /// The unprefixed `process_*` metrics.
    process: Registry,
    registry: Registry,
    connections: Gauge,
    rooms: Gauge,
    connects: Counter,
    disconnects: Vec<(Reason, Counter)>,
    resumes: Counter,
    resumes_refused: Counter,
    duplicates: Counter,
    sync_patches: Counter,
    sync_snapshots: Counter,
    presence_frames: Counter,
    messages_in: Counter,
    bytes_in: Counter,
    messages_out: Counter,
    bytes_out: Counter,
    socket_writes: Counter,
    writer_wakeups: Counter,
    connection_turns: Counter,
    decode_errors: Vec<Counter>,
    backpressure_dropped: Counter,
    backpressure_pauses: Counter,
    event_seconds: Histogram,
    timer_lag_seconds: Histogram,
    panics: Counter,
    service_bugs: Counter,
    persist_commits: Counter,
    persist_saves: Counter,
    persist_failures: Counter,
    rooms_refused: Counter,
    http_responses: Family<StatusLabel, Counter>,
    by_kind: ByKind,
    /// A cluster node's (registered by [`Metrics::for_cluster`]).
    pub(crate) cluster: crate::engine::cluster_metrics::ClusterMetrics,
}

impl Metrics {
    /// Registers the `stateroom_cluster_*` metrics too (a node of a cluster).
    pub(crate) fn for_cluster(mut self) -> Self {
        self.cluster.register(&mut self.registry);
        self
    }

    /// A room of `kind`'s own handles on the per-kind counters, taken once
    /// when the room starts, so that [`absorb`](Self::absorb) after each
    /// batch finds them without a lookup by label.
    pub(crate) fn kind_counters(&self, kind: &str) -> KindCounters {
        let label = KindLabel {
            kind: kind.to_owned(),
        };
        KindCounters {
            connects: self.by_kind.connects.get_or_create(&label).clone(),
            messages_in: self.by_kind.messages_in.get_or_create(&label).clone(),
            messages_out: self.by_kind.messages_out.get_or_create(&label).clone(),
        }
    }

    /// Adds the counts of a room (of the kind `kind` counts) and resets them.
    pub(crate) fn absorb(&self, stats: &Stats, kind: &KindCounters) {
        let add = |counter: &Counter, cell: &std::cell::Cell<u64>| {
            let n = cell.take();
            if n > 0 {
                counter.inc_by(n);
            }
            n
        };
        let by_kind = |counter: &Counter, n: u64| {
            if n > 0 {
                counter.inc_by(n);
            }
        };
        by_kind(
            &kind.messages_in,
            add(&self.messages_in, &stats.messages_in),
        );
        add(&self.bytes_in, &stats.bytes_in);
        by_kind(
            &kind.messages_out,
            add(&self.messages_out, &stats.messages_out),
        );
        add(&self.bytes_out, &stats.bytes_out);
        add(&self.writer_wakeups, &stats.writer_wakeups);
        add(&self.connection_turns, &stats.connection_turns);
        by_kind(&kind.connects, add(&self.connects, &stats.connects));
        add(&self.resumes, &stats.resumes);
        add(&self.resumes_refused, &stats.resumes_refused);
        add(&self.duplicates, &stats.duplicates);
        add(&self.sync_patches, &stats.sync_patches);
        add(&self.sync_snapshots, &stats.sync_snapshots);
        add(&self.presence_frames, &stats.presence_frames);
        add(&self.backpressure_dropped, &stats.backpressure_dropped);
        add(&self.backpressure_pauses, &stats.backpressure_pauses);
        add(&self.service_bugs, &stats.service_bugs);
        for (reason, n) in stats.take_disconnects() {
            if let Some((_, counter)) = self.disconnects.iter().find(|(r, _)| *r == reason) {
                counter.inc_by(n);
            }
        }
        for (index, n) in stats.take_decode_errors() {
            if let Some(counter) = self.decode_errors.get(index) {
                counter.inc_by(n);
            }
        }
    }

    /// `writes` more write calls went to clients' sockets.
    pub(crate) fn socket_writes(&self, writes: impl Into<u64>) {
        self.socket_writes.inc_by(writes.into());
    }

    pub(crate) fn event_handled(&self, took: Duration) {
        self.event_seconds.observe(took.as_secs_f64());
    }

    pub(crate) fn timer_fired(&self, late: Duration) {
        self.timer_lag_seconds.observe(late.as_secs_f64());
    }

    /// One store commit carried `saves` room snapshots.
    pub(crate) fn committed(&self, saves: u64) {
        self.persist_commits.inc();
        self.persist_saves.inc_by(saves);
    }

    pub(crate) fn save_failed(&self) {
        self.persist_failures.inc();
    }

    pub(crate) fn room_refused(&self) {
        self.rooms_refused.inc();
    }

    pub(crate) fn panicked(&self) {
        self.panics.inc();
    }

    pub(crate) fn http_response(&self, status: u16) {
        self.http_responses
            .get_or_create(&StatusLabel { status })
            .inc();
    }

    /// The exposition text, with the gauges set to `connections` and
    /// `rooms`, and each kind's to its (kind, rooms, clients).
    pub(crate) fn render(
        &self,
        connections: usize,
        rooms: usize,
        kinds: &[(String, usize, usize)],
    ) -> String {
        self.connections
            .set(i64::try_from(connections).unwrap_or(i64::MAX));
        self.rooms.set(i64::try_from(rooms).unwrap_or(i64::MAX));
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        for (kind, rooms, clients) in kinds {
            let label = KindLabel { kind: kind.clone() };
            self.by_kind.rooms.get_or_create(&label).set(gauge(*rooms));
            self.by_kind
                .clients
                .get_or_create(&label)
                .set(gauge(*clients));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut text, &self.registry);
        let _ = prometheus_client::encoding::text::encode_registry(&mut text, &self.process);
        let _ = prometheus_client::encoding::text::encode_eof(&mut text);
        text
    }
}
