//! The connections still sending a request head (or idle between
//! requests). When every slot is taken, the accept path closes the oldest
//! of them to make room, so clients that send a byte a second cannot keep a
//! prompt client out for the whole head deadline.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A connection waiting this long for its head may give way to a new one.
pub const EVICTABLE_AFTER: Duration = Duration::from_millis(100);

#[derive(Debug, Default)]
pub struct Heads {
    waiting: Mutex<Vec<(u64, Instant, TcpStream)>>,
    next_id: AtomicU64,
}

/// Registered while a connection waits for a head; leaves on drop.
#[derive(Debug)]
pub struct Waiting<'a> {
    heads: &'a Heads,
    id: u64,
}

impl Heads {
    /// Note that `socket` is waiting for a head from now on (`None` when the
    /// socket cannot be shared, in which case it is simply not evictable).
    pub fn enter(&self, socket: &TcpStream) -> Option<Waiting<'_>> {
        let handle = socket.try_clone().ok()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, Instant::now(), handle));
        Some(Waiting { heads: self, id })
    }

    /// Close the connection that has waited longest, if it waited at least
    /// `EVICTABLE_AFTER`. Its thread sees the close and ends, freeing its slot.
    pub fn evict_oldest(&self) -> bool {
        let mut waiting = self.lock();
        let oldest = waiting
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, since, _))| *since)
            .filter(|(_, (_, since, _))| since.elapsed() >= EVICTABLE_AFTER)
            .map(|(i, _)| i);
        let Some(i) = oldest else { return false };
        let (_, _, socket) = waiting.swap_remove(i);
        drop(waiting);
        let _ = socket.shutdown(Shutdown::Both);
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Instant, TcpStream)>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.heads.lock().retain(|(id, _, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn only_a_connection_waiting_long_enough_is_closed_and_leaving_unregisters() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut client = TcpStream::connect(addr).expect("connect");
        let (server_side, _) = listener.accept().expect("accept");
        let heads = Heads::default();
        let waiting = heads.enter(&server_side).expect("registered");
        assert!(!heads.evict_oldest(), "too young to evict");
        drop(waiting);
        assert!(heads.lock().is_empty(), "leaving unregisters");
        let _waiting = heads.enter(&server_side).expect("registered");
        if let Some((_, since, _)) = heads.lock().first_mut() {
            *since -= EVICTABLE_AFTER;
        }
        assert!(heads.evict_oldest());
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut buf = [0u8; 1];
        assert_eq!(
            client.read(&mut buf).expect("closed"),
            0,
            "the client sees the close"
        );
    }
}
