use std::time::Duration;

/// When a persisted room's state is saved, and what clients may see before
/// it is. See `docs/persistence.md` for the full promise.
///
/// ```
/// use stateroom_core::Durability;
/// use std::time::Duration;
///
/// assert_eq!(Durability::parse("gated"), Some(Durability::Gated));
/// assert_eq!(Durability::parse("debounced(1s)"), Some(Durability::Debounced(Duration::from_secs(1))));
/// assert_eq!(Durability::parse("debounced(250ms)"), Some(Durability::Debounced(Duration::from_millis(250))));
/// assert_eq!(Durability::parse("manual"), Some(Durability::Manual));
/// assert_eq!(Durability::parse("sometimes"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// The default: the room keeps handling events while a save is in
    /// flight, but the frames it produced reach clients only once the
    /// snapshot covering them is durable. A client never sees a message whose
    /// state change a crash could lose.
    Gated,
    /// Frames leave at once; the state is saved at most once per interval.
    /// After a crash the state may roll back by up to the interval.
    Debounced(Duration),
    /// Saved only when a hook calls `ctx.save()`, which is a barrier: frames
    /// sent after it in the same batch wait until the save is durable.
    Manual,
}

impl Durability {
    /// Reads `gated`, `manual` or `debounced(N)` with N in `ms`, `s` or `m`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "gated" => Some(Durability::Gated),
            "manual" => Some(Durability::Manual),
            other => {
                let inner = other.strip_prefix("debounced(")?.strip_suffix(')')?.trim();
                let digits = inner.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let n: u64 = digits.trim().parse().ok()?;
                let ms = match &inner[digits.len()..] {
                    "ms" => n,
                    "s" => n.checked_mul(1000)?,
                    "m" => n.checked_mul(60_000)?,
                    _ => return None,
                };
                (ms > 0).then(|| Durability::Debounced(Duration::from_millis(ms)))
            }
        }
    }
}

/// Why a persisted service's state could not be written or read back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// The service is not persisted (no `persist` argument).
    NotPersisted,
    /// The state cannot be written as JSON (a map with non-string keys, say).
    Encode(String),
    /// The snapshot was written by newer code.
    NewerThanCode {
        /// The snapshot's state version.
        version: u32,
        /// This code's.
        code: u32,
    },
    /// The snapshot is not JSON.
    NotJson(String),
    /// The snapshot is older than the code and the service has no `migrate`
    /// hook.
    NoMigrate {
        /// The snapshot's state version.
        version: u32,
        /// This code's.
        code: u32,
    },
    /// The `migrate` hook refused one step.
    Migrate {
        /// The version it was migrating from.
        from: u32,
        /// What the hook said.
        why: String,
    },
    /// The (migrated) snapshot does not decode as the service's state.
    Decode(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::NotPersisted => f.write_str("this service is not persisted"),
            StateError::Encode(why) => write!(f, "the state does not serialise: {why}"),
            StateError::NewerThanCode { version, code } => write!(
                f,
                "the snapshot is state version {version}, newer than this code's {code}"
            ),
            StateError::NotJson(why) => write!(f, "not JSON: {why}"),
            StateError::NoMigrate { version, code } => write!(
                f,
                "the snapshot is state version {version} and the code is {code}, but the service has no `migrate` hook"
            ),
            StateError::Migrate { from, why } => write!(f, "migrating from version {from}: {why}"),
            StateError::Decode(why) => write!(f, "does not decode: {why}"),
        }
    }
}

impl std::error::Error for StateError {}
