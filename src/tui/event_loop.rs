//! The loop: one `select!` over terminal input, a tick and status snapshots;
//! redraws on change, at most every [`MIN_REDRAW`]. Time is tokio's, so tests
//! can run the loop on a paused clock.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossterm::event::Event;
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::UiLink;
use super::halfblock::ColorMode;
use super::state::{App, Refresh};
use crate::control::Command;
use crate::stats::Status;

/// Countdowns, the preview cadence and deferred redraws run on this tick.
pub const TICK: Duration = Duration::from_millis(100);
/// At most 10 redraws a second, however fast things change.
pub const MIN_REDRAW: Duration = Duration::from_millis(100);
/// On quit, how long to wait for room on a full command channel.
pub const QUIT_SEND_TIMEOUT: Duration = Duration::from_millis(500);

/// Knobs the public `run_loop` fixes and the cost measurement sets.
#[derive(Debug, Clone)]
pub(crate) struct LoopOptions {
    pub color: ColorMode,
    /// Counts redraws.
    pub draws: Option<Arc<AtomicU64>>,
    /// Set when the terminal was taken back (a panic): end with an error.
    pub stop: Option<Arc<AtomicBool>>,
    /// Attached to a service in another process.
    pub remote: Option<super::remote::RemoteView>,
}

fn backend_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// See [`super::run_loop`].
/// The UI's state from its link, and the status and command channels the
/// loop keeps.
fn app_for(
    link: UiLink,
    options: &LoopOptions,
) -> (App, watch::Receiver<Status>, mpsc::Sender<Command>) {
    let UiLink {
        mut status,
        frames,
        commands,
        preview_fps,
        events,
        codec,
    } = link;
    let first = status.borrow_and_update().clone();
    let mut app = App::new(
        first,
        frames,
        commands.clone(),
        preview_fps,
        events,
        options.color,
    )
    .with_preview_codec(&codec);
    if let Some(remote) = options.remote.clone() {
        app.attach(remote);
    }
    (app, status, commands)
}

pub(crate) async fn run_loop_with<B, S>(
    terminal: &mut Terminal<B>,
    link: UiLink,
    mut input: S,
    options: LoopOptions,
) -> io::Result<()>
where
    B: Backend,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let (mut app, mut status, commands) = app_for(link, &options);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut status_open = true;
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    loop {
        if options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::SeqCst))
        {
            return Err(io::Error::other("terminal restored after a panic"));
        }
        let now = Instant::now();
        if dirty && last_draw.is_none_or(|t| now.saturating_duration_since(t) >= MIN_REDRAW) {
            terminal
                .draw(|f| app.draw(f, now.into_std()))
                .map_err(backend_error)?;
            if let Some(d) = &options.draws {
                d.fetch_add(1, Ordering::Relaxed);
            }
            dirty = false;
            last_draw = Some(now);
        }
        let refresh = tokio::select! {
            event = input.next() => match event {
                Some(Ok(event)) => app.on_event(&event, Instant::now().into_std()),
                Some(Err(e)) => return Err(e),
                // The terminal is gone: same as quitting.
                None => Refresh::Quit,
            },
            _ = tick.tick() => app.on_tick(Instant::now().into_std()),
            changed = status.changed(), if status_open => match changed {
                Ok(()) => {
                    let snapshot = status.borrow_and_update().clone();
                    app.on_status(snapshot, Instant::now().into_std())
                }
                Err(_) => {
                    status_open = false;
                    app.on_status_closed(Instant::now().into_std())
                }
            },
        };
        match refresh {
            Refresh::Redraw => dirty = true,
            Refresh::Skip => {}
            Refresh::Quit => {
                // Quitting may wait a moment for room; everything else uses try_send.
                let _ = tokio::time::timeout(QUIT_SEND_TIMEOUT, commands.send(Command::Quit)).await;
                return Ok(());
            }
        }
    }
}
