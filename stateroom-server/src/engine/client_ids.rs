//! Client ids: unique within the process, across servers, starting at 1,
//! and above every id a restored room has handed out.

use stateroom_core::ClientId;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_CLIENT_ID: AtomicU32 = AtomicU32::new(1);

/// A client id never handed out before in this process.
pub(crate) fn next_client_id() -> ClientId {
    ClientId::from(NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed))
}

/// From now on, client ids are above `floor` (a restored room's clients keep
/// theirs).
pub(crate) fn raise_client_floor(floor: u32) {
    NEXT_CLIENT_ID.fetch_max(floor.saturating_add(1), Ordering::Relaxed);
}
