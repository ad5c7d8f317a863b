//! One warning per outage, not one per try: a store, a registry or a
//! directory that keeps failing is said to fail once, when it starts, and
//! to work again once, with how long it was out.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Whether something is failing, and since when.
#[derive(Debug, Default)]
pub(crate) struct Outage {
    since: Mutex<Option<Instant>>,
}

impl Outage {
    /// A failure: whether it begins an outage (say so then, not after).
    pub(crate) fn failed(&self) -> bool {
        let mut since = self.since.lock().unwrap_or_else(PoisonError::into_inner);
        let begins = since.is_none();
        since.get_or_insert_with(Instant::now);
        begins
    }

    /// A success: how long the outage it ends lasted, if one was on.
    pub(crate) fn ended(&self) -> Option<Duration> {
        self.since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .map(|since| since.elapsed())
    }

    /// Whether an outage is on.
    pub(crate) fn on(&self) -> bool {
        self.since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_begins_once_and_ends_once() {
        let outage = Outage::default();
        assert!(!outage.on());
        assert!(outage.ended().is_none(), "nothing to end");
        assert!(outage.failed(), "the first failure begins it");
        assert!(!outage.failed(), "the next ones do not");
        assert!(outage.on());
        assert!(outage.ended().is_some());
        assert!(outage.ended().is_none(), "ended once");
        assert!(outage.failed(), "a new outage begins");
    }
}
