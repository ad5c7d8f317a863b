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
