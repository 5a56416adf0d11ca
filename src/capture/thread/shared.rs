//! What the capture thread shares with the service and the status: the
//! settings, the counters, the JPEG quality, the camera's health.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::capture::controls::{ControlInfo, ControlValue, ControlsError};
use crate::capture::mode::{ModeOption, ModeRequest};

mod modes;
use crate::capture::{CaptureError, SourceInfo};
use crate::encode::{Codec, Transform};
use crate::frame::{FrameHub, NoSignal};
use crate::stats::{CaptureStatus, EncoderStatus, History, RateMeter, TimeBuckets};
pub(super) use modes::ModeJob;

/// Failures in a row after which health turns `camera_error`.
pub const ERROR_THRESHOLD: u64 = 3;
/// Read failures in a row after which the source is closed and re-opened.
pub const REOPEN_AFTER: u64 = 5;

/// What a picture is handed to the encoders as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Input {
    None,
    Jpeg,
    Yuv420,
    Rgb,
}

/// Whether frames flow; the service turns changes into health events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraHealth {
    /// No frame yet and no failure yet.
    Starting,
    Ok,
    Failing(String),
}

/// What the capture thread needs to know, fixed for its life.
#[derive(Debug, Clone)]
pub struct CaptureSettings {
    pub source_name: String,
    pub target_fps: f64,
    pub transform: Transform,
    /// The JPEG codec of the encode workers.
    pub codec: Codec,
    pub reopen_min: Duration,
    pub reopen_max: Duration,
    /// Camera controls to set at every open (`--control`, `[controls]`).
    pub controls: Vec<(String, ControlValue)>,
}

/// Shared between the capture thread, the service and the status readers.
#[derive(Debug)]
pub struct CaptureShared {
    pub(super) quality: AtomicU8,
    pub(super) quality_overridden: AtomicBool,
    pub(super) stop: AtomicBool,
    /// Turns of the capture loop (and of its waits): stays still only when
    /// the thread is stuck, e.g. in a read that never returns.
    progress: AtomicU64,
    /// Frames the source delivered (before any is dropped for pace).
    pub(super) captured: AtomicU64,
    /// What the last picture was handed on as (see [`Input`]).
    pub(super) input: AtomicU8,
    /// Pictures in a row the workers failed to decode or encode.
    pub(super) encode_failures: AtomicU64,
    pub(super) counters: Mutex<Counters>,
    pub(super) health: watch::Sender<CameraHealth>,
    /// Requests to change the source's controls, served by the capture
    /// thread (which owns the source) at its next turn.
    pub(super) control_jobs: JobQueue<ControlJob>,
    /// The source's controls as last read (empty while it is closed).
    pub(super) controls: Mutex<Vec<ControlInfo>>,
    /// The controls asked for so far (configuration and live changes).
    pub(super) desired: Mutex<Vec<(String, ControlValue)>>,
    /// Requests to change the mode, served by the capture thread.
    pub(super) mode_jobs: JobQueue<ModeJob>,
    /// The source's modes and the one asked, as of the last open.
    pub(super) modes: Mutex<(Vec<ModeOption>, Option<ModeRequest>)>,
}

/// Requests waiting for the capture thread, which looks at every turn: a
/// flag tells it without taking the lock when there are none (the usual
/// case, once per frame).
#[derive(Debug)]
pub(super) struct JobQueue<T> {
    waiting: AtomicBool,
    jobs: Mutex<Vec<T>>,
}

impl<T> Default for JobQueue<T> {
    fn default() -> Self {
        Self {
            waiting: AtomicBool::new(false),
            jobs: Mutex::new(Vec::new()),
        }
    }
}

