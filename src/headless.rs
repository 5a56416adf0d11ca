//! The `--no-tui` runner: logs to stderr, a status line every 10 s, and a
//! clean stop on SIGINT/SIGTERM (or a `Quit` command) within 2 s.

use std::time::Duration;

use crate::service::Service;
use crate::stats::Status;

/// How often the status line is logged.
pub const STATUS_LINE_PERIOD: Duration = Duration::from_secs(10);

/// One line that says how the service is doing.
#[must_use]
pub fn status_line(s: &Status) -> String {
    let c = &s.capture;
    let mut line = format!(
        "capture {}x{} {:.1}/{:.0} fps, {} KB q{}, failures {}/{}; stream {} client(s) {:.1} fps; mqtt {:?} published {} dropped {}",
        c.width,
        c.height,
        c.measured_fps,
        c.target_fps,
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

/// Run until a signal or a quit command, then shut down.
///
/// # Errors
/// The signal handlers could not be installed.
pub async fn run(service: Service) -> std::io::Result<()> {
    let stop = crate::signals::termination();
    tokio::pin!(stop);
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + STATUS_LINE_PERIOD,
        STATUS_LINE_PERIOD,
    );
    loop {
        tokio::select! {
            signal = &mut stop => {
                tracing::info!("{}: stopping", signal?);
                break;
            }
            () = service.quit_requested() => break,
            _ = tick.tick() => {
                let line = status_line(&service.status.borrow());
                tracing::info!("{line}");
            }
        }
    }
    service.shutdown().await;
    Ok(())
}
