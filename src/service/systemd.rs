//! Tells systemd how the service is doing (when `NOTIFY_SOCKET` is set):
//! `READY=1` once HTTP listens and the first frame or the first camera
//! error is in, `STATUS=` every few seconds, `WATCHDOG=1` every half
//! `WATCHDOG_USEC` while both the capture loop and the HTTP accept thread
//! make progress, `STOPPING=1` on shutdown. Runs on a thread of its own, so
//! a stalled async runtime cannot ping on behalf of a hung part either.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::capture::thread::{CameraHealth, CaptureShared};
use crate::http::liveness::Liveness;
use crate::stats::Status;
use crate::systemd::Notifier;

/// How often `STATUS=` is sent.
pub const STATUS_EVERY: Duration = Duration::from_secs(3);
/// How often the thread wakes to look.
const TICK: Duration = Duration::from_millis(50);

/// What the thread watches.
pub(super) struct Watched {
    pub(super) capture: Arc<CaptureShared>,
    pub(super) health: watch::Receiver<CameraHealth>,
    pub(super) status: watch::Receiver<Status>,
    pub(super) liveness: Arc<Liveness>,
    pub(super) http_addr: SocketAddr,
}

impl Watched {
    /// The capture thread, the status and the HTTP server of a service.
    pub(super) fn of(
        capture: &Arc<CaptureShared>,
        status: watch::Receiver<Status>,
        http: &crate::http::HttpServer,
    ) -> Self {
        Self {
            capture: Arc::clone(capture),
            health: capture.health(),
            status,
            liveness: http.liveness(),
            http_addr: http.local_addr(),
        }
    }
}

/// The running notifier; `stop` sends `STOPPING=1`.
#[derive(Debug)]
pub(super) struct Systemd {
    notifier: Arc<Notifier>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Systemd {
    /// Start when `NOTIFY_SOCKET` is set; `None` otherwise (or when the
    /// variable is unusable: logged).
    pub(super) fn start(watched: Watched) -> Option<Self> {
        let notifier = match Notifier::from_env() {
            Ok(Some(n)) => Arc::new(n),
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!("systemd: {e}");
                return None;
            }
        };
        let watchdog = crate::systemd::watchdog_from_env();
        if let Some(w) = watchdog {
            tracing::info!(
                "systemd: watchdog every {:.2} s (half of {:.2} s)",
                w.as_secs_f64() / 2.0,
                w.as_secs_f64()
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let notifier = Arc::clone(&notifier);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("systemd-notify".into())
                .spawn(move || run(&notifier, &watched, watchdog.map(|w| w / 2), &stop))
        };
        let thread = thread
            .map_err(|e| tracing::warn!("systemd: cannot start the notify thread: {e}"))
            .ok()?;
        Some(Self {
            notifier,
            stop,
            thread: Some(thread),
        })
    }

    /// Say `STOPPING=1` and end the thread.
    pub(super) fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        send(&self.notifier, "STOPPING=1");
    }
}

fn send(notifier: &Notifier, message: &str) {
    if let Err(e) = notifier.send(message) {
        tracing::debug!("systemd: {e}");
    }
}

/// The `STATUS=` line.
#[must_use]
pub fn status_text(s: &Status) -> String {
    let mut text = format!(
        "STATUS={:.1} fps, {} stream client(s), mqtt {:?}",
        s.capture.measured_fps, s.stream.clients, s.mqtt.client.state
    );
    if s.capture.consecutive_failures > 0 {
        text.push_str(&format!(
            ", camera failing ({} in a row)",
            s.capture.consecutive_failures
        ));
    }
    text
}

/// Progress of both parts at the last watchdog look.
struct Progress {
    capture: u64,
    accepted: u64,
}

impl Progress {
    fn read(w: &Watched) -> Self {
        Self {
            capture: w.capture.progress(),
            accepted: w.liveness.accepted(),
        }
    }

    /// Probe the HTTP server for the next look.
    fn probe(w: &Watched) {
        if let Err(e) = w.liveness.probe(w.http_addr) {
            tracing::debug!("systemd: HTTP probe: {e}");
        }
    }
}

fn run(notifier: &Notifier, w: &Watched, ping_every: Option<Duration>, stop: &AtomicBool) {
    let mut ready = false;
    let mut next_status = Instant::now() + STATUS_EVERY;
    let mut next_ping = ping_every.map(|p| Instant::now() + p);
    let mut last = Progress::read(w);
    Progress::probe(w);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        let now = Instant::now();
        if !ready && *w.health.borrow() != CameraHealth::Starting {
            ready = true;
            let status = status_text(&w.status.borrow());
            send(notifier, &format!("READY=1\n{status}"));
            tracing::info!("systemd: ready");
        }
        if ready && now >= next_status {
            next_status = now + STATUS_EVERY;
            send(notifier, &status_text(&w.status.borrow()));
        }
        if let Some(every) = ping_every.filter(|_| next_ping.is_some_and(|at| now >= at)) {
            next_ping = Some(now + every);
            let seen = Progress::read(w);
            let capture_moved = seen.capture != last.capture;
            let http_moved = seen.accepted != last.accepted;
            if capture_moved && http_moved {
                send(notifier, "WATCHDOG=1");
            } else {
                tracing::warn!(
                    "systemd: no watchdog ping: capture {}, HTTP {}",
                    if capture_moved { "turns" } else { "stuck" },
                    if http_moved { "accepts" } else { "stuck" }
                );
            }
            last = seen;
            Progress::probe(w);
        }
    }
}
