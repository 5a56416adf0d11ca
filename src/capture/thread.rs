//! The capture thread: paces the source, survives its failures, and hands
//! pictures to the encode pool, which transforms, encodes and publishes them
//! to the frame hub in capture order.
//!
//! It never waits on a consumer (publishing is a pointer swap in the hub) nor
//! on an encode worker (a newer picture replaces one still pending).
//! A failing source is re-opened with backoff (0.5 s doubling to 10 s), so a
//! missing camera costs almost nothing.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::encode_pool::{EncodePool, Encoded, Job, Picture, Sink, default_workers};
use super::{CaptureError, FrameSource, SourceFrame, SourceInfo};
use crate::backoff::Backoff;
use crate::encode::Transform;
use crate::frame::{Frame, FrameHub};
use crate::stats::{CaptureStatus, EncoderStatus, History, RateMeter};

/// Failures in a row after which health turns `camera_error`.
pub const ERROR_THRESHOLD: u64 = 3;
/// Read failures in a row after which the source is closed and re-opened.
pub const REOPEN_AFTER: u64 = 5;

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
    pub reopen_min: Duration,
    pub reopen_max: Duration,
}

/// Shared between the capture thread, the service and the status readers.
#[derive(Debug)]
pub struct CaptureShared {
    quality: AtomicU8,
    quality_overridden: AtomicBool,
    stop: AtomicBool,
    /// Turns of the capture loop (and of its waits): stays still only when
    /// the thread is stuck, e.g. in a read that never returns.
    progress: AtomicU64,
    /// Pictures in a row the workers failed to decode or encode.
    encode_failures: AtomicU64,
    counters: Mutex<Counters>,
    health: watch::Sender<CameraHealth>,
}

#[derive(Debug, Default)]
struct Counters {
    backend: &'static str,
    info: Option<SourceInfo>,
    meter: RateMeter,
    history: History,
    frame_time_ms: f64,
    encode_ms: f64,
    jpeg_bytes: u64,
    out_size: (u32, u32),
    frames: u64,
    consecutive_failures: u64,
    total_failures: u64,
    reopens: u64,
    last_error: Option<String>,
    passthrough: bool,
}

