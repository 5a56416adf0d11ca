//! The `--no-tui` runner: logs to stderr, a status line every
//! `--status-interval` (10 s), and a clean stop on SIGINT/SIGTERM (or a
//! `Quit` command) within 2 s.

use std::time::Duration;

use crate::service::Service;
use crate::signals::Termination;
use crate::stats::Status;

/// One line that says how the service is doing.
#[must_use]
pub fn status_line(s: &Status) -> String {
    let c = &s.capture;
    let mut line = format!(
        "capture {}x{} {:.1}/{} fps, {} KB q{}, failures {}/{}; stream {} client(s) {:.1} fps; mqtt {:?} published {} dropped {}",
        c.width,
        c.height,
        c.measured_fps,
        crate::stats::fps_text(c.target_fps),
        s.encoder.jpeg_bytes / 1024,
        s.encoder.quality,
        c.consecutive_failures,
        c.total_failures,
        s.stream.clients,
        s.stream.frames_per_s,
        s.mqtt.client.state,
        s.mqtt.frames_published,
        s.mqtt.client.dropped,
    );
    if let Some(e) = c.last_error.as_ref().filter(|_| c.consecutive_failures > 0) {
        line.push_str(&format!("; last error: {e}"));
    }
    line
}

/// Run until a signal (caught by `signals` since before the service
/// started) or a quit command, then shut down.
///
/// # Errors
/// A task of the service that cannot be restarted failed (so the process
/// exits non-zero).
pub async fn run(service: Service, mut signals: Termination) -> std::io::Result<()> {
    let period = service.config.status_interval;
    // Zero turns the line off: a tick that never comes.
    let every = if period.is_zero() {
        Duration::from_secs(86_400 * 365)
    } else {
        period
    };
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            signal = signals.recv() => {
                tracing::info!("{signal}: stopping");
                break;
            }
            () = service.quit_requested() => break,
            _ = tick.tick() => {
                let line = status_line(&service.status.borrow());
                tracing::info!("{line}");
            }
        }
    }
    let failure = service.failure();
    service.shutdown().await;
    match failure {
        Some(why) => Err(std::io::Error::other(why)),
        None => Ok(()),
    }
}
