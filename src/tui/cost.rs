//! What the UI costs: CPU share of one core and bytes written per second.
//!
//! Runs the real loop on its own thread (a current-thread runtime, so all UI
//! work — drawing, decoding the preview — is on that one thread and the
//! thread's CPU time is the UI's), drawing into a byte-counting sink through
//! the real crossterm backend with a fixed viewport. The bytes are what an SSH
//! session would carry.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::UiLink;
use super::event_loop::{LoopOptions, run_loop_with};
use super::preview::ColorMode;

/// The measured cost of the UI.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UiCost {
    /// CPU time of the UI thread over wall time, in percent of one core.
    pub cpu_percent_of_one_core: f64,
    /// Bytes written to the terminal per second.
    pub bytes_per_s: f64,
    /// Frames drawn.
    pub redraws: u64,
}

/// Run the UI against `link` for `duration` at `cols × rows` in true colour
/// (the costlier mode) and report its cost. Never sends commands: no input
/// reaches the loop. All zeros if the measurement thread fails.
pub async fn measure(link: UiLink, cols: u16, rows: u16, duration: Duration) -> UiCost {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("tui-cost".to_owned())
        .spawn(move || {
            let _ = tx.send(measure_here(link, cols, rows, duration));
        });
    if let Err(e) = spawned {
        tracing::warn!("UI cost: cannot start the thread: {e}");
        return UiCost::default();
    }
    match rx.await {
        Ok(Ok(cost)) => cost,
        Ok(Err(e)) => {
            tracing::warn!("UI cost measurement failed: {e}");
            UiCost::default()
        }
        Err(_) => UiCost::default(),
    }
}

fn measure_here(link: UiLink, cols: u16, rows: u16, duration: Duration) -> io::Result<UiCost> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let sink = CountingSink::default();
    let written = Arc::clone(&sink.bytes);
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
    };
    let mut terminal = Terminal::with_options(CrosstermBackend::new(sink), options)?;
    let draws = Arc::new(AtomicU64::new(0));
    let loop_options = LoopOptions {
        color: ColorMode::TrueColor,
        draws: Some(Arc::clone(&draws)),
        stop: None,
    };
    let cpu_start = thread_cpu_time()?;
    let wall_start = Instant::now();
    runtime.block_on(async {
        let input = futures_util::stream::pending();
        tokio::time::timeout(
            duration,
            run_loop_with(&mut terminal, link, input, loop_options),
        )
        .await
        .unwrap_or(Ok(()))
    })?;
    let wall = wall_start.elapsed().as_secs_f64().max(1e-9);
    let cpu = thread_cpu_time()?.saturating_sub(cpu_start).as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
    let bytes = written.load(Ordering::Relaxed) as f64;
    Ok(UiCost {
        cpu_percent_of_one_core: 100.0 * cpu / wall,
        bytes_per_s: bytes / wall,
        redraws: draws.load(Ordering::Relaxed),
    })
}

/// Counts what the backend writes, keeps nothing.
#[derive(Debug, Default)]
struct CountingSink {
    bytes: Arc<AtomicU64>,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// CPU time of the calling thread: `schedstat` (nanoseconds), else `stat`
/// (utime + stime in clock ticks of 1/100 s, the Linux USER_HZ).
pub fn thread_cpu_time() -> io::Result<Duration> {
    if let Ok(text) = std::fs::read_to_string("/proc/thread-self/schedstat")
        && let Some(ns) = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
    {
        return Ok(Duration::from_nanos(ns));
    }
    let text = std::fs::read_to_string("/proc/thread-self/stat")?;
    parse_stat_cpu(&text).ok_or_else(|| io::Error::other("unreadable /proc/thread-self/stat"))
}

/// utime + stime from a `/proc/*/stat` line (fields 14 and 15; the command
/// name in parentheses may contain spaces).
fn parse_stat_cpu(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_even_with_spaces_in_the_name() {
        let stat = "1234 (tui cost) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_stat_cpu(stat), Some(Duration::from_millis(3000)));
        assert_eq!(parse_stat_cpu("garbage"), None);
    }

    #[test]
    fn thread_cpu_time_grows_with_work() {
        let start = thread_cpu_time().expect("cpu time");
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time().expect("cpu time") > start);
    }
}
