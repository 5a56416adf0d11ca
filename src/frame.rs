//! The `Frame` type and the latest-frame hub.
//!
//! The hub holds the newest encoded frames behind `Arc`s (the last few, for
//! readers that were waiting when several came at once); readers clone the
//! `Arc` (never the bytes) and skip to the newest when they fall behind.
//! Publishing never waits on a reader: the lock is held for a pointer push.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
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
        unix_seconds(self.captured_wall)
    }
}

/// Unix time in seconds, as payloads and the status carry it.
#[must_use]
pub fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Set while the camera is failing: why, and a picture that says so.
#[derive(Debug, Clone)]
pub struct NoSignal {
    pub reason: String,
    /// A JPEG reading "NO SIGNAL", shown to `/stream` viewers; empty until
    /// it is drawn (the state is set the moment the camera fails).
    pub jpeg: Bytes,
}

/// Frames kept for waiting readers: at least as many as encode workers can
/// finish at once (the encode pool checks its maximum against this).
pub const KEPT: usize = 4;

/// The newest frames, shared between the capture thread and all readers.
#[derive(Debug)]
pub struct FrameHub {
    /// Oldest first, each with the moment it was published.
    recent: Mutex<VecDeque<(Instant, Arc<Frame>)>>,
    changed: Condvar,
    notify: watch::Sender<u64>,
    no_signal: Mutex<Option<Arc<NoSignal>>>,
}

/// A blocking reader's place in the stream of frames.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor {
    /// The last frame this reader got (0: none yet).
    pub seq: u64,
    /// Frames up to this one came while the reader waited: it gets each.
    owed_through: u64,
}

