//! The per-kind families (`stateroom_kind_*{kind}`): the same counts as the
//! unlabelled totals, by room kind, every kind listed from the start.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A room kind: code, not data, so the label stays bounded.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabel {
    pub(super) kind: String,
}

/// The per-kind families (`stateroom_kind_*{kind}`).
pub(super) struct ByKind {
    pub(super) rooms: Family<KindLabel, Gauge>,
    pub(super) clients: Family<KindLabel, Gauge>,
    pub(super) connects: Family<KindLabel, Counter>,
    pub(super) messages_in: Family<KindLabel, Counter>,
    pub(super) messages_out: Family<KindLabel, Counter>,
}

impl ByKind {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let by_kind = ByKind {
            rooms: Family::default(),
            clients: Family::default(),
            connects: Family::default(),
            messages_in: Family::default(),
            messages_out: Family::default(),
        };
        registry.register("kind_rooms", "Live rooms, by kind", by_kind.rooms.clone());
        registry.register(
            "kind_clients",
            "Clients in rooms (connected or held), by kind",
            by_kind.clients.clone(),
        );
        registry.register(
            "kind_connects",
            "Clients that joined a room, by kind",
            by_kind.connects.clone(),
        );
        registry.register(
            "kind_messages_in",
            "Messages received from clients, by kind",
            by_kind.messages_in.clone(),
        );
        registry.register(
            "kind_messages_out",
            "Frames queued to clients, by kind",
            by_kind.messages_out.clone(),
        );
        by_kind
    }
}

/// One kind's counters, as a room of that kind holds them (a `Counter` is a
/// shared handle: these are the family's own).
#[derive(Clone, Debug, Default)]
pub(crate) struct KindCounters {
    pub(super) connects: Counter,
    pub(super) messages_in: Counter,
    pub(super) messages_out: Counter,
}
