//! The capture thread: paces the source, survives its failures, and hands
//! pictures to the encode pool, which transforms, encodes and publishes them
//! to the frame hub in capture order.
//!
//! It never waits on a consumer (publishing is a pointer swap in the hub) nor
//! on an encode worker (a newer picture replaces one still pending).
//! A failing source is re-opened with backoff (0.5 s doubling to 10 s), so a
//! missing camera costs almost nothing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::encode_pool::{EncodePool, Job, Picture, default_workers};
use super::{CaptureError, FrameSource, SourceInfo};
use crate::backoff::Backoff;
use crate::capture::controls::ControlValue;
use crate::encode::JpegChecker;
use crate::frame::FrameHub;

mod controls;
mod modes;
mod shared;
mod sink;
mod submit;

use sink::HubSink;

pub use shared::{CameraHealth, CaptureSettings, CaptureShared, ERROR_THRESHOLD, REOPEN_AFTER};

/// The capture thread's name (what `top -H` and the benchmark see).
pub const THREAD_NAME: &str = "capture";

/// Start the capture thread.
///
/// # Errors
/// The OS refused to start a thread.
pub fn spawn(
    source: Box<dyn FrameSource>,
    settings: CaptureSettings,
    hub: Arc<FrameHub>,
    shared: Arc<CaptureShared>,
) -> std::io::Result<JoinHandle<()>> {
    shared.set_live(settings.target_fps, settings.transform);
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || Capture::new(source, settings, hub, shared).run())
}

/// As good as never: how long to wait before opening a finished source.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// When to try opening the source again after `e`: after the backoff, or
/// never for a recording that has finished (the loop keeps turning, for
/// the watchdog, until the service stops).
fn retry_after(e: &CaptureError, backoff: &mut Backoff) -> Instant {
    if matches!(e, CaptureError::Finished(_)) {
        tracing::info!("source {e}; the service stays up");
        let now = Instant::now();
        return now.checked_add(NEVER).unwrap_or(now + NEVER / 1000);
    }
    let wait = backoff.next_delay();
    tracing::warn!("{e}; retrying in {:.1} s", wait.as_secs_f64());
    Instant::now() + wait
}

/// Wait for the next frame's turn on a source that draws on demand, and
/// set the turn after it; false if asked to stop meanwhile.
fn pace(next_due: &mut Instant, period: Duration, shared: &CaptureShared) -> bool {
    if !sleep_until(*next_due, shared) {
        return false;
    }
    let now = Instant::now();
    *next_due += period;
    if *next_due + period < now {
        *next_due = now; // fell far behind (machine stalled): don't burst
    }
    true
}

