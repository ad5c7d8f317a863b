//! The hook catalogue: one row per hook a service may define, with
//! everything the parser, the validator and the expansion need to know of
//! it (its name, whether it takes the client, its parameter counts, and
//! the signatures an error message offers).

/// The hooks a service may define.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookKind {
    New,
    Join,
    Connect,
    Reconnect,
    Disconnect,
    Message,
    Binary,
    Invalid,
    Timer,
    Alarm,
    Restore,
    Migrate,
    Command,
    Request,
    View,
    PrivateView,
    Seed,
    Update,
    Changed,
}

/// One row of the catalogue.
struct Spec {
    kind: HookKind,
    name: &'static str,
    /// Whether the first parameter (after `self`) is the client.
    takes_client: bool,
    /// How many parameters (besides `self`) it takes without and with the
    /// context.
    arity: (usize, usize),
    /// The accepted parameter lists, for messages.
    signatures: &'static str,
}

/// The catalogue, in the order hooks are listed in messages.
const SPECS: [Spec; 19] = [
    Spec {
        kind: HookKind::New,
        name: "new",
        takes_client: false,
        arity: (0, 2),
        signatures: "`fn new() -> Self`, `fn new(room_id: &str) -> Self` or `fn new(room_id: &str, ctx: &impl StateroomContext) -> Self`",
    },
    Spec {
        kind: HookKind::Join,
        name: "join",
        takes_client: false,
        arity: (1, 2),
        signatures: "`fn join(&self, request: &JoinRequest) -> Result<T, Reject>` or `fn join(&self, request: &JoinRequest, ctx: &impl StateroomContext) -> Result<T, Reject>`, where `T` is the client's data (`()` for none)",
    },
    Spec {
        kind: HookKind::Connect,
        name: "connect",
        takes_client: true,
        arity: (1, 2),
        signatures: "`fn connect(&mut self, client: ClientId)` or `fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Reconnect,
        name: "reconnect",
        takes_client: true,
        arity: (1, 2),
        signatures: "`fn reconnect(&mut self, client: ClientId)` or `fn reconnect(&mut self, client: ClientId, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Disconnect,
        name: "disconnect",
        takes_client: true,
        arity: (1, 2),
        signatures: "`fn disconnect(&mut self, client: ClientId)` or `fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Message,
        name: "message",
        takes_client: true,
        arity: (2, 3),
        signatures: "`fn message(&mut self, client: ClientId, msg: T)` or `fn message(&mut self, client: ClientId, msg: T, ctx: &impl StateroomContext)`, where `T` is `&str`, `String` or a `serde::Deserialize` type",
    },
    Spec {
        kind: HookKind::Binary,
        name: "binary",
        takes_client: true,
        arity: (2, 3),
        signatures: "`fn binary(&mut self, client: ClientId, data: &[u8])` or `fn binary(&mut self, client: ClientId, data: &[u8], ctx: &impl StateroomContext)` (`Vec<u8>` also works)",
    },
    Spec {
        kind: HookKind::Invalid,
        name: "invalid",
        takes_client: true,
        arity: (2, 3),
        signatures: "`fn invalid(&mut self, client: ClientId, error: &ErrorFrame)` or `fn invalid(&mut self, client: ClientId, error: &ErrorFrame, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Timer,
        name: "timer",
        takes_client: false,
        arity: (0, 1),
        signatures: "`fn timer(&mut self)` or `fn timer(&mut self, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Alarm,
        name: "alarm",
        takes_client: false,
        arity: (1, 2),
        signatures: "`fn alarm(&mut self, key: K)` or `fn alarm(&mut self, key: K, ctx: &impl StateroomContext)`, where `K` is `&TimerKey`, `&str`, `String` or a `serde::Deserialize` type",
    },
    Spec {
        kind: HookKind::Restore,
        name: "restore",
        takes_client: false,
        arity: (0, 1),
        signatures: "`fn restore(&mut self)` or `fn restore(&mut self, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Migrate,
        name: "migrate",
        takes_client: false,
        arity: (2, 2),
        signatures: "`fn migrate(from: u32, state: serde_json::Value) -> Result<serde_json::Value, String>`",
    },
    Spec {
        kind: HookKind::Command,
        name: "command",
        takes_client: false,
        arity: (1, 2),
        signatures: "`fn command(&mut self, command: C) -> R` or `fn command(&mut self, command: C, ctx: &impl StateroomContext) -> R`, with `C` and `R` types of your own (`R` may be `()`)",
    },
    Spec {
        kind: HookKind::Request,
        name: "request",
        takes_client: false,
        arity: (1, 2),
        signatures: "`fn request(&mut self, request: &RoomRequest) -> RoomResponse` or `fn request(&mut self, request: &RoomRequest, ctx: &impl StateroomContext) -> RoomResponse`",
    },
    Spec {
        kind: HookKind::View,
        name: "view",
        takes_client: false,
        arity: (0, 0),
        signatures: "`fn view(&self) -> T`, where `T` is any `serde::Serialize` type (`&Board` or a struct of your own)",
    },
    Spec {
        kind: HookKind::PrivateView,
        name: "private_view",
        takes_client: true,
        arity: (1, 1),
        signatures: "`fn private_view(&self, client: ClientId) -> T`, where `T` is any `serde::Serialize` type",
    },
    Spec {
        kind: HookKind::Seed,
        name: "seed",
        takes_client: false,
        arity: (1, 2),
        signatures: "`fn seed(&mut self, doc: &Doc)` or `fn seed(&mut self, doc: &Doc, ctx: &impl StateroomContext)`",
    },
    Spec {
        kind: HookKind::Update,
        name: "update",
        takes_client: true,
        arity: (2, 3),
        signatures: "`fn update(&mut self, client: ClientId, update: &DocUpdate) -> Result<(), Reject>` or `fn update(&mut self, client: ClientId, update: &DocUpdate, ctx: &impl StateroomContext) -> Result<(), Reject>`",
    },
    Spec {
        kind: HookKind::Changed,
        name: "changed",
        takes_client: false,
        arity: (1, 2),
        signatures: "`fn changed(&mut self, doc: &Doc)` or `fn changed(&mut self, doc: &Doc, ctx: &impl StateroomContext)`",
    },
];

