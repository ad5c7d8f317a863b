//! A room's timers: one binary heap, driven by one sleep, however many timers
//! are pending. Times are offsets from the room's start, so the same structure
//! serves real time (the server) and virtual time (the test kit).
//!
//! Replacing or cancelling a timer leaves its old heap entry behind (lazy
//! deletion); the heap is rebuilt from the live timers whenever stale entries
//! outnumber live ones, so it never holds more than `2 × pending + 64`.

use stateroom_core::{ClientId, TimerKey};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

/// Which timer: the seed's single `set_timer` timer, a named one, or the
/// runtime's own end of a held client's reconnection window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TimerId {
    Seed,
    Named(TimerKey),
    Expire(ClientId),
    /// Tell numbered clients what was applied (`engine::inbound`).
    Acks,
    /// Send the room's state patches (`engine::sync`, with a patch rate).
    Sync,
    /// Send the room's presence patch (`engine::presence`).
    Presence,
}

/// The shortest interval period (a zero period would never let the room rest).
const MIN_PERIOD: Duration = Duration::from_millis(1);

struct Live {
    seq: u64,
    period: Option<Duration>,
}

struct Scheduled {
    deadline: Duration,
    /// Unique, increasing: breaks deadline ties in the order timers were set.
    seq: u64,
    id: TimerId,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

#[derive(Default)]
pub(crate) struct Timers {
    live: HashMap<TimerId, Live>,
    heap: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
}

impl Timers {
    /// Schedules `id` at `deadline` (then every `period`), replacing it if pending.
    pub(crate) fn set(&mut self, id: TimerId, deadline: Duration, period: Option<Duration>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let period = period.map(|p| p.max(MIN_PERIOD));
        self.live.insert(id.clone(), Live { seq, period });
        self.heap.push(Reverse(Scheduled { deadline, seq, id }));
        self.compact();
    }

    pub(crate) fn cancel(&mut self, id: &TimerId) {
        if self.live.remove(id).is_some() {
            self.compact();
        }
    }

    fn is_stale(&self, scheduled: &Scheduled) -> bool {
        self.live
            .get(&scheduled.id)
            .is_none_or(|live| live.seq != scheduled.seq)
    }

    fn drop_stale_top(&mut self) {
        while self
            .heap
            .peek()
            .is_some_and(|Reverse(top)| self.is_stale(top))
        {
            self.heap.pop();
        }
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<Duration> {
        self.drop_stale_top();
        self.heap.peek().map(|Reverse(top)| top.deadline)
    }

    /// The next timer due at `now` among those set before `before_seq`
    /// (a hook that re-arms a timer for "now" does not starve the room), in
    /// deadline order. An interval is rescheduled on its fixed schedule.
    pub(crate) fn pop_due(
        &mut self,
        now: Duration,
        before_seq: u64,
    ) -> Option<(TimerId, Duration)> {
        self.drop_stale_top();
        let Reverse(top) = self.heap.peek()?;
        if top.deadline > now || top.seq >= before_seq {
            return None;
        }
        let Reverse(due) = self.heap.pop()?;
        match self.live.get(&due.id).and_then(|live| live.period) {
            Some(period) => {
                // The next tick on the original schedule that is still ahead.
                let missed = (now - due.deadline).as_nanos() / period.as_nanos();
                let ticks = u32::try_from(missed + 1).unwrap_or(u32::MAX);
                let next = due.deadline + period.saturating_mul(ticks);
                let seq = self.next_seq;
                self.next_seq += 1;
                if let Some(live) = self.live.get_mut(&due.id) {
                    live.seq = seq;
                }
                self.heap.push(Reverse(Scheduled {
                    deadline: next,
                    seq,
                    id: due.id.clone(),
                }));
            }
            None => {
                self.live.remove(&due.id);
            }
        }
        Some((due.id, due.deadline))
    }

    /// Every pending timer: its id, deadline and period, in deadline order.
    pub(crate) fn list(&self) -> Vec<(TimerId, Duration, Option<Duration>)> {
        let mut pending: Vec<_> = self
            .heap
            .iter()
            .filter(|Reverse(s)| !self.is_stale(s))
            .map(|Reverse(s)| (s.deadline, s.seq, s.id.clone()))
            .collect();
        pending.sort_by_key(|(deadline, seq, _)| (*deadline, *seq));
        pending
            .into_iter()
            .map(|(deadline, _, id)| {
                let period = self.live.get(&id).and_then(|live| live.period);
                (id, deadline, period)
            })
            .collect()
    }

    /// A sequence number after every timer set so far.
    pub(crate) fn watermark(&self) -> u64 {
        self.next_seq
    }

    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn pending(&self) -> usize {
        self.live.len()
    }

    /// Heap entries, stale ones included.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn storage(&self) -> usize {
        self.heap.len()
    }

