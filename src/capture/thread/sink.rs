//! Where the encode pool's results go: the hub, in capture order, with the
//! counters and the camera's health.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::shared::{CameraHealth, CaptureShared};
use crate::capture::CaptureError;
use crate::capture::encode_pool::{Encoded, Sink};
use crate::frame::FrameHub;

/// The pool's sink: puts its results in the hub in capture order, with
/// the counters and the camera health.
pub(super) struct HubSink {
    pub(super) hub: Arc<FrameHub>,
    pub(super) shared: Arc<CaptureShared>,
    pub(super) seq: u64,
}

impl Sink for HubSink {
    fn frame(&mut self, encoded: Encoded) {
        let Encoded {
            mut frame,
            encode_started,
            done,
        } = encoded;
        frame.consecutive_failures = {
            let mut c = self.shared.lock();
            if c.camera_failed_at.is_some_and(|at| frame.captured_at < at) {
                // Read before the camera failed, encoded after: older than
                // the failure the viewers are already told about.
                return;
            }
            self.seq += 1;
            frame.seq = self.seq;
            self.shared.encode_failures.store(0, Ordering::Relaxed);
            let before = c.consecutive_failures;
            c.consecutive_failures = 0;
            c.frames += 1;
            c.meter.record(done);
            c.frame_time_ms = (done - frame.captured_at).as_secs_f64() * 1e3;
            let encode_s = (done - encode_started).as_secs_f64();
            c.encode_ms = encode_s * 1e3;
            c.jpeg_bytes = frame.jpeg.len() as u64;
            c.out_size = (frame.width, frame.height);
            c.passthrough = frame.quality.is_none();
            if c.passthrough {
                c.passed_through += 1;
            } else {
                c.encoded += 1;
                c.encode_seconds.record(encode_s);
            }
            before
        };
        self.hub.publish(frame);
        self.shared.health.send_if_modified(|h| {
            // The new frame first, then the failure lifted, then the health:
            // /snapshot never serves the picture from before the failure,
            // and a healthy stream costs no look at the hub.
            if matches!(h, CameraHealth::Failing(_)) {
                self.hub.set_no_signal(None);
            }
            let changed = *h != CameraHealth::Ok;
            *h = CameraHealth::Ok;
            changed
        });
    }

    fn failure(&mut self, error: &CaptureError) {
        self.shared.encode_failures.fetch_add(1, Ordering::Relaxed);
        let failures = self.shared.record_failure(error, &self.hub);
        tracing::warn!("capture failed ({failures} in a row): {error}");
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use bytes::Bytes;

    use super::*;

    fn encoded(captured_at: Instant) -> Encoded {
        let jpeg = Bytes::from_static(b"\xFF\xD8\xFF\xD9");
        let at = (captured_at, SystemTime::now());
        Encoded::finished(jpeg, (16, 16), Some(80), at, "test", Instant::now())
    }

    #[test]
    fn a_frame_read_before_the_camera_failed_neither_shows_nor_heals() {
        let hub = Arc::new(FrameHub::new());
        let shared = CaptureShared::new(80);
        let mut sink = HubSink {
            hub: Arc::clone(&hub),
            shared: Arc::clone(&shared),
            seq: 0,
        };
        let health = shared.health();
        sink.frame(encoded(Instant::now()));
        assert_eq!(*health.borrow(), CameraHealth::Ok);
        // Read, then the camera times out while it is being encoded.
        let read = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        shared.record_camera_failure(&CaptureError::Timeout { ms: 2000 }, &hub);
        assert!(matches!(*health.borrow(), CameraHealth::Failing(_)));
        assert!(hub.no_signal().is_some(), "/snapshot answers 503 at once");
        sink.frame(encoded(read));
        assert!(
            matches!(*health.borrow(), CameraHealth::Failing(_)),
            "a frame older than the failure reported the camera well"
        );
        assert_eq!(hub.latest().map(|f| f.seq), Some(1), "and was served");
        assert!(hub.no_signal().is_some(), "still 503");
        // A frame read after the failure is the camera back.
        sink.frame(encoded(Instant::now()));
        assert_eq!(*health.borrow(), CameraHealth::Ok);
        assert!(hub.no_signal().is_none());
        assert_eq!(hub.latest().map(|f| f.seq), Some(2));
    }
}
