//! Retry delays, for the MQTT reconnects and the camera re-opens:
//! exponential from `min` to `max`, doubling, with optional jitter.
//!
//! Pure logic with a seedable random source, so the schedule is unit-tested
//! without sleeping.

use std::time::Duration;

/// Exponential backoff with ±`jitter` relative spread, never above `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    jitter: f64,
    failures: u32,
    rng: fastrand::Rng,
}

/// Default relative jitter (±20 %).
pub const DEFAULT_JITTER: f64 = 0.2;

impl Backoff {
    /// `min` is clamped to at least 1 ms and `max` to at least `min`.
    #[must_use]
    pub fn new(min: Duration, max: Duration, jitter: f64, seed: u64) -> Backoff {
        let min = min.max(Duration::from_millis(1));
        Backoff {
            min,
            max: max.max(min),
            jitter: jitter.clamp(0.0, 0.9),
            failures: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Failed attempts since the last reset.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The delay before the next attempt, after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.base_delay(self.failures);
        self.failures = self.failures.saturating_add(1);
        let factor = 1.0 + self.jitter * (self.rng.f64() * 2.0 - 1.0);
        base.mul_f64(factor).min(self.max)
    }

    /// The un-jittered delay after `failures` earlier failures.
    #[must_use]
    pub fn base_delay(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.min(31));
        self.min.saturating_mul(factor).min(self.max)
    }

    /// Back to `min`: the link stayed up long enough.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_from_min_to_max_without_jitter() {
        let mut b = Backoff::new(ms(500), ms(5000), 0.0, 1);
        let got: Vec<u64> = (0..7).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(got, vec![500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(b.failures(), 7);
    }

    #[test]
    fn jitter_stays_within_bounds_and_never_above_max() {
        for seed in 0..200 {
            let mut b = Backoff::new(ms(500), ms(5000), 0.2, seed);
            for k in 0..10u32 {
                let base = b.base_delay(k).as_secs_f64();
                let d = b.next_delay().as_secs_f64();
                assert!(d >= base * 0.8 - 1e-9, "seed {seed} k {k}: {d} < {base}");
                assert!(d <= (base * 1.2).min(5.0) + 1e-9, "seed {seed} k {k}: {d}");
            }
        }
    }

    #[test]
    fn jitter_actually_varies() {
        let delays: Vec<Duration> = (0..20)
            .map(|seed| Backoff::new(ms(500), ms(5000), 0.2, seed).next_delay())
            .collect();
        assert!(delays.iter().any(|d| *d != delays[0]));
    }

    #[test]
    fn same_seed_same_schedule() {
        let mut a = Backoff::new(ms(100), ms(3000), 0.2, 42);
        let mut b = Backoff::new(ms(100), ms(3000), 0.2, 42);
        for _ in 0..8 {
            assert_eq!(a.next_delay(), b.next_delay());
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(ms(500), ms(5000), 0.0, 1);
        for _ in 0..4 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.failures(), 0);
        assert_eq!(b.next_delay(), ms(500));
    }

    #[test]
    fn bad_bounds_are_clamped() {
        let mut b = Backoff::new(ms(0), ms(0), 0.0, 1);
        assert_eq!(b.next_delay(), ms(1));
        let mut b = Backoff::new(ms(800), ms(100), 0.0, 1);
        assert_eq!(b.next_delay(), ms(800));
        assert_eq!(b.next_delay(), ms(800));
    }
}