impl Cursor {
    /// A reader that already has frame `seq`.
    #[must_use]
    pub fn after(seq: u64) -> Self {
        Self {
            seq,
            owed_through: 0,
        }
    }
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
            recent: Mutex::new(VecDeque::with_capacity(KEPT + 1)),
            changed: Condvar::new(),
            notify: watch::Sender::new(0),
            no_signal: Mutex::new(None),
        }
    }

    fn recent(&self) -> MutexGuard<'_, VecDeque<(Instant, Arc<Frame>)>> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// Give the failing state its picture, drawn after it was set; nothing
    /// if the source is not failing (it recovered meanwhile) or the state
    /// has a picture already.
    pub fn fill_no_signal_picture(&self, jpeg: Bytes) {
        let mut state = self
            .no_signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(current) = state.as_ref().filter(|s| s.jpeg.is_empty()) else {
            return;
        };
        let reason = current.reason.clone();
        *state = Some(Arc::new(NoSignal { reason, jpeg }));
        drop(state);
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

    /// Publish the newest frame. Never blocks on readers.
    pub fn publish(&self, frame: Frame) {
        let seq = frame.seq;
        let frame = Arc::new(frame);
        {
            let mut recent = self.recent();
            recent.push_back((Instant::now(), frame));
            if recent.len() > KEPT {
                recent.pop_front();
            }
        }
        self.changed.notify_all();
        self.notify.send_replace(seq);
    }

    /// The newest frame, if any.
    #[must_use]
    pub fn latest(&self) -> Option<Arc<Frame>> {
        self.recent().back().map(|(_, f)| Arc::clone(f))
    }

    /// Block the calling (non-async) thread until there is a frame for the
    /// reader at `cursor`, or `timeout` passes. A reader that was waiting
    /// gets, in order, every frame published while it waited (several
    /// encoders can finish at once); one that fell behind, busy with an
    /// earlier frame, skips straight to the newest.
    #[must_use]
    pub fn next_frame(&self, cursor: &mut Cursor, timeout: Duration) -> Option<Arc<Frame>> {
        let start = Instant::now();
        let deadline = start + timeout;
        let mut recent = self.recent();
        loop {
            if let Some(frame) = Self::pick(&recent, cursor, start) {
                return Some(frame);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            recent = self
                .changed
                .wait_timeout(recent, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The frame for `cursor` now, if any, and the cursor moved past it.
    fn pick(
        recent: &VecDeque<(Instant, Arc<Frame>)>,
        cursor: &mut Cursor,
        waiting_since: Instant,
    ) -> Option<Arc<Frame>> {
        let (_, newest) = recent.back().filter(|(_, f)| f.seq > cursor.seq)?;
        let owed = recent.iter().find(|(at, f)| {
            f.seq > cursor.seq && (f.seq <= cursor.owed_through || *at >= waiting_since)
        });
        let frame = owed.map_or(newest, |(_, f)| f);
        if owed.is_some_and(|(at, _)| *at >= waiting_since) {
            // Published in order: every frame from this one to the newest
            // came while the reader waited.
            cursor.owed_through = newest.seq;
        }
        cursor.seq = frame.seq;
        Some(Arc::clone(frame))
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
    fn the_no_signal_picture_fills_a_failing_state_only() {
        let hub = FrameHub::new();
        let picture = Bytes::from_static(b"\xFF\xD8 no signal");
        hub.fill_no_signal_picture(picture.clone());
        assert!(hub.no_signal().is_none(), "not failing: nothing to fill");
        hub.set_no_signal(Some(NoSignal {
            reason: "gone".into(),
            jpeg: Bytes::new(),
        }));
        hub.fill_no_signal_picture(picture.clone());
        let state = hub.no_signal().expect("failing");
        assert_eq!((state.reason.as_str(), &state.jpeg), ("gone", &picture));
        hub.fill_no_signal_picture(Bytes::from_static(b"other"));
        assert_eq!(hub.no_signal().expect("failing").jpeg, picture, "kept");
    }

    #[test]
    fn readers_share_the_bytes_and_skip_to_newest() {
        let hub = FrameHub::new();
        assert!(hub.latest().is_none());
        hub.publish(frame(1));
        hub.publish(frame(2));
        hub.publish(frame(3));
        let mut cursor = Cursor::default();
        let a = hub
            .next_frame(&mut cursor, Duration::from_millis(10))
            .expect("frame");
        let b = hub.latest().expect("frame");
        assert_eq!(a.seq, 3, "a reader behind skips to the newest");
        assert_eq!(a.jpeg.as_ptr(), b.jpeg.as_ptr(), "no copy per reader");
        assert!(
            hub.next_frame(&mut cursor, Duration::from_millis(10))
                .is_none()
        );
    }

    #[test]
    fn next_frame_times_out_without_a_new_frame() {
        let hub = FrameHub::new();
        hub.publish(frame(5));
        let mut cursor = Cursor::after(5);
        assert!(
            hub.next_frame(&mut cursor, Duration::from_millis(20))
                .is_none()
        );
    }

    /// Frames `seqs` published at `t0` + the given milliseconds.
    fn published(t0: Instant, seqs: &[(u64, u64)]) -> VecDeque<(Instant, Arc<Frame>)> {
        seqs.iter()
            .map(|&(seq, ms)| (t0 + Duration::from_millis(ms), Arc::new(frame(seq))))
            .collect()
    }

    #[test]
    fn a_waiting_reader_gets_every_frame_published_while_it_waited_in_order() {
        let t0 = Instant::now();
        // The reader got 1, then waited from 10 ms; 2 and 3 came at once at 12 ms.
        let recent = published(t0, &[(1, 0), (2, 12), (3, 12)]);
        let mut cursor = Cursor::after(1);
        let waited_from = t0 + Duration::from_millis(10);
        let got = FrameHub::pick(&recent, &mut cursor, waited_from).map(|f| f.seq);
        assert_eq!(got, Some(2));
        // Busy with 2 until 20 ms; 3 is still owed, then nothing.
        let busy_until = t0 + Duration::from_millis(20);
        let got = FrameHub::pick(&recent, &mut cursor, busy_until).map(|f| f.seq);
        assert_eq!(got, Some(3));
        assert!(FrameHub::pick(&recent, &mut cursor, busy_until).is_none());
    }

    #[test]
    fn owed_frames_the_hub_no_longer_keeps_are_skipped() {
        let t0 = Instant::now();
        let mut recent = published(t0, &[(2, 12), (3, 12), (4, 12), (5, 12)]);
        let mut cursor = Cursor::after(1);
        let waited_from = t0 + Duration::from_millis(10);
        let got = FrameHub::pick(&recent, &mut cursor, waited_from).map(|f| f.seq);
        assert_eq!(got, Some(2));
        // 6 and 7 come while the reader is busy with 2: 3 has gone by then.
        recent.pop_front();
        recent.pop_front();
        recent.extend(published(t0, &[(6, 15), (7, 15)]));
        let busy_until = t0 + Duration::from_millis(20);
        let seqs: Vec<u64> =
            std::iter::from_fn(|| FrameHub::pick(&recent, &mut cursor, busy_until))
                .map(|f| f.seq)
                .collect();
        assert_eq!(
            seqs,
            vec![4, 5, 7],
            "owed 4 and 5 in order, then the newest"
        );
    }

    #[test]
    fn next_frame_wakes_on_publish_from_another_thread() {
        let hub = Arc::new(FrameHub::new());
        let h2 = Arc::clone(&hub);
        let t = std::thread::spawn(move || {
            h2.next_frame(&mut Cursor::default(), Duration::from_secs(5))
        });
        std::thread::sleep(Duration::from_millis(20));
        hub.publish(frame(1));
        let got = t.join().expect("join").expect("woken");
        assert_eq!(got.seq, 1);
    }

    #[test]
    fn frames_published_while_the_reader_was_busy_are_skipped() {
        let hub = FrameHub::new();
        let mut cursor = Cursor::default();
        hub.publish(frame(1));
        let first = hub.next_frame(&mut cursor, Duration::from_millis(10));
        assert_eq!(first.map(|f| f.seq), Some(1));
        // The reader writes frame 1 while 2 and 3 come: it gets 3 only.
        hub.publish(frame(2));
        hub.publish(frame(3));
        let next = hub.next_frame(&mut cursor, Duration::from_millis(10));
        assert_eq!(next.map(|f| f.seq), Some(3));
        assert_eq!(cursor.seq, 3);
    }
}