/// Sleep until `deadline` in short slices; false if asked to stop meanwhile.
fn sleep_until(deadline: Instant, shared: &CaptureShared) -> bool {
    loop {
        shared.tick();
        if shared.stopping() {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}

struct Capture {
    source: Box<dyn FrameSource>,
    /// Controls asked for so far (configuration, then every change made):
    /// set again at every open.
    desired: Vec<(String, ControlValue)>,
    /// When the source's controls were last read.
    controls_read: Instant,
    /// Decodes each camera JPEG served as it is (with libjpeg-turbo only).
    checker: Option<JpegChecker>,
    settings: CaptureSettings,
    shared: Arc<CaptureShared>,
    hub: Arc<FrameHub>,
    pool: EncodePool<HubSink>,
}

impl Capture {
    fn new(
        source: Box<dyn FrameSource>,
        settings: CaptureSettings,
        hub: Arc<FrameHub>,
        shared: Arc<CaptureShared>,
    ) -> Self {
        let sink = HubSink {
            hub: Arc::clone(&hub),
            shared: Arc::clone(&shared),
            seq: 0,
        };
        let pool = EncodePool::new(default_workers(), settings.codec.clone(), sink);
        Self {
            source,
            desired: settings.controls.clone(),
            controls_read: Instant::now(),
            checker: JpegChecker::new(settings.codec.library().cloned()),
            settings,
            shared,
            hub,
            pool,
        }
    }

    fn run(mut self) {
        self.shared.set_desired_controls(&self.desired);
        // No jitter: one camera, nobody to collide with.
        let mut backoff = Backoff::new(self.settings.reopen_min, self.settings.reopen_max, 0.0, 0);
        let mut retry_at = Instant::now();
        let mut opened: Option<SourceInfo> = None;
        let mut ever_opened = false;
        let mut next_due = Instant::now();
        while !self.shared.stopping() {
            self.shared.tick();
            self.tend_controls(opened.is_some());
            if self.tend_modes(&mut opened) {
                next_due = Instant::now();
            }
            let period = Duration::from_secs_f64(1.0 / self.settings.target_fps.max(0.001));
            let Some(info) = opened.as_ref() else {
                if !self.wait_to_reopen(retry_at) {
                    break;
                }
                match self.open_source(ever_opened) {
                    Ok(info) => {
                        ever_opened = true;
                        opened = Some(info);
                        next_due = Instant::now();
                    }
                    Err(e) => retry_at = retry_after(&e, &mut backoff),
                }
                continue;
            };
            let self_paced = info.self_paced;
            if !self_paced && !pace(&mut next_due, period, &self.shared) {
                break;
            }
            let read_started = Instant::now();
            let mut buffer = self.pool.buffer();
            let result = self.source.next_frame(&mut buffer);
            if result.is_ok() {
                self.shared.captured.fetch_add(1, Ordering::Relaxed);
            }
            // A camera's read blocks until its frame arrives: the picture
            // exists from the return, not from the wait. A drawn source's
            // picture begins when drawing starts.
            let started = if self_paced {
                Instant::now()
            } else {
                read_started
            };
            if !self_paced && result.is_ok() && !self.hold_until_room() {
                break;
            }
            if self_paced && result.is_ok() {
                // The camera sets the pace; drop frames that come faster than asked.
                if started + period / 10 < next_due {
                    self.pool.recycle(buffer);
                    continue;
                }
                next_due = (next_due + period).max(started + period / 2);
            }
            let submitted = result.and_then(|frame| self.submit(frame, buffer, started));
            if submitted.is_ok() {
                backoff.reset();
            }
            if self.must_reopen(submitted) {
                self.source.close();
                self.shared.set_control_list(Vec::new());
                opened = None;
                let wait = backoff.next_delay();
                tracing::warn!(
                    "closing the source; re-opening in {:.1} s",
                    wait.as_secs_f64()
                );
                retry_at = Instant::now() + wait;
            }
        }
        self.source.close();
        self.pool.shutdown();
        self.hub.wake_all();
    }

    /// A picture drawn on demand that could only replace one not yet
    /// encoded is wasted work: hold it until a worker is free (drawn ahead,
    /// so no worker waits for the drawing). False if asked to stop meanwhile.
    fn hold_until_room(&self) -> bool {
        while !self.pool.wait_for_room(Duration::from_millis(50)) {
            self.shared.tick();
            if self.shared.stopping() {
                return false;
            }
        }
        true
    }

    /// Wait until `at` to open the source again, or less when the source
    /// says opening is worth trying now (its device node appeared); false
    /// if asked to stop meanwhile.
    fn wait_to_reopen(&mut self, at: Instant) -> bool {
        loop {
            self.shared.tick();
            if self.shared.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            if self.source.reopen_hint() {
                tracing::info!("the camera's device node appeared: opening it now");
                return true;
            }
            self.tend_controls(false);
            std::thread::sleep((at - now).min(Duration::from_millis(50)));
        }
    }

    /// Open the source and record it; a failure is counted.
    fn open_source(&mut self, reopen: bool) -> Result<SourceInfo, CaptureError> {
        match self.source.open() {
            Ok(info) => {
                self.record_open(&info, reopen);
                Ok(info)
            }
            Err(e) => {
                self.shared.record_camera_failure(&e, &self.hub);
                Err(e)
            }
        }
    }

    /// A source just opened: its controls set again, its modes and what it
    /// gave recorded.
    fn record_open(&mut self, info: &SourceInfo, reopen: bool) {
        tracing::info!(device = %info.device, "source open: {}x{} {} at {} fps", info.width, info.height, info.pixel_format, info.fps);
        self.ask_yuv();
        self.restore_controls();
        self.shared
            .set_modes(self.source.modes(), self.source.requested_mode());
        let mut c = self.shared.lock();
        if reopen {
            c.reopens += 1;
        }
        c.info = Some(info.clone());
        c.backend = self.source.backend();
    }

    /// Whether the source must be closed and re-opened after this frame: it
    /// was lost, or failed to read or to encode too often in a row.
    fn must_reopen(&self, submitted: Result<(), CaptureError>) -> bool {
        match submitted {
            Ok(()) => {
                // Decode/encode failures come back from the workers.
                let in_row = self.shared.encode_failures.load(Ordering::Relaxed);
                if in_row >= REOPEN_AFTER {
                    self.shared.encode_failures.store(0, Ordering::Relaxed);
                    tracing::warn!("{in_row} frames in a row failed to encode");
                    return true;
                }
                false
            }
            Err(e) => {
                let failures = self.shared.record_camera_failure(&e, &self.hub);
                tracing::warn!("capture failed ({failures} in a row): {e}");
                e.source_lost() || failures >= REOPEN_AFTER
            }
        }
    }
}
