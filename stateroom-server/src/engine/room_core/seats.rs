//! Who may come in: the `join` hook, then a seat (`engine::listing`): a
//! client returning to its held seat brings its own, a matchmade client
//! its reservation, anyone else takes a free one or is refused. And the
//! matchmaker's reservations, decided here in the order the room sees them.

use super::{Panicked, RoomCore};
use crate::engine::listing::{NoSeat, Published};
use crate::engine::members::{Outlet, RoomContext};
use crate::engine::resume::parse_token;
use hyper::StatusCode;
use serde_json::Value;
use stateroom_core::{ClientData, JoinRequest, Reject, SimpleStateroomService};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// The answer to a join the room has no seat for.
pub(crate) fn no_seat_reject(why: NoSeat) -> Reject {
    match why {
        NoSeat::Full => Reject::unavailable(why.to_string()),
        NoSeat::Locked => Reject::new(StatusCode::LOCKED, why.to_string()),
        NoSeat::BadReservation => Reject::new(StatusCode::GONE, why.to_string()),
    }
}

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// May this request join, and with what data? A reservation is checked
    /// first (the hook sees its options), then the `join` hook runs, then
    /// the seat is taken.
    pub(crate) fn admit(
        &self,
        request: &JoinRequest,
        now: Duration,
    ) -> Result<Result<ClientData, Reject>, Panicked> {
        let token = request.query_param("reservation").map(|t| t.into_owned());
        let reserved;
        let request = match &token {
            Some(token) => match self.members.listing.borrow_mut().peek(token, now) {
                Some(options) => {
                    reserved = request.clone().with_reservation(options);
                    &reserved
                }
                None => return Ok(Err(no_seat_reject(NoSeat::BadReservation))),
            },
            None => request,
        };
        let verdict = self.authorise(request, now)?;
        let Ok(data) = verdict else {
            return Ok(verdict);
        };
        if self.returning(request, &data) {
            return Ok(Ok(data));
        }
        let clients = self.members.clients.len();
        let mut listing = self.members.listing.borrow_mut();
        let seat = match &token {
            Some(token) => listing.redeem(token, now).map(|_| ()),
            None => listing.admit(clients, now),
        };
        Ok(seat.map(|()| data).map_err(no_seat_reject))
    }

    /// The `join` hook alone, for a request that takes no seat (an HTTP
    /// request to the room).
    pub(crate) fn authorise(
        &self,
        request: &JoinRequest,
        now: Duration,
    ) -> Result<Result<ClientData, Reject>, Panicked> {
        self.members.now.set(now);
        let ctx = RoomContext {
            members: &self.members,
        };
        catch_unwind(AssertUnwindSafe(|| self.service.join(request, &ctx))).map_err(Panicked)
    }

    /// Whether the join comes back to a seat held in the room: a resume
    /// token this room issued, or the principal of a held seat.
    fn returning(&self, request: &JoinRequest, data: &ClientData) -> bool {
        let by_token = request
            .query_param("resume")
            .and_then(|token| parse_token(&token).ok())
            .is_some_and(|(client, secret)| {
                self.members
                    .clients
                    .get(&client)
                    .and_then(|slot| slot.replay.as_ref())
                    .is_some_and(|replay| replay.borrow().holds(&secret))
            });
        by_token
            || data
                .principal()
                .is_some_and(|principal| self.held_seat_of(principal).is_some())
    }

    /// Whether seats are taken by clients not yet in the room (a join on
    /// its way, a reservation): the room is not empty while they are.
    pub(crate) fn holds_seats(&self, now: Duration) -> bool {
        self.members.listing.borrow_mut().holds_any(now)
    }

    /// What the directory would show of room `id` now (the test kit's view).
    #[cfg(feature = "testing")]
    pub(crate) fn listing_info(&self, id: &str, now: Duration) -> crate::RoomInfo {
        let published = self.members.listing.borrow_mut().published(now);
        crate::RoomInfo {
            kind: String::new(),
            id: id.to_owned(),
            clients: self.members.clients.len(),
            capacity: published.capacity,
            reserved: published.held,
            locked: published.locked,
            metadata: published.metadata,
            node: None,
        }
    }

    /// The room's directory entry, if it changed since last taken.
    pub(crate) fn take_listing(&self, now: Duration) -> Option<Published> {
        let mut listing = self.members.listing.borrow_mut();
        std::mem::take(&mut listing.changed).then(|| listing.published(now))
    }

    /// Reserves a seat for a matchmade client: its token, or why not. A
    /// room the matchmaker has just created takes `seed` (what the call
    /// filtered on) as its metadata, unless it set its own.
    pub(crate) fn reserve(
        &self,
        options: Value,
        seed: Option<Value>,
        now: Duration,
    ) -> Result<String, NoSeat> {
        let clients = self.members.clients.len();
        let mut listing = self.members.listing.borrow_mut();
        if let Some(seed) = seed
            && listing.metadata.is_null()
        {
            listing.metadata = seed;
            listing.changed = true;
        }
        listing.reserve(
            clients,
            options,
            now,
            self.members.settings.seat_reservation,
        )
    }
}