impl HookKind {
    /// Every hook, in catalogue order.
    pub(crate) const ALL: [HookKind; 19] = [
        HookKind::New,
        HookKind::Join,
        HookKind::Connect,
        HookKind::Reconnect,
        HookKind::Disconnect,
        HookKind::Message,
        HookKind::Binary,
        HookKind::Invalid,
        HookKind::Timer,
        HookKind::Alarm,
        HookKind::Restore,
        HookKind::Migrate,
        HookKind::Command,
        HookKind::Request,
        HookKind::View,
        HookKind::PrivateView,
        HookKind::Seed,
        HookKind::Update,
        HookKind::Changed,
    ];

    /// The hooks of a room that holds a Yjs document (`doc`).
    pub(crate) const DOC: [HookKind; 3] = [HookKind::Seed, HookKind::Update, HookKind::Changed];

    fn spec(self) -> &'static Spec {
        // The table holds every kind once, in declaration order.
        &SPECS[self as usize]
    }

    pub(crate) fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether the hook's first parameter (after `self`) is the client.
    pub(crate) fn takes_client(self) -> bool {
        self.spec().takes_client
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        SPECS
            .iter()
            .find(|spec| spec.name == name)
            .map(|spec| spec.kind)
    }

    /// The accepted parameter lists, for messages.
    pub(crate) fn signatures(self) -> &'static str {
        self.spec().signatures
    }

    /// How many parameters (besides `self`) the hook takes without and with
    /// the context.
    pub(crate) fn arity(self) -> (usize, usize) {
        self.spec().arity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order() {
        for (index, kind) in HookKind::ALL.into_iter().enumerate() {
            assert_eq!(SPECS[index].kind, kind);
            assert_eq!(kind.spec().kind, kind);
            assert_eq!(HookKind::from_name(kind.name()), Some(kind));
        }
    }
}
