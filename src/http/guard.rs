//! Guessing slowed: an address whose requests carry wrong credentials
//! `MAX_FAILURES` times in a row is refused (429, without looking at its
//! credentials) for `LOCKOUT`, and logged once for that burst. The table
//! holds at most `MAX_ADDRESSES` addresses (the oldest go first), so a
//! crowd of addresses cannot grow it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Wrong credentials in a row (no success between) before the lockout.
pub const MAX_FAILURES: u32 = 10;
/// How long a guessing address is refused; also how long failures are
/// remembered.
pub const LOCKOUT: Duration = Duration::from_secs(30);
/// Addresses remembered at most.
pub const MAX_ADDRESSES: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Failed authentications by address.
#[derive(Debug, Default)]
pub struct AuthGuard {
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; the address may try again.
    Counted,
    /// This failure locked the address out (log it: once per burst).
    LockedOut,
}

impl AuthGuard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The time left of `ip`'s lockout at `now`, if it is locked out.
    #[must_use]
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let until = self.lock().get(&ip)?.locked_until?;
        until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// `ip` sent wrong credentials at `now`.
    pub fn failed(&self, ip: IpAddr, now: Instant) -> Failure {
        let mut entries = self.lock();
        if !entries.contains_key(&ip) && entries.len() >= MAX_ADDRESSES {
            make_room(&mut entries, now);
        }
        let entry = entries.entry(ip).or_insert(Entry {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) > LOCKOUT {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        let locked = entry.locked_until.is_some_and(|until| until > now);
        if entry.failures >= MAX_FAILURES && !locked {
            entry.locked_until = Some(now + LOCKOUT);
            entry.failures = 0;
            return Failure::LockedOut;
        }
        Failure::Counted
    }

    /// `ip` authenticated: its failures are forgotten.
    pub fn succeeded(&self, ip: IpAddr) {
        self.lock().remove(&ip);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Drop every forgotten address; if none is, the one seen longest ago.
fn make_room(entries: &mut HashMap<IpAddr, Entry>, now: Instant) {
    entries.retain(|_, e| {
        now.duration_since(e.last) <= LOCKOUT || e.locked_until.is_some_and(|u| u > now)
    });
    if entries.len() >= MAX_ADDRESSES
        && let Some(oldest) = entries
            .iter()
            .min_by_key(|(_, e)| e.last)
            .map(|(ip, _)| *ip)
    {
        entries.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn an_address_guessing_is_locked_out_then_let_back() {
        let g = AuthGuard::default();
        let t0 = Instant::now();
        for i in 1..MAX_FAILURES {
            assert_eq!(g.failed(ip(1), t0), Failure::Counted, "{i}");
            assert_eq!(g.locked(ip(1), t0), None);
        }
        assert_eq!(g.failed(ip(1), t0), Failure::LockedOut);
        assert_eq!(g.locked(ip(1), t0), Some(LOCKOUT));
        assert_eq!(g.locked(ip(2), t0), None, "others are not affected");
        // More failures while locked: no second lockout line.
        for _ in 0..50 {
            assert_eq!(g.failed(ip(1), t0), Failure::Counted);
        }
        assert_eq!(
            g.locked(ip(1), t0 + LOCKOUT),
            None,
            "let back after the lockout"
        );
    }

    #[test]
    fn a_success_forgets_the_failures() {
        let g = AuthGuard::default();
        let t0 = Instant::now();
        for _ in 0..20 {
            for _ in 1..MAX_FAILURES {
                assert_eq!(g.failed(ip(1), t0), Failure::Counted);
            }
            g.succeeded(ip(1));
        }
        assert_eq!(g.locked(ip(1), t0), None);
    }

    #[test]
    fn the_table_stays_bounded() {
        let g = AuthGuard::default();
        let t0 = Instant::now();
        for n in 0..(MAX_ADDRESSES as u32 * 3) {
            g.failed(ip(n), t0);
        }
        assert!(g.len() <= MAX_ADDRESSES, "{}", g.len());
    }
}
