//! The load of the `chaos` section: `/stream` clients that come and go at
//! random, clients that stall, and a prober that records the service's MQTT
//! connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::reader::workers::Workers;

/// What the clients saw, summed over all of them.
#[derive(Debug, Default)]
pub struct LoadCounts {
    pub sessions: AtomicU64,
    pub refused: AtomicU64,
    pub failed: AtomicU64,
    pub bytes: AtomicU64,
    pub stalls: AtomicU64,
}

/// Milliseconds since the Unix epoch, now.
#[must_use]
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn until_stopped(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn open_stream(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
    Ok(s)
}

/// One viewer: connects, reads for 0.3 to 4 s, leaves, waits up to 0.5 s, again.
fn viewer(addr: SocketAddr, seed: u64, counts: &LoadCounts, stop: &AtomicBool) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = open_stream(addr) else {
            counts.failed.fetch_add(1, Ordering::Relaxed);
            until_stopped(stop, Duration::from_millis(200));
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let stay = Duration::from_millis(rng.u64(300..4000));
        let started = Instant::now();
        let mut first = true;
        while started.elapsed() < stay && !stop.load(Ordering::Relaxed) {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => {
                    counts.failed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(n) => {
                    if first {
                        first = false;
                        let refused = buf[..n].starts_with(b"HTTP/1.1 503");
                        let counter = if refused {
                            &counts.refused
                        } else {
                            &counts.sessions
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        if refused {
                            break;
                        }
                    }
                    counts.bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
        drop(s);
        until_stopped(stop, Duration::from_millis(rng.u64(0..500)));
    }
}

/// One stalled client: asks for the stream, never reads, gives up after `hold`.
fn staller(addr: SocketAddr, hold: Duration, counts: &LoadCounts, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match open_stream(addr) {
            Ok(s) => {
                counts.stalls.fetch_add(1, Ordering::Relaxed);
                until_stopped(stop, hold);
                drop(s);
            }
            Err(_) => until_stopped(stop, Duration::from_millis(200)),
        }
    }
}

/// The client threads.
#[derive(Debug)]
pub struct Load {
    pub counts: Arc<LoadCounts>,
    clients: Workers<()>,
}

impl Load {
    /// `viewers` coming and going, `stalled` holding a stream for `hold` each time.
    ///
    /// # Errors
    /// A thread could not start.
    pub fn start(
        addr: SocketAddr,
        viewers: usize,
        stalled: usize,
        hold: Duration,
    ) -> std::io::Result<Self> {
        let counts = Arc::new(LoadCounts::default());
        let mut clients = Workers::new();
        for i in 0..viewers + stalled {
            let counts = Arc::clone(&counts);
            clients.spawn("chaos-client", move |stop| {
                if i < viewers {
                    viewer(addr, 0x7a25 + i as u64, &counts, stop);
                } else {
                    staller(addr, hold, &counts, stop);
                }
            })?;
        }
        Ok(Self { counts, clients })
    }

    pub fn stop(mut self) {
        self.clients.stop();
    }
}

/// Polls `/status` and keeps the start (unix ms) of every MQTT connection
/// the service made.
#[derive(Debug)]
pub struct ConnectionProbe {
    pub connected_since: Arc<Mutex<Vec<u64>>>,
    poller: Workers<()>,
}

impl ConnectionProbe {
    /// # Errors
    /// The thread could not start.
    pub fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let connected_since = Arc::new(Mutex::new(Vec::new()));
        let since = Arc::clone(&connected_since);
        let mut poller = Workers::new();
        poller.spawn("chaos-probe", move |stop| {
            while !stop.load(Ordering::Relaxed) {
                if let Some(ms) = connected_since_ms(addr) {
                    let mut v = since.lock().unwrap_or_else(PoisonError::into_inner);
                    if v.last() != Some(&ms) {
                        v.push(ms);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })?;
        Ok(Self {
            connected_since,
            poller,
        })
    }

    /// Stop; the connection starts seen, in order.
    #[must_use]
    pub fn stop(mut self) -> Vec<u64> {
        self.poller.stop();
        self.connected_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// When the service's current MQTT connection began, if it is connected.
fn connected_since_ms(addr: SocketAddr) -> Option<u64> {
    let v = status(addr)?;
    (v["mqtt"]["state"].as_str()? == "connected")
        .then(|| v["mqtt"]["since_unix_ms"].as_u64())
        .flatten()
}

/// The service's `/status`.
#[must_use]
pub fn status(addr: SocketAddr) -> Option<serde_json::Value> {
    let (code, body) = super::reader::get(addr, "/status", Duration::from_secs(2)).ok()?;
    (code == 200)
        .then(|| serde_json::from_slice(&body).ok())
        .flatten()
}
