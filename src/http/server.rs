//! The accept path: one thread accepts, admits a connection to a thread of
//! its own while fewer than `max_connections` are open (making room by
//! closing the slowest request head when full), and hands the rest to one
//! refusing thread that answers 503. So the server never runs more
//! than `max_connections + 2` threads.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::heads::Evicted;
use super::response::Response;
use super::{HttpContext, StreamCounters, connection, exposure_warning};
use crate::supervise::{Ending, panic_message};

/// Refused connections (already answered) waiting to be closed once the
/// client is done; more are closed at once.
const REFUSE_QUEUE: usize = 16;
/// How long the refusing thread reads from one refused connection before
/// closing it, at most (so a full queue clears within two seconds).
const REFUSE_BUDGET: Duration = Duration::from_millis(100);

/// The running server.
pub struct HttpServer {
    stop: Arc<AtomicBool>,
    liveness: Arc<super::liveness::Liveness>,
    accept: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Serve on `listener` until `stop()`. Logs one warning when the address
    /// is reachable from the network and no authentication is configured.
    ///
    /// # Errors
    /// The listener is unusable or a thread cannot start.
    pub fn start(listener: TcpListener, ctx: HttpContext) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(false)?;
        if let Some(warning) = exposure_warning(addr, &ctx.auth) {
            tracing::warn!("{warning}");
        }
        let stop = Arc::clone(&ctx.stop);
        let liveness = Arc::clone(&ctx.liveness);
        let (refuse_tx, refuse_rx) = sync_channel(REFUSE_QUEUE);
        std::thread::Builder::new()
            .name("http-refuse".into())
            .spawn(move || refuse_loop(&refuse_rx))?;
        let accept = std::thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || supervised_accept(&listener, &ctx, &refuse_tx))?;
        Ok(Self {
            stop,
            liveness,
            accept: Some(accept),
            addr,
        })
    }

    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What a watchdog reads to tell the accept thread still turns.
    #[must_use]
    pub fn liveness(&self) -> Arc<super::liveness::Liveness> {
        Arc::clone(&self.liveness)
    }

    /// Stop accepting and end every stream (each notices within 200 ms).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept thread with a connection of our own.
        let wake = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let woke = TcpStream::connect_timeout(
            &SocketAddr::new(wake, self.addr.port()),
            Duration::from_secs(1),
        );
        if let Some(t) = self.accept.take() {
            if woke.is_ok() {
                let _ = t.join();
            } else {
                tracing::warn!("http: could not wake the accept thread; leaving it");
            }
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One admitted connection; the count drops however its thread ends.
struct ConnectionSlot(Arc<StreamCounters>);

impl ConnectionSlot {
    fn take(counters: &Arc<StreamCounters>, max: u32) -> Option<Self> {
        counters
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(counters)))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The accept task's name in the status.
const ACCEPT_TASK: &str = "http accept";

/// Run the accept loop; should it panic or end before the server stops,
/// log and count it and run it again (after a short pause), on the same
/// listener and thread.
fn supervised_accept(listener: &TcpListener, ctx: &HttpContext, refuse: &SyncSender<TcpStream>) {
    let mut pause = Duration::from_millis(100);
    loop {
        ctx.supervisor.started(ACCEPT_TASK);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            accept_loop(listener, ctx, refuse);
        }));
        if ctx.stopping() {
            return;
        }
        let (how, reason) = match run {
            Ok(()) => (Ending::EarlyExit, String::new()),
            Err(payload) => (Ending::Panic, panic_message(payload.as_ref())),
        };
        if !ctx.supervisor.ended(ACCEPT_TASK, how, &reason, true) {
            return;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

fn accept_loop(listener: &TcpListener, ctx: &HttpContext, refuse: &SyncSender<TcpStream>) {
    let mut failures = 0u32;
    let mut refusal = Vec::new();
    let _ = Response::text(
        503,
        format!(
            "too many connections (max {}); try again shortly\n",
            ctx.limits.max_connections
        ),
    )
    .with_header("Retry-After", "2")
    .write_to(&mut refusal, false, false);
    let listener_addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    while !ctx.stopping() {
        let (socket, peer) = match listener.accept() {
            Ok(accepted) => {
                failures = 0;
                accepted
            }
            Err(e) => {
                // Out of file descriptors and the like: back off, do not spin.
                failures = failures.saturating_add(1);
                tracing::debug!("http: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(u64::from(failures.min(50)) * 10));
                continue;
            }
        };
        if ctx.stopping() {
            break;
        }
        assert!(
            !ctx.supervisor.take_fault(ACCEPT_TASK),
            "fault injected into {ACCEPT_TASK}"
        );
        if ctx.liveness.take_probe(peer, listener_addr) {
            continue;
        }
        let slot = ConnectionSlot::take(&ctx.counters, ctx.limits.max_connections)
            .or_else(|| make_room(ctx));
        let Some(slot) = slot else {
            ctx.counters
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            answer_refusal(&socket, &refusal);
            // The refusing thread waits for the client to finish before
            // closing; when it is busy, the socket closes now (its 503 is
            // already on its way).
            let _ = refuse.try_send(socket);
            continue;
        };
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("http-conn".into())
            .spawn(move || {
                let _slot = slot;
                connection::serve(socket, peer, &ctx);
            });
        if let Err(e) = spawned {
            tracing::warn!("http: cannot start a connection thread: {e}");
        }
    }
}

/// Every slot is taken: close the connection that has waited longest for
/// a request head, else the one blocked longest writing to a client that
/// does not read (if any has been so over 100 ms), and take its slot once
/// its thread has let go (within 200 ms).
fn make_room(ctx: &HttpContext) -> Option<ConnectionSlot> {
    let tally = match ctx.heads.evict_oldest()? {
        Evicted::Head => &ctx.counters.head_timeouts,
        Evicted::Writer => &ctx.counters.dropped_stalled,
    };
    tally.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_millis(200);
    while Instant::now() < deadline {
        if let Some(slot) = ConnectionSlot::take(&ctx.counters, ctx.limits.max_connections) {
            return Some(slot);
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    None
}

/// Answer a refused connection on the accept thread without ever waiting:
/// take what the client has sent so far (closing a socket with unread data
/// resets it, and the client could lose the answer), write the 503 (a few
/// hundred bytes: a new socket's send buffer always has room), and end our
/// side. A handful of system calls, so a burst of refusals costs no thread
/// and no memory, and each refused client gets its 503.
fn answer_refusal(socket: &TcpStream, refusal: &[u8]) {
    use std::io::{Read as _, Write as _};
    if socket.set_nonblocking(true).is_err() {
        return;
    }
    let mut reader = socket;
    let mut buf = [0u8; 4096];
    for _ in 0..16 {
        match reader.read(&mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = reader.write(refusal);
    let _ = socket.shutdown(std::net::Shutdown::Write);
    let _ = socket.set_nonblocking(false);
}

/// Closes refused connections (already answered) once the client is done
/// sending, one at a time, each within a budget.
fn refuse_loop(queue: &Receiver<TcpStream>) {
    while let Ok(mut socket) = queue.recv() {
        connection::linger(&mut socket, REFUSE_BUDGET);
    }
}
