//! Passthrough decisions on a recorded camera frame (a UVC-style MJPEG frame
//! with no Huffman tables and zero padding, `assets/frames/`): the camera's
//! bytes go out untouched unless a transform or a quality change is asked;
//! a corrupt frame is counted and never published.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tars_camera::capture::thread::{CaptureSettings, CaptureShared, spawn};
use tars_camera::capture::{CaptureError, FrameSource, SourceFrame, SourceInfo};
use tars_camera::encode::Transform;
use tars_camera::frame::{Cursor, Frame, FrameHub};

const RECORDED: &[u8] = include_bytes!("../../assets/frames/uvc_mjpeg_64x48.jpg");

/// Replays the recorded MJPEG frame like a camera; every `corrupt_every`-th
/// frame is cut short.
struct Replay {
    corrupt_every: Option<u64>,
    n: u64,
}

impl FrameSource for Replay {
    fn backend(&self) -> &'static str {
        "replay"
    }
    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        Ok(SourceInfo {
            device: "recording".into(),
            width: 64,
            height: 48,
            fps: 100.0,
            pixel_format: "MJPEG".into(),
            self_paced: false,
        })
    }
    fn next_frame(&mut self, _rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        self.n += 1;
        let data = match self.corrupt_every {
            Some(k) if self.n.is_multiple_of(k) => {
                Bytes::from_static(&RECORDED[..RECORDED.len() / 2])
            }
            _ => Bytes::from_static(RECORDED),
        };
        Ok(SourceFrame::Jpeg {
            width: 64,
            height: 48,
            data,
        })
    }
    fn close(&mut self) {}
}

struct Run {
    hub: Arc<FrameHub>,
    shared: Arc<CaptureShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Run {
    fn start(transform: Transform, corrupt_every: Option<u64>) -> Self {
        let hub = Arc::new(FrameHub::new());
        let shared = CaptureShared::new(80);
        let settings = CaptureSettings {
            source_name: "camera".into(),
            target_fps: 100.0,
            transform,
            codec: tars_camera::encode::Codec::auto(),
            reopen_min: Duration::from_millis(50),
            reopen_max: Duration::from_millis(100),
            controls: Vec::new(),
        };
        let source = Box::new(Replay {
            corrupt_every,
            n: 0,
        });
        let thread =
            spawn(source, settings, Arc::clone(&hub), Arc::clone(&shared)).expect("thread");
        Self {
            hub,
            shared,
            thread: Some(thread),
        }
    }

    /// The next frame after `after`, bounded.
    fn frame_after(&self, after: u64) -> Arc<Frame> {
        self.hub
            .next_frame(&mut Cursor::after(after), Duration::from_secs(5))
            .expect("a frame")
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.shared.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn identity_passes_the_camera_bytes_through_untouched() {
    let run = Run::start(Transform::default(), None);
    let frame = run.frame_after(0);
    assert_eq!(frame.jpeg.as_ref(), RECORDED, "no decode, no encode");
    assert_eq!(
        frame.quality, None,
        "passthrough frames carry no quality of ours"
    );
    assert_eq!((frame.width, frame.height), (64, 48));
}

#[test]
fn a_rotation_decodes_and_re_encodes() {
    let run = Run::start(
        Transform {
            rotation: 90,
            ..Transform::default()
        },
        None,
    );
    let frame = run.frame_after(0);
    assert_ne!(frame.jpeg.as_ref(), RECORDED);
    assert_eq!((frame.width, frame.height), (48, 64), "rotated");
    assert_eq!(frame.quality, Some(80));
    let mut rgb = Vec::new();
    let decoded = tars_camera::encode::Codec::auto()
        .decoder()
        .decode(&frame.jpeg, &mut rgb)
        .expect("valid JPEG");
    assert_eq!((decoded.width, decoded.height), (48, 64));
}

#[test]
fn a_quality_change_ends_passthrough() {
    let run = Run::start(Transform::default(), None);
    let first = run.frame_after(0);
    assert_eq!(first.quality, None);
    run.shared.set_quality(50);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = first.seq;
    let re_encoded = loop {
        let f = run.frame_after(last);
        last = f.seq;
        if f.quality.is_some() || Instant::now() > deadline {
            break f;
        }
    };
    assert_eq!(
        re_encoded.quality,
        Some(50),
        "the next frames are ours at q50"
    );
    assert_ne!(re_encoded.jpeg.as_ref(), RECORDED);
}

#[test]
fn corrupt_frames_are_counted_and_never_published() {
    let run = Run::start(Transform::default(), Some(2));
    let mut last = 0;
    for _ in 0..20 {
        let f = run.frame_after(last);
        assert_eq!(f.jpeg.as_ref(), RECORDED, "only whole frames go out");
        last = f.seq;
    }
    let settings = CaptureSettings {
        source_name: "camera".into(),
        target_fps: 100.0,
        transform: Transform::default(),
        codec: tars_camera::encode::Codec::auto(),
        reopen_min: Duration::from_millis(50),
        reopen_max: Duration::from_millis(100),
        controls: Vec::new(),
    };
    let (capture, _) = run.shared.snapshot(&settings, "x");
    assert!(
        capture.total_failures >= 9,
        "{} failures counted",
        capture.total_failures
    );
    assert!(capture.last_error.expect("error").contains("corrupt"));
}
