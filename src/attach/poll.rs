//! The poller thread: `/status` every status period, `/snapshot` at the
//! preview rate, `/events` once a second, and `/controls` and `/modes`
//! with the status while the controls or modes view is open (at once when
//! it opens); backoff while the service does not answer.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::watch;

use super::client::{ClientError, Target};
use crate::backoff::Backoff;
use crate::events::EventLog;
use crate::frame::{Frame, FrameHub};
use crate::service::STATUS_PERIOD;
use crate::stats::Status;
use crate::tui::RemoteView;

/// How often the service's log lines are read.
const EVENTS_PERIOD: Duration = Duration::from_secs(1);
/// The stop flag is checked at least this often.
const STOP_CHECK: Duration = Duration::from_millis(50);

pub(super) struct Poller {
    pub target: Target,
    pub status: Arc<watch::Sender<Status>>,
    pub hub: Arc<FrameHub>,
    pub events: EventLog,
    pub remote: RemoteView,
    pub preview_fps: f64,
    pub stop: Arc<AtomicBool>,
}

#[derive(Deserialize)]
struct EventsBody {
    generation: u64,
    lines: Vec<EventLine>,
}

#[derive(Deserialize)]
struct EventLine {
    level: String,
    text: String,
}

/// What failed, shown in the panes.
fn why(e: &ClientError) -> String {
    match e {
        ClientError::Io(io) => io.kind().to_string(),
        other => other.to_string(),
    }
}

impl Poller {
    pub(super) fn run(self) {
        let mut backoff = Backoff::new(
            Duration::from_millis(500),
            Duration::from_secs(5),
            0.2,
            u64::from(std::process::id()),
        );
        let preview_period = Duration::from_secs_f64(1.0 / self.preview_fps.max(0.1));
        let mut next_status = Instant::now();
        let mut next_preview = Instant::now();
        let mut next_events = Instant::now();
        let mut events_seen: Option<u64> = None;
        let mut frame_seq = 0u64;
        let mut controls_shown = false;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            // The view just opened: read the controls now, not at the next status.
            let opened = !controls_shown && self.remote.controls_wanted();
            if opened && self.remote.down_since().is_none() {
                self.poll_controls();
            }
            controls_shown = self.remote.controls_wanted();
            if now >= next_status {
                match self.poll_status() {
                    Ok(()) => {
                        if backoff.failures() > 0 {
                            tracing::info!("{} answers again", self.target.url);
                        }
                        backoff.reset();
                        self.remote.reached();
                        if self.remote.controls_wanted() {
                            self.poll_controls();
                        }
                        next_status = now + STATUS_PERIOD;
                    }
                    Err(e) => {
                        let delay = backoff.next_delay();
                        let reason = why(&e);
                        if backoff.failures() == 1 {
                            tracing::warn!("{} does not answer: {reason}", self.target.url);
                        }
                        self.remote.failed(now, delay, &reason);
                        next_status = now + delay;
                    }
                }
            }
            let up = self.remote.down_since().is_none();
            if up && now >= next_preview {
                next_preview = now + preview_period;
                frame_seq += 1;
                self.poll_snapshot(frame_seq);
            }
            if up && now >= next_events {
                next_events = now + EVENTS_PERIOD;
                self.poll_events(&mut events_seen);
            }
            let next = next_status.min(if up {
                next_preview.min(next_events)
            } else {
                next_status
            });
            let wait = next
                .saturating_duration_since(Instant::now())
                .min(STOP_CHECK);
            std::thread::sleep(wait);
        }
    }

    fn poll_status(&self) -> Result<(), ClientError> {
        let reply = self.target.get("/status")?;
        if reply.status != 200 {
            return Err(ClientError::Protocol(match reply.status {
                401 => "401: give --http-token or --http-auth",
                _ => "/status did not answer 200",
            }));
        }
        let mut status: Status = serde_json::from_slice(&reply.body)
            .map_err(|_| ClientError::Protocol("/status is not a tars-camera status"))?;
        // Wake the UI only when something changed. `/status` has no
        // controls: keep the ones read from `/controls`.
        self.status.send_if_modified(|s| {
            status.controls.clone_from(&s.controls);
            status.modes.clone_from(&s.modes);
            let changed = *s != status;
            *s = status;
            changed
        });
        Ok(())
    }

    /// Read `/controls` and `/modes` into the status (each kept when it
    /// does not answer).
    fn poll_controls(&self) {
        if let Ok(controls) = super::keys::fetch_controls(&self.target) {
            self.status.send_if_modified(|s| {
                let changed = s.controls != controls;
                s.controls = controls;
                changed
            });
        }
        if let Ok(modes) = super::keys::fetch_modes(&self.target) {
            self.status.send_if_modified(|s| {
                let changed = s.modes != modes;
                s.modes = modes;
                changed
            });
        }
    }

    fn poll_snapshot(&self, local_seq: u64) {
        let Ok(reply) = self.target.get("/snapshot") else {
            return;
        };
        if reply.status != 200 {
            return;
        }
        let status = self.status.borrow();
        let seq = reply
            .header("X-Frame-Seq")
            .and_then(|s| s.parse().ok())
            .unwrap_or(local_seq);
        let frame = Frame {
            seq,
            jpeg: Bytes::from(reply.body),
            width: status.encoder.width,
            height: status.encoder.height,
            quality: Some(status.encoder.quality),
            captured_at: Instant::now(),
            captured_wall: SystemTime::now(),
            backend: "remote",
            consecutive_failures: 0,
        };
        drop(status);
        self.hub.publish(frame);
    }

    /// Copy the log lines logged since the last read into the Events pane.
    fn poll_events(&self, seen: &mut Option<u64>) {
        let Ok(reply) = self.target.get("/events") else {
            return;
        };
        let Ok(body) = serde_json::from_slice::<EventsBody>(&reply.body) else {
            return;
        };
        let new = match *seen {
            // A restarted service counts from zero again: take all it has.
            Some(g) if body.generation >= g => {
                usize::try_from(body.generation - g).unwrap_or(usize::MAX)
            }
            _ => body.lines.len(),
        };
        *seen = Some(body.generation);
        let skip = body.lines.len().saturating_sub(new);
        for line in body.lines.into_iter().skip(skip) {
            let level = tracing::Level::from_str(&line.level).unwrap_or(tracing::Level::INFO);
            self.events.push(level, line.text);
        }
    }
}