    fn compact(&mut self) {
        if self.heap.len() <= 2 * self.live.len() + 64 {
            return;
        }
        let live = &self.live;
        self.heap
            .retain(|Reverse(s)| live.get(&s.id).is_some_and(|l| l.seq == s.seq));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(key: &str) -> TimerId {
        TimerId::Named(TimerKey::new(key).unwrap_or_else(|_| unreachable!()))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn drain(timers: &mut Timers, now: Duration) -> Vec<(TimerId, Duration)> {
        let before = timers.watermark();
        std::iter::from_fn(|| timers.pop_due(now, before)).collect()
    }

    #[test]
    fn due_timers_come_out_in_deadline_then_set_order() {
        let mut timers = Timers::default();
        timers.set(named("c"), ms(30), None);
        timers.set(named("a"), ms(10), None);
        timers.set(named("b"), ms(10), None);
        timers.set(TimerId::Seed, ms(20), None);
        assert_eq!(timers.next_deadline(), Some(ms(10)));
        let order: Vec<_> = drain(&mut timers, ms(100))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(order, [named("a"), named("b"), TimerId::Seed, named("c")]);
        assert_eq!(timers.pending(), 0);
    }

    #[test]
    fn replace_and_cancel() {
        let mut timers = Timers::default();
        timers.set(named("a"), ms(10), None);
        timers.set(named("a"), ms(50), None);
        timers.set(named("b"), ms(20), None);
        timers.cancel(&named("b"));
        assert!(drain(&mut timers, ms(40)).is_empty());
        assert_eq!(drain(&mut timers, ms(50)), [(named("a"), ms(50))]);
    }

    #[test]
    fn intervals_keep_their_schedule_and_skip_missed_ticks() {
        let mut timers = Timers::default();
        timers.set(named("tick"), ms(100), Some(ms(100)));
        assert_eq!(drain(&mut timers, ms(100)), [(named("tick"), ms(100))]);
        assert_eq!(timers.next_deadline(), Some(ms(200)));
        // Late by 2.5 periods: one tick now, the next back on the schedule.
        assert_eq!(drain(&mut timers, ms(450)), [(named("tick"), ms(200))]);
        assert_eq!(timers.next_deadline(), Some(ms(500)));
    }

    #[test]
    fn a_timer_rearmed_for_now_waits_for_the_next_round() {
        let mut timers = Timers::default();
        timers.set(named("a"), ms(10), None);
        let before = timers.watermark();
        assert!(timers.pop_due(ms(10), before).is_some());
        timers.set(named("a"), ms(10), None);
        assert!(timers.pop_due(ms(10), before).is_none());
        assert!(timers.pop_due(ms(10), timers.watermark()).is_some());
    }

    #[test]
    fn stale_entries_stay_bounded() {
        let mut timers = Timers::default();
        for round in 0..50 {
            for i in 0..1000u64 {
                timers.set(named(&i.to_string()), ms(1000 + round + i), None);
            }
        }
        assert_eq!(timers.pending(), 1000);
        assert!(timers.storage() <= 2 * 1000 + 64, "{}", timers.storage());
    }
}
