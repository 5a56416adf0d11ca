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

use super::sys::thread_cpu_time;
use crate::tui::UiLink;
use crate::tui::event_loop::{LoopOptions, run_loop_with};
use crate::tui::halfblock::ColorMode;

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
        remote: None,
    };
    let cpu_start = thread_cpu_time();
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
    let cpu = thread_cpu_time().saturating_sub(cpu_start).as_secs_f64();
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