impl<T> JobQueue<T> {
    pub(super) fn push(&self, job: T) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(job);
        self.waiting.store(true, Ordering::Release);
    }

    /// Every job waiting, oldest first (none without locking when none is).
    pub(super) fn take(&self) -> Vec<T> {
        if !self.waiting.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        std::mem::take(&mut *self.jobs.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// How long a control request waits for the capture thread (it turns at
/// least once per frame read, bounded by the read timeout).
const CONTROL_WAIT: Duration = Duration::from_secs(4);

/// A change of controls waiting for the capture thread.
#[derive(Debug)]
pub(super) struct ControlJob {
    pub(super) values: Vec<(String, ControlValue)>,
    pub(super) reply: tokio::sync::oneshot::Sender<Result<Vec<ControlInfo>, ControlsError>>,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    /// The rate asked for (the source may deliver slower).
    pub(super) asked_fps: f64,
    /// The rotation and flips applied now.
    pub(super) transform: Transform,
    pub(super) backend: &'static str,
    pub(super) info: Option<SourceInfo>,
    pub(super) meter: RateMeter,
    pub(super) history: History,
    pub(super) frame_time_ms: f64,
    pub(super) encode_ms: f64,
    pub(super) jpeg_bytes: u64,
    pub(super) out_size: (u32, u32),
    pub(super) frames: u64,
    pub(super) encoded: u64,
    pub(super) passed_through: u64,
    pub(super) encode_seconds: TimeBuckets,
    pub(super) consecutive_failures: u64,
    pub(super) total_failures: u64,
    pub(super) reopens: u64,
    pub(super) last_error: Option<String>,
    /// When `last_error` happened.
    pub(super) last_error_at: Option<SystemTime>,
    /// When the camera itself last failed (to open or to read): a frame
    /// read before then is not published when its encoding ends after.
    pub(super) camera_failed_at: Option<std::time::Instant>,
    pub(super) passthrough: bool,
}

/// The rate frames are published at: the one asked, or the source's own
/// when it delivers slower (a camera that offers 29.97 when 30 is asked).
fn target_fps(asked: f64, info: Option<&SourceInfo>) -> f64 {
    match info {
        Some(i) if i.self_paced && i.fps > 0.0 && i.fps < asked => i.fps,
        _ => asked,
    }
}

impl CaptureShared {
    #[must_use]
    pub fn new(quality: u8) -> Arc<Self> {
        Arc::new(Self {
            quality: AtomicU8::new(quality.clamp(1, 100)),
            quality_overridden: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            progress: AtomicU64::new(0),
            captured: AtomicU64::new(0),
            input: AtomicU8::new(Input::None as u8),
            encode_failures: AtomicU64::new(0),
            counters: Mutex::new(Counters::default()),
            health: watch::Sender::new(CameraHealth::Starting),
            control_jobs: JobQueue::default(),
            controls: Mutex::new(Vec::new()),
            desired: Mutex::new(Vec::new()),
            mode_jobs: JobQueue::default(),
            modes: Mutex::new((Vec::new(), None)),
        })
    }

    /// The controls asked for so far, in order: what is set at every open
    /// and what `{"save": true}` writes.
    #[must_use]
    pub fn desired_controls(&self) -> Vec<(String, ControlValue)> {
        self.desired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_desired_controls(&self, desired: &[(String, ControlValue)]) {
        desired.clone_into(&mut self.desired.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The source's controls with their values, as last read.
    #[must_use]
    pub fn controls(&self) -> Vec<ControlInfo> {
        self.controls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Change the source's controls, all or nothing; they are kept and set
    /// again at every re-open. Returns the controls after the change.
    ///
    /// # Errors
    /// A control refused (by name, with what it takes or why), the camera
    /// not open, or the capture thread not answering in time.
    pub async fn set_controls(
        &self,
        values: Vec<(String, ControlValue)>,
    ) -> Result<Vec<ControlInfo>, ControlsError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.control_jobs.push(ControlJob { values, reply });
        match tokio::time::timeout(CONTROL_WAIT, answer).await {
            Ok(Ok(result)) => result,
            _ => Err(ControlsError::Unavailable),
        }
    }

    pub(super) fn take_control_jobs(&self) -> Vec<ControlJob> {
        self.control_jobs.take()
    }

    pub(super) fn set_control_list(&self, list: Vec<ControlInfo>) {
        *self.controls.lock().unwrap_or_else(PoisonError::into_inner) = list;
    }

    /// Current JPEG quality.
    #[must_use]
    pub fn quality(&self) -> u8 {
        self.quality.load(Ordering::Relaxed)
    }

    /// Change the JPEG quality; applies to the next frame. A change made while
    /// running also ends MJPEG passthrough (the operator asked for a quality).
    pub fn set_quality(&self, quality: u8) {
        self.quality.store(quality.clamp(1, 100), Ordering::Relaxed);
        self.quality_overridden.store(true, Ordering::Relaxed);
    }

    /// Ask the thread to stop; it notices within ~50 ms (or one frame read).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// How many turns the capture loop has made; a watchdog compares two
    /// readings (the loop turns at least every 50 ms, or once per read).
    #[must_use]
    pub fn progress(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }

    pub(super) fn tick(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// Health changes (for the MQTT health events).
    #[must_use]
    pub fn health(&self) -> watch::Receiver<CameraHealth> {
        self.health.subscribe()
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The capture and encoder sections of the status.
    #[must_use]
    pub fn snapshot(
        &self,
        settings: &CaptureSettings,
        encoder: &str,
    ) -> (CaptureStatus, EncoderStatus) {
        let now = Instant::now();
        let mut c = self.lock();
        let measured_fps = c.meter.rate(now);
        c.history.sample(now, measured_fps);
        let info = c.info.clone();
        let capture = CaptureStatus {
            source: settings.source_name.clone(),
            backend: c.backend.to_owned(),
            device: info.as_ref().map(|i| i.device.clone()).unwrap_or_default(),
            width: info.as_ref().map_or(0, |i| i.width),
            height: info.as_ref().map_or(0, |i| i.height),
            pixel_format: info
                .as_ref()
                .map(|i| i.pixel_format.clone())
                .unwrap_or_default(),
            target_fps: target_fps(c.asked_fps, info.as_ref()),
            measured_fps,
            fps_history: c.history.values(),
            frame_time_ms: c.frame_time_ms,
            frames: c.frames,
            captured: self.captured.load(Ordering::Relaxed),
            encoded: c.encoded,
            passed_through: c.passed_through,
            consecutive_failures: c.consecutive_failures,
            total_failures: c.total_failures,
            reopens: c.reopens,
            last_error: c.last_error.clone(),
            last_error_at: c.last_error_at.map(crate::frame::unix_seconds),
            rotation: c.transform.rotation,
            flip_h: c.transform.flip_h,
            flip_v: c.transform.flip_v,
            passthrough: c.passthrough,
            input: match self.input.load(Ordering::Relaxed) {
                x if x == Input::Jpeg as u8 => "jpeg",
                x if x == Input::Yuv420 as u8 => "yuv420",
                x if x == Input::Rgb as u8 => "rgb",
                _ => "",
            }
            .to_owned(),
            health: match &*self.health.borrow() {
                CameraHealth::Starting => "starting",
                CameraHealth::Ok => "ok",
                CameraHealth::Failing(_) => "camera_error",
            }
            .to_owned(),
        };
        let encoder = EncoderStatus {
            encoder: encoder.to_owned(),
            quality: self.quality(),
            encode_ms: c.encode_ms,
            encode_seconds: c.encode_seconds.clone(),
            jpeg_bytes: c.jpeg_bytes,
            width: c.out_size.0,
            height: c.out_size.1,
            last_saved: None,
        };
        (capture, encoder)
    }

    /// A failure of the camera itself (to open or to read): counted as any
    /// failure, and its time kept, so that a frame read before it and
    /// encoded after it can neither be served as the newest picture nor
    /// report the camera well again.
    pub(super) fn record_camera_failure(&self, error: &CaptureError, hub: &FrameHub) -> u64 {
        self.lock().camera_failed_at = Some(std::time::Instant::now());
        self.record_failure(error, hub)
    }

    /// A failure counted; health turns `camera_error` after
    /// [`ERROR_THRESHOLD`] in a row or at once when the source is lost. The
    /// hub hears it first: `/snapshot` answers 503 before anyone is told
    /// the camera failed (its NO SIGNAL picture is drawn after).
    pub(super) fn record_failure(&self, error: &CaptureError, hub: &FrameHub) -> u64 {
        let mut c = self.lock();
        c.consecutive_failures += 1;
        c.total_failures += 1;
        c.last_error = Some(error.to_string());
        c.last_error_at = Some(SystemTime::now());
        let n = c.consecutive_failures;
        drop(c);
        if n >= ERROR_THRESHOLD || error.source_lost() {
            if !matches!(*self.health.borrow(), CameraHealth::Failing(_)) {
                hub.set_no_signal(Some(NoSignal {
                    reason: error.to_string(),
                    jpeg: bytes::Bytes::new(),
                }));
            }
            let failing = CameraHealth::Failing(error.to_string());
            self.health.send_if_modified(|h| {
                let changed = !matches!(h, CameraHealth::Failing(_));
                if changed {
                    *h = failing;
                }
                changed
            });
        }
        n
    }
}
