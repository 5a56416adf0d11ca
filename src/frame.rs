//! The `Frame` type and the latest-frame hub.
//!
//! The hub holds only the newest encoded frame behind an `Arc`; readers clone
//! the `Arc` (never the bytes) and skip to the newest when they fall behind.
//! Publishing never waits on a reader: the lock is held for a pointer swap.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::watch;

/// One encoded JPEG frame, shared by every consumer.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Monotonic sequence number, starting at 1; never reused.
    pub seq: u64,
    /// The JPEG bytes.
    pub jpeg: Bytes,
    /// Size of the encoded picture (after rotation).
    pub width: u32,
    pub height: u32,
    /// JPEG quality used, or `None` when the camera's JPEG was passed through.
    pub quality: Option<u8>,
    /// When the source delivered the picture.
    pub captured_at: Instant,
    /// Wall-clock time of capture, for payload timestamps.
    pub captured_wall: SystemTime,
    /// Backend that produced it ("test-pattern", "v4l2", …).
    pub backend: &'static str,
    /// Capture failures in a row before this frame (0 when healthy).
    pub consecutive_failures: u64,
}

impl Frame {
    /// A test-pattern frame captured now, encoded at `quality` (tests,
    /// benchmarks and demos; the capture thread fills every field itself).
    #[must_use]
    pub fn captured_now(seq: u64, jpeg: Bytes, (width, height): (u32, u32), quality: u8) -> Self {
        Self {
            seq,
            jpeg,
            width,
            height,
            quality: Some(quality),
            captured_at: Instant::now(),
            captured_wall: SystemTime::now(),
            backend: "test-pattern",
            consecutive_failures: 0,
        }
    }

    /// Unix time of capture in seconds, as payloads carry it.
    #[must_use]
    pub fn timestamp(&self) -> f64 {
        self.captured_wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// Set while the camera is failing: why, and a picture that says so.
#[derive(Debug, Clone)]
pub struct NoSignal {
    pub reason: String,
    /// A JPEG reading "NO SIGNAL", shown to `/stream` viewers.
    pub jpeg: Bytes,
}

/// The newest frame, shared between the capture thread and all readers.
#[derive(Debug)]
pub struct FrameHub {
    latest: Mutex<Option<Arc<Frame>>>,
    changed: Condvar,
    notify: watch::Sender<u64>,
    no_signal: Mutex<Option<Arc<NoSignal>>>,
}

impl Default for FrameHub {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameHub {
    #[must_use]
    pub fn new() -> Self {
        Self {
            latest: Mutex::new(None),
            changed: Condvar::new(),
            notify: watch::Sender::new(0),
            no_signal: Mutex::new(None),
        }
    }

    /// Mark the source as failing (or recovered with `None`); stream readers
    /// notice within their wait slice, `/snapshot` answers 503.
    pub fn set_no_signal(&self, state: Option<NoSignal>) {
        *self
            .no_signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = state.map(Arc::new);
        self.changed.notify_all();
    }

    /// The failing state, if the source is failing now.
    #[must_use]
    pub fn no_signal(&self) -> Option<Arc<NoSignal>> {
        self.no_signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replace the newest frame. Never blocks on readers.
    pub fn publish(&self, frame: Frame) {
        let seq = frame.seq;
        let frame = Arc::new(frame);
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(frame);
        self.changed.notify_all();
        self.notify.send_replace(seq);
    }

    /// The newest frame, if any.
    #[must_use]
    pub fn latest(&self) -> Option<Arc<Frame>> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Block the calling (non-async) thread until a frame newer than
    /// `after_seq` exists, or `timeout` passes. Skips straight to the newest.
    #[must_use]
    pub fn wait_newer(&self, after_seq: u64, timeout: Duration) -> Option<Arc<Frame>> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(frame) = guard.as_ref().filter(|f| f.seq > after_seq) {
                return Some(Arc::clone(frame));
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            guard = self
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Async readers: a receiver that changes with each new frame's `seq`.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.notify.subscribe()
    }

    /// Wake every blocked reader (used at shutdown).
    pub fn wake_all(&self) {
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> Frame {
        Frame::captured_now(seq, Bytes::from(vec![0xFF, 0xD8, seq as u8]), (2, 2), 80)
    }

    #[test]
    fn readers_share_the_bytes_and_skip_to_newest() {
        let hub = FrameHub::new();
        assert!(hub.latest().is_none());
        hub.publish(frame(1));
        hub.publish(frame(2));
        hub.publish(frame(3));
        let a = hub.wait_newer(0, Duration::from_millis(10)).expect("frame");
        let b = hub.latest().expect("frame");
        assert_eq!(a.seq, 3, "a reader behind skips to the newest");
        assert_eq!(a.jpeg.as_ptr(), b.jpeg.as_ptr(), "no copy per reader");
    }

    #[test]
    fn wait_newer_times_out_without_a_new_frame() {
        let hub = FrameHub::new();
        hub.publish(frame(5));
        assert!(hub.wait_newer(5, Duration::from_millis(20)).is_none());
    }

    #[test]
    fn wait_newer_wakes_on_publish_from_another_thread() {
        let hub = Arc::new(FrameHub::new());
        let h2 = Arc::clone(&hub);
        let t = std::thread::spawn(move || h2.wait_newer(0, Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        hub.publish(frame(1));
        let got = t.join().expect("join").expect("woken");
        assert_eq!(got.seq, 1);
    }
}
