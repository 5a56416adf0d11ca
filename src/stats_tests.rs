//! Tests of the meters and the status snapshot's types.

use super::*;

#[test]
fn time_buckets_count_each_bucket_once() {
    let mut t = TimeBuckets::default();
    for s in [0.0005, 0.001, 0.004, 0.004, 2.0] {
        t.record(s);
    }
    let b = t.buckets();
    assert_eq!(b.len(), TimeBuckets::BOUNDS.len() + 1);
    assert_eq!(b[0], (0.001, 2));
    assert_eq!(b[2], (0.005, 2));
    assert_eq!(b[b.len() - 1], (f64::INFINITY, 1));
    assert_eq!(t.count, 5);
    assert!((t.sum - 2.0095).abs() < 1e-9);
}

#[test]
fn rate_meter_counts_the_last_second() {
    let t0 = Instant::now();
    let mut m = RateMeter::default();
    for i in 0..30 {
        m.record(t0 + Duration::from_millis(i * 33));
    }
    let r = m.rate(t0 + Duration::from_millis(990));
    assert!((r - 30.0).abs() < 0.5, "{r}");
    // Steady 15 fps, window edge included: still 15, not 16.
    let mut steady = RateMeter::default();
    for i in 0..=45u64 {
        steady.record(t0 + Duration::from_nanos(i * 1_000_000_000 / 15));
    }
    let r = steady.rate(t0 + Duration::from_secs(3));
    assert!((r - 15.0).abs() < 0.2, "{r}");
    // Half a second of silence shows as a drop at once.
    let stalled = steady.rate(t0 + Duration::from_millis(3500));
    assert!(stalled < 9.0, "{stalled}");
    let later = m.rate(t0 + Duration::from_secs(5));
    assert!(later.abs() < f64::EPSILON, "stale events expire: {later}");
}

#[test]
fn history_keeps_one_value_per_second_for_a_minute() {
    let t0 = Instant::now();
    let mut h = History::default();
    for i in 0..200u64 {
        h.sample(t0 + Duration::from_millis(i * 500), i as f64);
    }
    let v = h.values();
    assert_eq!(v.len(), History::LEN);
    assert!((v[59] - 198.0).abs() < f64::EPSILON, "{v:?}");
}

#[test]
fn counter_rate_is_per_second() {
    let t0 = Instant::now();
    let mut r = CounterRate::default();
    let mut last = 0.0;
    for i in 0..=8u64 {
        last = r.update(t0 + Duration::from_millis(i * 250), i * 1000);
    }
    assert!((last - 4000.0).abs() < 1.0, "{last}");
}
