//! Building the metrics: every family registered, with its help text, and
//! each kind's counters at 0 from the start.

use super::by_kind::{ByKind, KindLabel};
use super::{BuildLabel, CodeLabel, Metrics, OutcomeLabel, ReasonLabel, StatusLabel, process};
use crate::engine::stats::{DECODE_CODES, Reason};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

impl Metrics {
    /// The metrics of a server of the kinds named `kinds` (`""` for a
    /// server of one service), each at 0 from the start.
    pub(crate) fn new<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Self {
        let mut registry = Registry::with_prefix("stateroom");
        let build = Family::<BuildLabel, Gauge>::default();
        build
            .get_or_create(&BuildLabel {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "build_info",
            "The running Stateroom version (always 1)",
            build,
        );
        let mut process = Registry::default();
        process.register_collector(Box::new(process::Process));
        let by_kind = ByKind::register(&mut registry);
        for kind in kinds {
            let label = KindLabel {
                kind: kind.to_owned(),
            };
            let _ = by_kind.rooms.get_or_create(&label);
            let _ = by_kind.clients.get_or_create(&label);
            let _ = by_kind.connects.get_or_create(&label);
            let _ = by_kind.messages_in.get_or_create(&label);
            let _ = by_kind.messages_out.get_or_create(&label);
        }
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        let rooms = Gauge::default();
        registry.register("rooms", "Live rooms", rooms.clone());
        let connects = Counter::default();
        registry.register(
            "connects",
            "Clients that joined a room (resumes not included)",
            connects.clone(),
        );
        let disconnects_family = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "disconnects",
            "Clients that left a room (their one `disconnect`), by reason",
            disconnects_family.clone(),
        );
        // Every reason is listed from the start (at 0), so rates work at once.
        let disconnects = Reason::ALL
            .iter()
            .map(|reason| {
                let label = ReasonLabel {
                    reason: reason.label(),
                };
                (*reason, disconnects_family.get_or_create(&label).clone())
            })
            .collect();
        let resume_family = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "resumes",
            "Resume attempts, by outcome",
            resume_family.clone(),
        );
        let outcome = |outcome| {
            resume_family
                .get_or_create(&OutcomeLabel { outcome })
                .clone()
        };
        let (resumes, resumes_refused) = (outcome("resumed"), outcome("refused"));
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let duplicates = counter(
            &mut registry,
            "messages_duplicate",
            "Numbered client messages dropped as resends of ones already applied",
        );
        let sync_patches = counter(
            &mut registry,
            "sync_patches",
            "State sync: patch frames sent (one per client and document that changed)",
        );
        let sync_snapshots = counter(
            &mut registry,
            "sync_snapshots",
            "State sync: snapshot frames sent (joins, resumes and resync requests)",
        );
        let presence_frames = counter(
            &mut registry,
            "presence_frames",
            "Presence: frames sent (one patch per client per tick that changed, and snapshots)",
        );
        let messages_in = counter(
            &mut registry,
            "messages_in",
            "Text and binary messages received from clients",
        );
        let bytes_in = counter(
            &mut registry,
            "bytes_in",
            "Payload bytes received from clients",
        );
        let messages_out = counter(
            &mut registry,
            "messages_out",
            "Text and binary frames queued for clients (a broadcast counts once per recipient)",
        );
        let bytes_out = counter(
            &mut registry,
            "bytes_out",
            "Payload bytes queued for clients",
        );
        let socket_writes = counter(
            &mut registry,
            "socket_writes",
            "Write calls to clients' sockets, by their writers and the shards' flushers (messages_out over this: frames per write, above 1 when writes carry several frames under load)",
        );
        let writer_wakeups = counter(
            &mut registry,
            "writer_wakeups",
            "Text and binary frames (those messages_out counts) that woke a client's writer task; frames a shard's flusher writes wake none (messages_out over this: frames per wake-up, above 1 when a writer takes several frames per turn under load)",
        );
        let connection_turns = counter(
            &mut registry,
            "connection_turns",
            "Messages handled in the task of the connection that read them, their room on the same shard and idle, with no wake-up of the room's task (under serve; the rest went through the room's queue)",
        );
        let decode_family = Family::<CodeLabel, Counter>::default();
        registry.register(
            "decode_errors",
            "Frames a room could not accept (an error frame went back), by code",
            decode_family.clone(),
        );
        let decode_errors = DECODE_CODES
            .iter()
            .map(|code| decode_family.get_or_create(&CodeLabel { code }).clone())
            .collect();
        let backpressure_dropped = counter(
            &mut registry,
            "backpressure_dropped_frames",
            "Frames discarded when a client's outbound queue overflowed (the client is closed with 1008)",
        );
        let backpressure_pauses = counter(
            &mut registry,
            "backpressure_pauses",
            "Times a room stopped reading its clients because the server was behind on their outbound queues (nobody is closed; senders are slowed by TCP)",
        );
        let event_seconds = Histogram::new(exponential_buckets(0.000_001, 4.0, 12));
        registry.register(
            "room_event_seconds",
            "Time a room took to handle one event (a message, a join, a timer, …)",
            event_seconds.clone(),
        );
        let timer_lag_seconds = Histogram::new(exponential_buckets(0.000_1, 4.0, 10));
        registry.register(
            "timer_lag_seconds",
            "How late timers fired, after their deadline",
            timer_lag_seconds.clone(),
        );
        let panics = counter(
            &mut registry,
            "panics",
            "Hooks that panicked (the room's clients got 1011 and the room was dropped)",
        );
        let service_bugs = counter(
            &mut registry,
            "service_bugs",
            "Bugs in the service the runtime could only log (an unserialisable message, a timer key or client data of the wrong type)",
        );
        let persist_commits = counter(
            &mut registry,
            "persist_commits",
            "Store commits (transactions) of persisted rooms' snapshots",
        );
        let persist_saves = counter(
            &mut registry,
            "persist_saves",
            "Room snapshots committed (saves per commit = this / persist_commits)",
        );
        let persist_failures = counter(
            &mut registry,
            "persist_failures",
            "Saves that failed (the room's held frames were dropped, its clients closed with 1011)",
        );
        let rooms_refused = counter(
            &mut registry,
            "rooms_refused",
            "Rooms that could not be opened (a stored snapshot that does not load, a store error, a panicking `new`)",
        );
        let http_responses = Family::<StatusLabel, Counter>::default();
        registry.register(
            "http_responses",
            "HTTP answers, by status (101: a WebSocket opened)",
            http_responses.clone(),
        );
        Metrics {
            process,
            registry,
            connections,
            rooms,
            connects,
            disconnects,
            resumes,
            resumes_refused,
            duplicates,
            sync_patches,
            sync_snapshots,
            presence_frames,
            messages_in,
            bytes_in,
            messages_out,
            bytes_out,
            socket_writes,
            writer_wakeups,
            connection_turns,
            decode_errors,
            backpressure_dropped,
            backpressure_pauses,
            event_seconds,
            timer_lag_seconds,
            panics,
            service_bugs,
            persist_commits,
            persist_saves,
            persist_failures,
            rooms_refused,
            http_responses,
            by_kind,
            cluster: crate::engine::cluster_metrics::ClusterMetrics::default(),
        }
    }
}
