//! A real `/stream` client over loopback, for the benchmark: reads the
//! multipart stream part by part (headers, `Content-Length` bytes) and
//! counts frames, bytes and the newest `X-Frame-Seq`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a reader has seen so far (read while it runs).
#[derive(Debug, Default)]
pub struct ReaderCounts {
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    pub last_seq: AtomicU64,
    /// CPU time of the reader thread in ns, set when it ends.
    pub cpu_ns: AtomicU64,
}

/// A running reader thread.
#[derive(Debug)]
pub struct StreamReader {
    pub counts: Arc<ReaderCounts>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl StreamReader {
    /// Connect to `addr` and read `/stream` until stopped.
    ///
    /// # Errors
    /// The connection or the request failed, or the answer is not a stream.
    pub fn start(addr: SocketAddr) -> io::Result<Self> {
        let mut socket = TcpStream::connect(addr)?;
        socket.set_read_timeout(Some(Duration::from_secs(2)))?;
        socket.write_all(b"GET /stream HTTP/1.1\r\nHost: bench\r\n\r\n")?;
        let mut reader = BufReader::with_capacity(256 * 1024, socket);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if !line.contains(" 200") {
            return Err(io::Error::other(format!(
                "/stream answered {}",
                line.trim()
            )));
        }
        skip_headers(&mut reader)?;
        let counts = Arc::new(ReaderCounts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (counts, stop) = (Arc::clone(&counts), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("bench-reader".into())
                .spawn(move || {
                    let result = read_parts(&mut reader, &counts, &stop);
                    let cpu = super::sys::thread_cpu_time().unwrap_or_default();
                    counts.cpu_ns.store(
                        u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX),
                        Ordering::Relaxed,
                    );
                    result
                })?
        };
        Ok(Self {
            counts,
            stop,
            thread: Some(thread),
        })
    }

    /// Stop and join; returns the reader thread's CPU time.
    pub fn stop(mut self) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(Err(e)) => tracing::debug!("stream reader: {e}"),
                Err(_) => tracing::warn!("stream reader panicked"),
                Ok(Ok(())) => {}
            }
        }
        Duration::from_nanos(self.counts.cpu_ns.load(Ordering::Relaxed))
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn skip_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(headers);
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
}

fn read_parts(
    reader: &mut BufReader<TcpStream>,
    counts: &ReaderCounts,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut body = Vec::new();
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        // Boundary line (possibly after an empty line).
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if !line.starts_with("--") {
            continue;
        }
        let headers = skip_headers(reader)?;
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let len = find("content-length")
            .ok_or_else(|| io::Error::other("part without Content-Length"))?;
        body.resize(usize::try_from(len).map_err(io::Error::other)?, 0);
        reader.read_exact(&mut body)?;
        counts.frames.fetch_add(1, Ordering::Relaxed);
        counts.bytes.fetch_add(len, Ordering::Relaxed);
        if let Some(seq) = find("x-frame-seq") {
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
    let mut socket = TcpStream::connect_timeout(&addr, timeout)?;
    socket.set_read_timeout(Some(timeout))?;
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    skip_headers(&mut reader)?;
    let mut body = Vec::new();
    reader.read_to_end(&mut body)?;
    Ok((status, body))
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
