//! A TTL + size-bounded cache of message keys, so the same message is not
//! handled (inbound) or published (outbound) twice, e.g. across a reconnect.
//!
//! Time is passed in (`now: Instant`), never read here, so tests drive it
//! with a fake clock.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Remembers keys for `ttl`, at most `capacity` of them (oldest evicted first).
#[derive(Debug)]
pub struct DedupCache {
    ttl: Duration,
    capacity: usize,
    seen: HashMap<u64, Instant>,
    order: VecDeque<(u64, Instant)>,
}

impl DedupCache {
    /// A cache that forgets a key after `ttl` and holds at most `capacity` keys.
    #[must_use]
    pub fn new(ttl: Duration, capacity: usize) -> DedupCache {
        DedupCache {
            ttl,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// True the first time `key` is offered within the TTL, false for a repeat.
    /// A repeat does not extend the entry's life.
    pub fn first_seen(&mut self, key: u64, now: Instant) -> bool {
        self.expire(now);
        if self.seen.contains_key(&key) {
            return false;
        }
        self.seen.insert(key, now);
        self.order.push_back((key, now));
        while self.seen.len() > self.capacity {
            self.pop_oldest();
        }
        true
    }

    /// True if `key` is remembered (without inserting it).
    #[must_use]
    pub fn contains(&self, key: u64, now: Instant) -> bool {
        self.seen
            .get(&key)
            .is_some_and(|t| now.saturating_duration_since(*t) < self.ttl)
    }

    /// How many keys are remembered now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when no key is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(_, t)) = self.order.front() {
            if now.saturating_duration_since(t) < self.ttl {
                break;
            }
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((key, t)) = self.order.pop_front()
            && self.seen.get(&key) == Some(&t)
        {
            self.seen.remove(&key);
        }
    }
}

#[derive(Deserialize)]
struct IdFields {
    id: Option<serde_json::Value>,
    seq: Option<serde_json::Value>,
}

/// The identity of an inbound message: its topic plus the JSON `id` (else
/// `seq`) field when the payload is a JSON object that has one, else a hash of
/// the whole payload; and whether the message named itself (an `id` or
/// `seq`) rather than being known by its payload alone.
#[must_use]
pub fn message_identity(topic: &str, payload: &[u8]) -> (u64, bool) {
    let mut h = DefaultHasher::new();
    topic.hash(&mut h);
    let looks_like_object = payload
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    let ids = if looks_like_object {
        serde_json::from_slice::<IdFields>(payload).ok()
    } else {
        None
    };
    let named = match ids {
        Some(IdFields { id: Some(id), .. }) if !id.is_null() => {
            ("id", id.to_string()).hash(&mut h);
            true
        }
        Some(IdFields { seq: Some(seq), .. }) if !seq.is_null() => {
            ("seq", seq.to_string()).hash(&mut h);
            true
        }
        _ => {
            ("payload", payload).hash(&mut h);
            false
        }
    };
    (h.finish(), named)
}

/// The identity of an outbound frame: topic and sequence number.
#[must_use]
pub fn seq_key(topic: &str, seq: u64) -> u64 {
    let mut h = DefaultHasher::new();
    (topic, "seq", seq).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(topic: &str, payload: &[u8]) -> u64 {
        message_identity(topic, payload).0
    }

    /// A fake clock: a fixed origin plus a manually advanced offset.
    struct FakeClock {
        origin: Instant,
        offset: Duration,
    }

    impl FakeClock {
        fn new() -> Self {
            FakeClock {
                origin: Instant::now(),
                offset: Duration::ZERO,
            }
        }
        fn now(&self) -> Instant {
            self.origin + self.offset
        }
        fn advance(&mut self, d: Duration) {
            self.offset += d;
        }
    }

    #[test]
    fn repeat_within_ttl_is_rejected_then_accepted_after() {
        let mut clock = FakeClock::new();
        let mut cache = DedupCache::new(Duration::from_secs(10), 100);
        assert!(cache.first_seen(1, clock.now()));
        clock.advance(Duration::from_secs(9));
        assert!(!cache.first_seen(1, clock.now()));
        assert!(cache.contains(1, clock.now()));
        // The repeat did not extend the life: 10 s after the first sighting it is gone.
        clock.advance(Duration::from_secs(1));
        assert!(!cache.contains(1, clock.now()));
        assert!(cache.first_seen(1, clock.now()));
    }

    #[test]
    fn expired_entries_are_dropped() {
        let mut clock = FakeClock::new();
        let mut cache = DedupCache::new(Duration::from_secs(1), 100);
        for k in 0..50 {
            assert!(cache.first_seen(k, clock.now()));
        }
        clock.advance(Duration::from_secs(2));
        assert!(cache.first_seen(1000, clock.now()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn size_bound_evicts_oldest() {
        let clock = FakeClock::new();
        let mut cache = DedupCache::new(Duration::from_secs(60), 3);
        for k in 1..=4 {
            assert!(cache.first_seen(k, clock.now()));
        }
        assert_eq!(cache.len(), 3);
        assert!(!cache.contains(1, clock.now()));
        assert!(cache.contains(4, clock.now()));
        assert!(cache.first_seen(1, clock.now()), "evicted key is new again");
        assert!(!cache.first_seen(4, clock.now()));
    }

    #[test]
    fn keys_by_id_then_seq_then_payload() {
        let a = key("t", br#"{"seq": 7, "timestamp": 1.0}"#);
        let b = key("t", br#"{"seq": 7, "timestamp": 2.0}"#);
        assert_eq!(a, b, "same seq, other fields differ");
        assert_ne!(a, key("t", br#"{"seq": 8, "timestamp": 1.0}"#));
        assert_ne!(a, key("u", br#"{"seq": 7, "timestamp": 1.0}"#));
        let id1 = key("t", br#"{"id": "x", "seq": 1}"#);
        let id2 = key("t", br#"{"id": "x", "seq": 2}"#);
        assert_eq!(id1, id2, "id wins over seq");
        let p1 = key("t", br#"{"ok": true}"#);
        assert_eq!(p1, key("t", br#"{"ok": true}"#));
        assert_ne!(p1, key("t", br#"{"ok": false}"#));
        assert_eq!(key("t", b"raw"), key("t", b"raw"));
        assert_ne!(key("t", b"raw"), key("t", b"raw2"));
        assert_ne!(seq_key("t", 1), seq_key("t", 2));
        assert_ne!(seq_key("t", 1), seq_key("u", 1));
    }
}
