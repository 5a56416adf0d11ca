//! A real `/stream` client over loopback on a thread of its own, for the
//! benchmark: counts frames, bytes and the newest `X-Frame-Seq`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::stream_client::{self, StreamClient, header};

pub(super) mod workers;
use workers::Workers;

/// What a reader has seen so far (read while it runs).
#[derive(Debug, Default)]
pub struct ReaderCounts {
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    pub last_seq: AtomicU64,
    /// CPU time of the reader thread so far in ns (after each part, and
    /// when it ends): the client's share, which is not the service's.
    pub cpu_ns: AtomicU64,
}

impl ReaderCounts {
    /// Store the calling (reader) thread's CPU time.
    fn note_cpu(&self) {
        let cpu = super::sys::thread_cpu_time();
        self.cpu_ns.store(
            u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The reader thread's CPU time as last stored.
    #[must_use]
    pub fn cpu(&self) -> Duration {
        Duration::from_nanos(self.cpu_ns.load(Ordering::Relaxed))
    }
}

/// A running reader thread.
#[derive(Debug)]
pub struct StreamReader {
    pub counts: Arc<ReaderCounts>,
    reader: Workers<io::Result<()>>,
}

impl StreamReader {
    /// Connect to `addr` and read `/stream` until stopped.
    ///
    /// # Errors
    /// The connection or the request failed, or the answer is not a stream.
    pub fn start(addr: SocketAddr) -> io::Result<Self> {
        let mut client = StreamClient::connect(addr, "", Duration::from_secs(2))?;
        if client.status != 200 {
            return Err(io::Error::other(format!(
                "/stream answered {}",
                client.status
            )));
        }
        let counts = Arc::new(ReaderCounts::default());
        let mut reader = Workers::new();
        let thread_counts = Arc::clone(&counts);
        reader.spawn("bench-reader", move |stop| {
            let result = read_parts(&mut client, &thread_counts, stop);
            thread_counts.note_cpu();
            result
        })?;
        Ok(Self { counts, reader })
    }

    /// Stop and join; returns the reader thread's CPU time.
    pub fn stop(mut self) -> Duration {
        for result in self.reader.stop() {
            match result {
                Ok(Err(e)) => tracing::debug!("stream reader: {e}"),
                Err(_) => tracing::warn!("stream reader panicked"),
                Ok(Ok(())) => {}
            }
        }
        self.counts.cpu()
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        self.reader.signal();
    }
}

fn read_parts(
    client: &mut StreamClient,
    counts: &ReaderCounts,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut body = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let headers = match client.next_part_into(&mut body) {
            Ok(h) => h,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        counts.frames.fetch_add(1, Ordering::Relaxed);
        counts.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        counts.note_cpu();
        if let Some(seq) = header(&headers, "X-Frame-Seq").and_then(|v| v.parse().ok()) {
            counts.last_seq.store(seq, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// `GET path` over a fresh connection: status code and body.
///
/// # Errors
/// Connection or protocol failure.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<(u16, Vec<u8>)> {
    stream_client::get(addr, path, "", timeout).map(|r| (r.status, r.body))
}
/// Wait until `/snapshot` answers 200 (a first frame exists), polling every
/// 2 ms; the time it took, or `None` after `timeout`.
#[must_use]
pub fn wait_first_frame(addr: SocketAddr, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok((200, _)) = get(addr, "/snapshot", Duration::from_millis(500)) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}
