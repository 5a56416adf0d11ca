//! The terminal UI: live panes, a half-block preview, keys that tune the
//! running service.
//!
//! It reads status snapshots (a `watch`) and the frame hub, and sends
//! [`Command`]s; it never touches the camera or a socket, so the same UI
//! draws a service in another process (`tars-camera attach`, through
//! `/status` and `POST /control`: see [`crate::attach`]). It never blocks
//! the service: commands go with `try_send`, the preview decodes on this task
//! at `--preview-fps` only.
//!
//! - [`state`]: state and input handling; [`event_loop`]: the `select!` loop.
//! - [`panes`]: one module per pane (drawing and keys); [`layout`], [`help`].
//! - [`halfblock`]: JPEG → half-block cells, [`color`] for the terminal;
//!   [`units`]: how numbers read in the panes. The Events pane's lines come
//!   from [`crate::events`].

use std::io::{self, BufWriter, Stdout, Write};
use std::panic::PanicHookInfo;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{Event, EventStream};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::Stream;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};

use crate::control::Command;
use crate::frame::FrameHub;
use crate::stats::Status;

pub mod color;
pub mod event_loop;
pub mod halfblock;
pub mod help;
pub mod layout;
pub mod panes;
pub mod remote;
pub mod state;
pub mod units;

pub use color::ColorMode;
pub use remote::RemoteView;
pub use state::{App, Refresh};

/// What the UI needs from the running service.
#[derive(Debug)]
pub struct UiLink {
    /// Status snapshots; the service refreshes them ~4 times a second.
    pub status: tokio::sync::watch::Receiver<Status>,
    pub frames: Arc<FrameHub>,
    /// The service's command channel (bounded).
    pub commands: tokio::sync::mpsc::Sender<Command>,
    /// Preview decodes per second at most (`--preview-fps`, default 4).
    pub preview_fps: f64,
    /// Recent log lines for the Events pane.
    pub events: crate::events::EventLog,
    /// The service's JPEG codec, which also decodes the preview.
    pub codec: crate::encode::Codec,
}

/// Take over the terminal (alternate screen, raw mode, a panic hook that
/// restores it before the panic report prints), run the UI until quit, and
/// restore the terminal on quit and on error.
///
/// After a panic anywhere in the process the screen belongs to the panic
/// report: the UI writes nothing more and its loop ends with an error.
pub async fn run_terminal(link: UiLink) -> io::Result<()> {
    run_terminal_with(link, None).await
}

/// As [`run_terminal`], attached to the service at `remote` (another process).
pub async fn run_terminal_attached(link: UiLink, remote: RemoteView) -> io::Result<()> {
    run_terminal_with(link, Some(remote)).await
}

async fn run_terminal_with(link: UiLink, remote: Option<RemoteView>) -> io::Result<()> {
    let guard = TerminalGuard::enter()?;
    let out = GatedStdout {
        released: Arc::clone(&guard.released),
    };
    let backend = CrosstermBackend::new(BufWriter::with_capacity(64 * 1024, out));
    let options = event_loop::LoopOptions {
        color: ColorMode::detect(),
        draws: None,
        stop: Some(Arc::clone(&guard.released)),
        remote,
    };
    let result = async {
        let mut terminal = Terminal::new(backend)?;
        terminal.clear()?;
        event_loop::run_loop_with(&mut terminal, link, EventStream::new(), options).await
    }
    .await;
    let restored = guard.leave();
    result.and(restored)
}

/// The UI loop, generic over the backend and the input stream so tests can
/// drive it. Sends [`Command::Quit`] and returns on `q`, `Esc` or `Ctrl-C`,
/// or when the input ends.
pub async fn run_loop<B, S>(terminal: &mut Terminal<B>, link: UiLink, input: S) -> io::Result<()>
where
    B: Backend,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    run_loop_on(terminal, link, input, None).await
}

/// As [`run_loop`], attached to the service at `remote`: the title names it,
/// and quitting leaves it running.
pub async fn run_loop_attached<B, S>(
    terminal: &mut Terminal<B>,
    link: UiLink,
    input: S,
    remote: RemoteView,
) -> io::Result<()>
where
    B: Backend,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    run_loop_on(terminal, link, input, Some(remote)).await
}

async fn run_loop_on<B, S>(
    terminal: &mut Terminal<B>,
    link: UiLink,
    input: S,
    remote: Option<RemoteView>,
) -> io::Result<()>
where
    B: Backend,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let options = event_loop::LoopOptions {
        color: ColorMode::detect(),
        draws: None,
        stop: None,
        remote,
    };
    event_loop::run_loop_with(terminal, link, input, options).await
}

type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Raw mode and the alternate screen while alive; restores them on drop and
/// from the panic hook.
struct TerminalGuard {
    previous_hook: Option<Arc<PanicHook>>,
    /// Set by whoever restores the terminal first (the panic hook or the
    /// guard): restoring twice would jump the cursor back up the screen, and
    /// the UI must not write after it.
    released: Arc<AtomicBool>,
}

impl TerminalGuard {
    fn enter() -> io::Result<Self> {
        let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
        let chained = Arc::clone(&previous);
        let released = Arc::new(AtomicBool::new(false));
        let gate = Arc::clone(&released);
        std::panic::set_hook(Box::new(move |info| {
            // Restore first, so the report prints on a sane screen.
            let _ = release(&gate);
            chained(info);
        }));
        let guard = Self {
            previous_hook: Some(previous),
            released,
        };
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        Ok(guard)
    }

    fn leave(mut self) -> io::Result<()> {
        let result = release(&self.released);
        self.reinstate_hook();
        result
    }

    fn reinstate_hook(&mut self) {
        // `set_hook` panics on a panicking thread; the chained hook stays then.
        if let Some(previous) = self.previous_hook.take()
            && !std::thread::panicking()
        {
            drop(std::panic::take_hook());
            std::panic::set_hook(Box::new(move |info| previous(info)));
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if self.previous_hook.is_some() {
            let _ = release(&self.released);
            self.reinstate_hook();
        }
    }
}

/// Restore the terminal unless it was already.
fn release(released: &AtomicBool) -> io::Result<()> {
    if released.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    restore_terminal(&mut io::stdout())
}

/// Stdout until the terminal is released; then writes are dropped.
struct GatedStdout {
    released: Arc<AtomicBool>,
}

impl Write for GatedStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.released.load(Ordering::SeqCst) {
            return Ok(buf.len());
        }
        io::stdout().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.released.load(Ordering::SeqCst) {
            return Ok(());
        }
        io::stdout().flush()
    }
}

/// Leave the alternate screen, show the cursor, end raw mode; tries all three.
fn restore_terminal(out: &mut Stdout) -> io::Result<()> {
    let screen = execute!(out, LeaveAlternateScreen, Show);
    let raw = disable_raw_mode();
    let _ = out.flush();
    screen.and(raw)
}
