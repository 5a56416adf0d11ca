//! A source wrapper that fails on a schedule, for tests without a camera.
//!
//! The schedule is data — `Schedule::parse("ok*20,timeout*5,open-fail*3,corrupt*2,ok*")`
//! or the builder — so an end-to-end test can tell the real service, through
//! a hidden CLI option, exactly how its "camera" will misbehave. It is
//! deterministic: the same calls give the same results every run.
//!
//! How steps are consumed:
//! - `ok`, `timeout`, `corrupt`, `disconnect`: one per `next_frame` call.
//! - `open-fail`: one per `open` call; the device is gone meanwhile, so a
//!   `next_frame` that meets an `open-fail` step returns `Disconnected`
//!   without consuming it (the capture thread then re-opens).
//! - `open` at any other step opens the wrapped source and consumes nothing.
//! - `kind*` (no count) repeats for ever; a schedule that runs out behaves
//!   as `ok*`.
//!
//! A timeout sleeps for the configured duration before it returns, like a
//! real read timeout: it costs time, never CPU. A `hang` never returns (the
//! read sleeps for ever), as with a wedged driver: the capture thread stops
//! making progress, which the service watchdog must notice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

use super::{CaptureError, FrameSource, SourceFrame, SourceInfo};
pub use crate::config::schedule::{Fault, Schedule, Step};

/// How many faults were injected so far; shared, so a test can read it while
/// the wrapper runs inside the capture thread.
#[derive(Debug, Default)]
pub struct Injected {
    pub frames_ok: AtomicU64,
    pub timeouts: AtomicU64,
    pub open_failures: AtomicU64,
    pub corrupt_frames: AtomicU64,
    pub disconnects: AtomicU64,
    pub hangs: AtomicU64,
}

/// Wraps a source and fails on a [`Schedule`].
#[derive(Debug)]
pub struct FlakySource<S> {
    inner: S,
    steps: Vec<Step>,
    /// Index of the current step and how many of it were used.
    at: usize,
    used: u32,
    timeout: Duration,
    injected: Arc<Injected>,
}

/// The default simulated read timeout: short, so tests stay fast.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);

impl<S: FrameSource> FlakySource<S> {
    pub fn new(inner: S, schedule: Schedule) -> Self {
        Self {
            inner,
            steps: schedule.steps().to_vec(),
            at: 0,
            used: 0,
            timeout: DEFAULT_TIMEOUT,
            injected: Arc::default(),
        }
    }

    /// How long a simulated timeout takes.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Counters of what was injected, readable from another thread.
    pub fn injected(&self) -> Arc<Injected> {
        Arc::clone(&self.injected)
    }

    fn current(&self) -> Fault {
        self.steps.get(self.at).map_or(Fault::Ok, |s| s.fault)
    }

    fn advance(&mut self) {
        let Some(step) = self.steps.get(self.at) else {
            return;
        };
        let Some(count) = step.count else { return };
        self.used += 1;
        if self.used >= count {
            self.at += 1;
            self.used = 0;
            // Skip steps of zero count ("timeout*0") right away.
            while self.steps.get(self.at).is_some_and(|s| s.count == Some(0)) {
                self.at += 1;
            }
        }
    }

    fn skip_empty(&mut self) {
        while self.used == 0 && self.steps.get(self.at).is_some_and(|s| s.count == Some(0)) {
            self.at += 1;
        }
    }
}

/// A JPEG that starts well and stops half-way, as after a lost USB transfer.
fn corrupt_jpeg() -> Bytes {
    Bytes::from_static(&[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06,
    ])
}

impl<S: FrameSource> FrameSource for FlakySource<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        self.skip_empty();
        if self.current() == Fault::OpenFail {
            self.advance();
            self.injected.open_failures.fetch_add(1, Ordering::Relaxed);
            return Err(CaptureError::Open {
                device: "flaky source".to_string(),
                reason: "scheduled open failure".to_string(),
            });
        }
        self.inner.open()
    }

    fn next_frame(&mut self, rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        self.skip_empty();
        match self.current() {
            Fault::OpenFail => {
                self.injected.disconnects.fetch_add(1, Ordering::Relaxed);
                Err(CaptureError::Disconnected(
                    "scheduled: device gone".to_string(),
                ))
            }
            Fault::Ok => {
                self.advance();
                let frame = self.inner.next_frame(rgb)?;
                self.injected.frames_ok.fetch_add(1, Ordering::Relaxed);
                Ok(frame)
            }
            Fault::Timeout => {
                self.advance();
                std::thread::sleep(self.timeout);
                self.injected.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(CaptureError::Timeout {
                    ms: self.timeout.as_millis() as u64,
                })
            }
            Fault::Corrupt => {
                self.advance();
                // Take the wrapped source's frame so pacing stays as it was.
                let (width, height) = match self.inner.next_frame(rgb)? {
                    SourceFrame::Rgb { width, height }
                    | SourceFrame::Yuv420 { width, height }
                    | SourceFrame::Jpeg { width, height, .. } => (width, height),
                };
                self.injected.corrupt_frames.fetch_add(1, Ordering::Relaxed);
                Ok(SourceFrame::Jpeg {
                    width,
                    height,
                    data: corrupt_jpeg(),
                })
            }
            Fault::Hang => {
                self.injected.hangs.fetch_add(1, Ordering::Relaxed);
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            Fault::Disconnect => {
                self.advance();
                self.injected.disconnects.fetch_add(1, Ordering::Relaxed);
                Err(CaptureError::Disconnected(
                    "scheduled disconnect".to_string(),
                ))
            }
        }
    }

    fn close(&mut self) {
        self.inner.close();
    }

    fn reopen_hint(&mut self) -> bool {
        self.inner.reopen_hint()
    }

    fn requested_mode(&self) -> Option<super::mode::ModeRequest> {
        self.inner.requested_mode()
    }

    fn request_mode(
        &mut self,
        mode: &super::mode::ModeRequest,
    ) -> Result<(), super::mode::ModeError> {
        self.inner.request_mode(mode)
    }

    fn modes(&self) -> Vec<super::mode::ModeOption> {
        self.inner.modes()
    }

    fn want_yuv(&mut self, yes: bool) {
        self.inner.want_yuv(yes);
    }

    fn controls(&mut self) -> Vec<super::controls::ControlInfo> {
        self.inner.controls()
    }

    fn set_controls(
        &mut self,
        writes: &[super::controls::Write],
    ) -> Result<(), super::controls::ControlsError> {
        self.inner.set_controls(writes)
    }
}

#[cfg(test)]
mod tests;
