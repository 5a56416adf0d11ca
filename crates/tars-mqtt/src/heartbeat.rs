//! Heartbeat schedule on absolute deadlines (no drift), paused while the
//! link is down, and the round-trip bookkeeping of heartbeats that come back
//! through the broker.
//!
//! Pure logic: instants are passed in, so it is unit-tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The payload on `system/keepalive/<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Always true: a heartbeat says the service is alive.
    pub ok: bool,
    /// Always `heartbeat`.
    pub event: String,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// Counts heartbeats from 1 since the client started.
    pub seq: u64,
    /// Seconds since the client started.
    pub uptime_s: f64,
}

/// When the next heartbeat is due.
#[derive(Debug, Clone)]
pub struct Schedule {
    interval: Duration,
    next_due: Option<Instant>,
    max_drift: Duration,
}

impl Schedule {
    /// A zero interval means no heartbeat at all.
    #[must_use]
    pub fn new(interval: Duration) -> Schedule {
        Schedule {
            interval,
            next_due: None,
            max_drift: Duration::ZERO,
        }
    }

    /// The time between two heartbeats.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The next deadline, `None` while paused or disabled.
    #[must_use]
    pub fn next_due(&self) -> Option<Instant> {
        self.next_due
    }

    /// Largest lateness seen so far.
    #[must_use]
    pub fn max_drift(&self) -> Duration {
        self.max_drift
    }

    /// Link up: one heartbeat at once, then every interval from `now`.
    pub fn resume(&mut self, now: Instant) {
        if !self.interval.is_zero() {
            self.next_due = Some(now);
        }
    }

    /// Link down: nothing is due.
    pub fn pause(&mut self) {
        self.next_due = None;
    }

    /// Called when the timer fires at `now`. Returns the lateness if a beat
    /// is due, and moves the deadline by whole intervals, skipping beats that
    /// were missed entirely (the phase is kept; a stall does not cause a burst).
    pub fn fire(&mut self, now: Instant) -> Option<Duration> {
        let due = self.next_due?;
        if now < due {
            return None;
        }
        let drift = now - due;
        let mut next = due + self.interval;
        if next <= now {
            let behind = (now - next).as_nanos() / self.interval.as_nanos().max(1);
            let skip = u32::try_from(behind).unwrap_or(u32::MAX).saturating_add(1);
            next += self.interval.saturating_mul(skip);
        }
        self.next_due = Some(next);
        self.max_drift = self.max_drift.max(drift);
        Some(drift)
    }
}

/// Heartbeats in flight: seq → when published, to measure the round trip.
#[derive(Debug, Default)]
pub struct RoundTrips {
    in_flight: VecDeque<(u64, Instant)>,
}

/// How many unanswered heartbeats are remembered.
const MAX_IN_FLIGHT: usize = 16;

impl RoundTrips {
    /// Notes that heartbeat `seq` was published at `at`.
    pub fn sent(&mut self, seq: u64, at: Instant) {
        self.in_flight.push_back((seq, at));
        while self.in_flight.len() > MAX_IN_FLIGHT {
            self.in_flight.pop_front();
        }
    }

    /// The heartbeat `seq` came back at `now`: its round trip, if it was ours.
    pub fn returned(&mut self, seq: u64, now: Instant) -> Option<Duration> {
        let pos = self.in_flight.iter().position(|(s, _)| *s == seq)?;
        let (_, at) = self.in_flight.remove(pos)?;
        // Older ones will not come back any more.
        self.in_flight.drain(..pos);
        Some(now.saturating_duration_since(at))
    }

    /// Forget everything (link lost).
    pub fn clear(&mut self) {
        self.in_flight.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A 100 ms schedule resumed at `t0`, its first beat sent.
    fn beating_since(t0: Instant) -> Schedule {
        let mut s = Schedule::new(ms(100));
        s.resume(t0);
        s.fire(t0);
        s
    }

    #[test]
    fn fires_at_once_on_resume_then_on_absolute_deadlines() {
        let t0 = Instant::now();
        let mut s = Schedule::new(ms(1000));
        assert_eq!(s.next_due(), None);
        assert_eq!(s.fire(t0), None, "paused");
        s.resume(t0);
        assert_eq!(s.fire(t0), Some(ms(0)));
        assert_eq!(s.next_due(), Some(t0 + ms(1000)));
        assert_eq!(s.fire(t0 + ms(999)), None, "not yet due");
        // Late by 30 ms: the next deadline stays on the grid, no drift.
        assert_eq!(s.fire(t0 + ms(1030)), Some(ms(30)));
        assert_eq!(s.next_due(), Some(t0 + ms(2000)));
        assert_eq!(s.fire(t0 + ms(2005)), Some(ms(5)));
        assert_eq!(s.next_due(), Some(t0 + ms(3000)));
        assert_eq!(s.max_drift(), ms(30));
    }

    #[test]
    fn a_stall_skips_missed_beats_without_a_burst() {
        let t0 = Instant::now();
        let mut s = beating_since(t0);
        assert_eq!(s.fire(t0 + ms(450)), Some(ms(350)));
        assert_eq!(s.next_due(), Some(t0 + ms(500)));
        assert_eq!(s.fire(t0 + ms(460)), None);
    }

    #[test]
    fn pause_and_resume_restart_the_grid() {
        let t0 = Instant::now();
        let mut s = beating_since(t0);
        s.pause();
        assert_eq!(s.next_due(), None);
        assert_eq!(s.fire(t0 + ms(500)), None);
        s.resume(t0 + ms(777));
        assert_eq!(s.fire(t0 + ms(777)), Some(ms(0)));
        assert_eq!(s.next_due(), Some(t0 + ms(877)));
    }

    #[test]
    fn zero_interval_is_off() {
        let mut s = Schedule::new(Duration::ZERO);
        s.resume(Instant::now());
        assert_eq!(s.next_due(), None);
    }

    #[test]
    fn round_trips_match_by_seq() {
        let t0 = Instant::now();
        let mut r = RoundTrips::default();
        r.sent(1, t0);
        r.sent(2, t0 + ms(100));
        assert_eq!(r.returned(9, t0 + ms(120)), None, "not ours");
        assert_eq!(r.returned(2, t0 + ms(112)), Some(ms(12)));
        assert_eq!(r.returned(1, t0 + ms(130)), None, "older dropped");
        assert_eq!(r.returned(2, t0 + ms(130)), None, "answered once");
        for seq in 0..100 {
            r.sent(seq, t0);
        }
        assert_eq!(r.returned(0, t0), None, "bounded memory");
        assert_eq!(r.returned(99, t0 + ms(1)), Some(ms(1)));
    }
}
