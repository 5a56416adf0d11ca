//! The open connections and what each is doing: waiting for a request head
//! (or idle between requests), writing an answer, or neither. When every
//! slot is taken, the accept path closes the one that has waited longest
//! for a head, else the one blocked longest writing to a client that does
//! not read, so that clients which send a byte a second, or pipeline
//! requests and never read the answers, cannot keep a prompt client out.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A connection in one state this long may give way to a new one.
pub const EVICTABLE_AFTER: Duration = Duration::from_millis(100);

/// What a connection is doing, as far as eviction goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Reading a request head, or idle between requests.
    Head,
    /// Writing an answer (or a stream part) to the client.
    Writing,
    /// Anything else (handling a request, waiting for a frame): kept.
    Busy,
}

/// Which kind of connection was closed to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evicted {
    Head,
    Writer,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    state: State,
    since: Instant,
    socket: TcpStream,
}

#[derive(Debug, Default)]
pub struct Heads {
    open: Mutex<Vec<Entry>>,
    next_id: AtomicU64,
}

/// A connection's place in the registry; leaves on drop.
#[derive(Debug)]
pub struct Registered<'a> {
    heads: &'a Heads,
    id: u64,
}

impl Heads {
    /// Register `socket` (busy for now); `None` when the socket cannot be
    /// shared, in which case it is simply not evictable.
    pub fn register(&self, socket: &TcpStream) -> Option<Registered<'_>> {
        let socket = socket.try_clone().ok()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Entry {
            id,
            state: State::Busy,
            since: Instant::now(),
            socket,
        });
        Some(Registered { heads: self, id })
    }

    /// Close the connection that has waited longest for a head, else the
    /// one blocked longest writing, if it has been so at least
    /// `EVICTABLE_AFTER`. Its thread sees the close and ends, freeing its slot.
    pub fn evict_oldest(&self) -> Option<Evicted> {
        let mut open = self.lock();
        let oldest_in = |state: State| {
            open.iter()
                .enumerate()
                .filter(|(_, e)| e.state == state && e.since.elapsed() >= EVICTABLE_AFTER)
                .min_by_key(|(_, e)| e.since)
                .map(|(i, _)| i)
        };
        let (i, kind) = oldest_in(State::Head)
            .map(|i| (i, Evicted::Head))
            .or_else(|| oldest_in(State::Writing).map(|i| (i, Evicted::Writer)))?;
        let entry = open.swap_remove(i);
        drop(open);
        let _ = entry.socket.shutdown(Shutdown::Both);
        Some(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Registered<'_> {
    /// The connection is now in `state`.
    pub fn set(&self, state: State) {
        if let Some(e) = self.heads.lock().iter_mut().find(|e| e.id == self.id) {
            e.state = state;
            e.since = Instant::now();
        }
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.heads.lock().retain(|e| e.id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn age(heads: &Heads) {
        for e in heads.lock().iter_mut() {
            e.since -= EVICTABLE_AFTER;
        }
    }

    #[test]
    fn heads_go_first_then_writers_and_busy_ones_stay() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut clients: Vec<TcpStream> = (0..3)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        let servers: Vec<TcpStream> = (0..3)
            .map(|_| listener.accept().expect("accept").0)
            .collect();
        let heads = Heads::default();
        let regs: Vec<_> = servers
            .iter()
            .map(|s| heads.register(s).expect("registered"))
            .collect();
        regs[0].set(State::Writing);
        regs[1].set(State::Head);
        regs[2].set(State::Busy);
        assert_eq!(heads.evict_oldest(), None, "too young to evict");
        age(&heads);
        assert_eq!(heads.evict_oldest(), Some(Evicted::Head));
        assert_eq!(heads.evict_oldest(), Some(Evicted::Writer));
        assert_eq!(heads.evict_oldest(), None, "a busy connection stays");
        for (i, client) in clients.iter_mut().take(2).enumerate() {
            client
                .set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            let mut buf = [0u8; 1];
            assert_eq!(client.read(&mut buf).expect("closed"), 0, "client {i}");
        }
        drop(regs);
        assert!(heads.lock().is_empty(), "leaving unregisters");
    }
}