impl CaptureShared {
    #[must_use]
    pub fn new(quality: u8) -> Arc<Self> {
        Arc::new(Self {
            quality: AtomicU8::new(quality.clamp(1, 100)),
            quality_overridden: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            progress: AtomicU64::new(0),
            encode_failures: AtomicU64::new(0),
            counters: Mutex::new(Counters::default()),
            health: watch::Sender::new(CameraHealth::Starting),
        })
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

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// How many turns the capture loop has made; a watchdog compares two
    /// readings (the loop turns at least every 50 ms, or once per read).
    #[must_use]
    pub fn progress(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }

    fn tick(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// Health changes (for the MQTT health events).
    #[must_use]
    pub fn health(&self) -> watch::Receiver<CameraHealth> {
        self.health.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
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
            target_fps: settings.target_fps,
            measured_fps,
            fps_history: c.history.values(),
            frame_time_ms: c.frame_time_ms,
            frames: c.frames,
            consecutive_failures: c.consecutive_failures,
            total_failures: c.total_failures,
            reopens: c.reopens,
            last_error: c.last_error.clone(),
            rotation: settings.transform.rotation,
            flip_h: settings.transform.flip_h,
            flip_v: settings.transform.flip_v,
            passthrough: c.passthrough,
        };
        let encoder = EncoderStatus {
            encoder: encoder.to_owned(),
            quality: self.quality(),
            encode_ms: c.encode_ms,
            jpeg_bytes: c.jpeg_bytes,
            width: c.out_size.0,
            height: c.out_size.1,
            last_saved: None,
        };
        (capture, encoder)
    }

    fn record_failure(&self, error: &CaptureError) -> u64 {
        let mut c = self.lock();
        c.consecutive_failures += 1;
        c.total_failures += 1;
        c.last_error = Some(error.to_string());
        let n = c.consecutive_failures;
        drop(c);
        if n >= ERROR_THRESHOLD
            || matches!(
                error,
                CaptureError::Open { .. } | CaptureError::Disconnected(_)
            )
        {
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
    std::thread::Builder::new()
        .name("capture".into())
        .spawn(move || Capture::new(source, settings, hub, shared).run())
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
    settings: CaptureSettings,
    shared: Arc<CaptureShared>,
    hub: Arc<FrameHub>,
    pool: EncodePool<Publisher>,
}

/// Publishes the pool's results in capture order: counters, hub, health.
struct Publisher {
    hub: Arc<FrameHub>,
    shared: Arc<CaptureShared>,
    seq: u64,
}

impl Sink for Publisher {
    fn frame(&mut self, frame: Encoded) {
        self.seq += 1;
        self.shared.encode_failures.store(0, Ordering::Relaxed);
        let jpeg_len = frame.jpeg.len() as u64;
        let consecutive_failures = {
            let mut c = self.shared.lock();
            let before = c.consecutive_failures;
            c.consecutive_failures = 0;
            c.frames += 1;
            c.meter.record(frame.done);
            c.frame_time_ms = (frame.done - frame.captured_at).as_secs_f64() * 1e3;
            c.encode_ms = (frame.done - frame.encode_started).as_secs_f64() * 1e3;
            c.jpeg_bytes = jpeg_len;
            c.out_size = (frame.width, frame.height);
            c.passthrough = frame.quality.is_none();
            before
        };
        self.hub.publish(Frame {
            seq: self.seq,
            jpeg: frame.jpeg,
            width: frame.width,
            height: frame.height,
            quality: frame.quality,
            captured_at: frame.captured_at,
            captured_wall: frame.captured_wall,
            backend: frame.backend,
            consecutive_failures,
        });
        self.shared.health.send_if_modified(|h| {
            let changed = *h != CameraHealth::Ok;
            *h = CameraHealth::Ok;
            changed
        });
    }

    fn failure(&mut self, error: &CaptureError) {
        self.shared.encode_failures.fetch_add(1, Ordering::Relaxed);
        let failures = self.shared.record_failure(error);
        tracing::warn!("capture failed ({failures} in a row): {error}");
    }
}

impl Capture {
    fn new(
        source: Box<dyn FrameSource>,
        settings: CaptureSettings,
        hub: Arc<FrameHub>,
        shared: Arc<CaptureShared>,
    ) -> Self {
        let publisher = Publisher {
            hub: Arc::clone(&hub),
            shared: Arc::clone(&shared),
            seq: 0,
        };
        let pool = EncodePool::new(default_workers(), settings.transform, publisher);
        Self {
            source,
            settings,
            shared,
            hub,
            pool,
        }
    }

    fn run(mut self) {
        let period = Duration::from_secs_f64(1.0 / self.settings.target_fps.max(0.001));
        // No jitter: one camera, nobody to collide with.
        let mut backoff = Backoff::new(self.settings.reopen_min, self.settings.reopen_max, 0.0, 0);
        let mut retry_at = Instant::now();
        let mut opened: Option<SourceInfo> = None;
        let mut ever_opened = false;
        let mut next_due = Instant::now();
        'frames: while !self.shared.stopping() {
            self.shared.tick();
            let Some(info) = opened.as_ref() else {
                if !sleep_until(retry_at, &self.shared) {
                    break;
                }
                match self.source.open() {
                    Ok(info) => {
                        tracing::info!(device = %info.device, "source open: {}x{} {} at {} fps", info.width, info.height, info.pixel_format, info.fps);
                        let mut c = self.shared.lock();
                        if ever_opened {
                            c.reopens += 1;
                        }
                        c.info = Some(info.clone());
                        c.backend = self.source.backend();
                        drop(c);
                        ever_opened = true;
                        opened = Some(info);
                        next_due = Instant::now();
                    }
                    Err(e) => {
                        self.shared.record_failure(&e);
                        let wait = backoff.next_delay();
                        tracing::warn!("{e}; retrying in {:.1} s", wait.as_secs_f64());
                        retry_at = Instant::now() + wait;
                    }
                }
                continue;
            };
            let self_paced = info.self_paced;
            if !self_paced {
                if !sleep_until(next_due, &self.shared) {
                    break;
                }
                let now = Instant::now();
                next_due += period;
                if next_due + period < now {
                    next_due = now; // fell far behind (machine stalled): don't burst
                }
            }
            let read_started = Instant::now();
            let mut buffer = self.pool.buffer();
            let result = self.source.next_frame(&mut buffer);
            // A camera's read blocks until its frame arrives: the picture
            // exists from the return, not from the wait. A drawn source's
            // picture begins when drawing starts.
            let started = if self_paced {
                Instant::now()
            } else {
                read_started
            };
            if !self_paced && result.is_ok() {
                // A picture drawn on demand that could only replace one not
                // yet encoded is wasted work: hold it until a worker is free
                // (drawn ahead, so no worker waits for the drawing).
                while !self.pool.wait_for_room(Duration::from_millis(50)) {
                    self.shared.tick();
                    if self.shared.stopping() {
                        break 'frames;
                    }
                }
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
            let failed = match submitted {
                Ok(()) => {
                    backoff.reset();
                    // Decode/encode failures come back from the workers.
                    let in_row = self.shared.encode_failures.load(Ordering::Relaxed);
                    (in_row >= REOPEN_AFTER).then(|| {
                        self.shared.encode_failures.store(0, Ordering::Relaxed);
                        CaptureError::Corrupt(format!("{in_row} frames in a row failed to encode"))
                    })
                }
                Err(e) => {
                    let failures = self.shared.record_failure(&e);
                    tracing::warn!("capture failed ({failures} in a row): {e}");
                    let lost =
                        matches!(e, CaptureError::Open { .. } | CaptureError::Disconnected(_));
                    (lost || failures >= REOPEN_AFTER).then_some(e)
                }
            };
            if failed.is_some() {
                self.source.close();
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

    /// Hand a source picture to the encode pool (or publish a camera JPEG
    /// as it is). Cheap: validation only; never waits on a worker.
    fn submit(
        &mut self,
        frame: SourceFrame,
        buffer: Vec<u8>,
        started: Instant,
    ) -> Result<(), CaptureError> {
        let quality = self.shared.quality();
        let captured_wall = SystemTime::now();
        let backend = self.source.backend();
        let picture = match frame {
            SourceFrame::Jpeg {
                width,
                height,
                data,
            } => {
                self.pool.recycle(buffer);
                super::jpeg_check::validate(&data)?;
                if self.settings.transform.is_identity()
                    && !self.shared.quality_overridden.load(Ordering::Relaxed)
                {
                    let now = Instant::now();
                    self.pool.submit_ready(Encoded {
                        jpeg: data,
                        width,
                        height,
                        quality: None,
                        captured_at: started,
                        captured_wall,
                        backend,
                        encode_started: now,
                        done: now,
                    });
                    return Ok(());
                }
                Picture::Jpeg {
                    data,
                    width,
                    height,
                }
            }
            SourceFrame::Rgb { width, height } => Picture::Rgb {
                pixels: buffer,
                width,
                height,
            },
        };
        self.pool.submit(Job {
            picture,
            quality,
            captured_at: started,
            captured_wall,
            backend,
        });
        Ok(())
    }
}
