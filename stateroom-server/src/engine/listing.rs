//! What a room publishes to the directory (its metadata, capacity and
//! lock), and its seats: who may still come in. A room counts its own
//! seats, so that two joins (or two matchmakers) racing for the last one
//! are decided in the order the room sees them, on whichever node owns it.
//!
//! A seat is taken by a client in the room (connected, or away with its
//! seat held), by a join admitted whose connection has not opened yet, and
//! by a reservation not yet redeemed. Admitted joins and reservations
//! expire, so a client that never comes frees its seat.

use crate::engine::resume::Secret;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How long a join admitted by the room may take to open its connection.
pub(crate) const ADMITTED_FOR: Duration = Duration::from_secs(10);

/// Why a room refuses a seat (a join, or a reservation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NoSeat {
    #[error("the room is full")]
    Full,
    #[error("the room is locked")]
    Locked,
    #[error("the seat reservation is unknown, used or expired; ask the matchmaker again")]
    BadReservation,
}

/// A seat held for a client that the matchmaker sent.
struct Reserved {
    until: Duration,
    /// What the matchmaking call asked for, which the `join` hook reads.
    options: Value,
}

/// The room's entry in the directory, and its seats.
#[derive(Default)]
pub(crate) struct Listing {
    pub(crate) metadata: Value,
    pub(crate) capacity: Option<u32>,
    pub(crate) locked: bool,
    /// Changed since last published.
    pub(crate) changed: bool,
    /// Admitted joins not yet connected: when each expires.
    admitted: VecDeque<Duration>,
    reserved: HashMap<String, Reserved>,
}

/// What the directory shows of a room: its listing as of its last batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Published {
    pub(crate) metadata: Value,
    pub(crate) capacity: Option<u32>,
    pub(crate) locked: bool,
    /// Seats taken but not (yet) by a client in the room.
    pub(crate) held: usize,
}

impl Listing {
    fn expire(&mut self, now: Duration) {
        while self.admitted.front().is_some_and(|until| *until <= now) {
            self.admitted.pop_front();
        }
        self.reserved.retain(|_, seat| seat.until > now);
    }

    /// Seats taken beyond the room's `clients`.
    fn held(&self) -> usize {
        self.admitted.len() + self.reserved.len()
    }

    /// Whether a new client may come in, the room having `clients`.
    fn check(&mut self, clients: usize, now: Duration) -> Result<(), NoSeat> {
        self.expire(now);
        if self.locked {
            return Err(NoSeat::Locked);
        }
        match self.capacity {
            Some(capacity) if clients + self.held() >= capacity as usize => Err(NoSeat::Full),
            _ => Ok(()),
        }
    }

    /// A join with no seat of its own (no resume, no reservation): takes a
    /// free seat until its connection opens.
    pub(crate) fn admit(&mut self, clients: usize, now: Duration) -> Result<(), NoSeat> {
        self.check(clients, now)?;
        self.admitted.push_back(now + ADMITTED_FOR);
        self.changed = true;
        Ok(())
    }

    /// The options of reservation `token`, if it is live (nothing changes).
    pub(crate) fn peek(&mut self, token: &str, now: Duration) -> Option<Value> {
        self.expire(now);
        self.reserved.get(token).map(|seat| seat.options.clone())
    }

    /// A join that brings reservation `token`: its seat, now held until its
    /// connection opens, and the options it was reserved with.
    pub(crate) fn redeem(&mut self, token: &str, now: Duration) -> Result<Value, NoSeat> {
        self.expire(now);
        let seat = self.reserved.remove(token).ok_or(NoSeat::BadReservation)?;
        self.admitted.push_back(now + ADMITTED_FOR);
        self.changed = true;
        Ok(seat.options)
    }

    /// An admitted join's connection opened: its seat is now a client's.
    pub(crate) fn connected(&mut self) {
        if self.admitted.pop_front().is_some() {
            self.changed = true;
        }
    }

    /// Reserves a free seat for `options`, held for `window`; the token
    /// the client presents.
    pub(crate) fn reserve(
        &mut self,
        clients: usize,
        options: Value,
        now: Duration,
        window: Duration,
    ) -> Result<String, NoSeat> {
        self.check(clients, now)?;
        let token = Secret::random().hex();
        let until = now + window;
        self.reserved
            .insert(token.clone(), Reserved { until, options });
        self.changed = true;
        Ok(token)
    }

    /// Whether seats are held for clients on their way in (after letting
    /// the expired ones go).
    pub(crate) fn holds_any(&mut self, now: Duration) -> bool {
        self.expire(now);
        self.held() > 0
    }

    /// What the directory shows of the room (its clients aside).
    pub(crate) fn published(&mut self, now: Duration) -> Published {
        self.expire(now);
        Published {
            metadata: self.metadata.clone(),
            capacity: self.capacity,
            locked: self.locked,
            held: self.held(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const T0: Duration = Duration::ZERO;
    const RESERVED_FOR: Duration = Duration::from_secs(15);

    #[test]
    fn seats_count_clients_admitted_joins_and_reservations() {
        let mut listing = Listing {
            capacity: Some(3),
            ..Listing::default()
        };
        listing.admit(1, T0).unwrap();
        let token = listing.reserve(1, Value::Null, T0, RESERVED_FOR).unwrap();
        assert_eq!(listing.admit(1, T0), Err(NoSeat::Full));
        assert_eq!(
            listing.reserve(1, Value::Null, T0, RESERVED_FOR),
            Err(NoSeat::Full)
        );
        // The reservation's client comes: still one seat each.
        listing.redeem(&token, T0).unwrap();
        assert_eq!(listing.redeem(&token, T0), Err(NoSeat::BadReservation));
        assert_eq!(listing.admit(1, T0), Err(NoSeat::Full));
        // Both connect: two more clients, the room is at three.
        listing.connected();
        listing.connected();
        assert_eq!(listing.admit(3, T0), Err(NoSeat::Full));
        assert!(listing.admit(2, T0).is_ok());
    }

    #[test]
    fn unclaimed_seats_expire() {
        let mut listing = Listing {
            capacity: Some(1),
            ..Listing::default()
        };
        let token = listing.reserve(0, Value::Null, T0, RESERVED_FOR).unwrap();
        assert_eq!(listing.admit(0, T0), Err(NoSeat::Full));
        let later = RESERVED_FOR + Duration::from_millis(1);
        assert_eq!(listing.redeem(&token, later), Err(NoSeat::BadReservation));
        listing.admit(0, later).unwrap();
        assert_eq!(listing.admit(0, later), Err(NoSeat::Full));
        assert!(listing.admit(0, later + ADMITTED_FOR).is_ok());
    }

    #[test]
    fn a_locked_room_takes_no_one_new() {
        let mut listing = Listing {
            locked: true,
            ..Listing::default()
        };
        assert_eq!(listing.admit(0, T0), Err(NoSeat::Locked));
        assert_eq!(
            listing.reserve(0, Value::Null, T0, RESERVED_FOR),
            Err(NoSeat::Locked)
        );
        assert_eq!(listing.published(T0).held, 0);
    }
}
