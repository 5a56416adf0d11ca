use super::*;
use crate::capture::jpeg_check;
use std::time::Instant;

/// A source that counts its calls and delivers a 4x2 RGB frame at once.
#[derive(Debug, Default)]
struct Counting {
    opens: u32,
    frames: u32,
    closes: u32,
}

impl FrameSource for Counting {
    fn backend(&self) -> &'static str {
        "counting"
    }
    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        self.opens += 1;
        Ok(SourceInfo {
            device: "counting".into(),
            width: 4,
            height: 2,
            fps: 30.0,
            pixel_format: "RGB24".into(),
            self_paced: false,
        })
    }
    fn next_frame(&mut self, rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        self.frames += 1;
        rgb.resize(4 * 2 * 3, 7);
        Ok(SourceFrame::Rgb {
            width: 4,
            height: 2,
        })
    }
    fn close(&mut self) {
        self.closes += 1;
    }
}

/// What the next read of `src` returns, as a short word.
fn next(src: &mut FlakySource<Counting>) -> &'static str {
    match &src.next_frame(&mut Vec::new()) {
        Ok(SourceFrame::Rgb { .. } | SourceFrame::Yuv420 { .. }) => "ok",
        Ok(SourceFrame::Jpeg { data, .. }) => {
            if jpeg_check::validate(data).is_err() {
                "corrupt"
            } else {
                "jpeg"
            }
        }
        Err(CaptureError::Timeout { .. }) => "timeout",
        Err(CaptureError::Disconnected(_)) => "disconnect",
        Err(_) => "other",
    }
}

fn flaky(schedule: &str) -> FlakySource<Counting> {
    let schedule = Schedule::parse(schedule).expect("valid schedule");
    FlakySource::new(Counting::default(), schedule).with_timeout(Duration::from_millis(5))
}

/// [`flaky`], opened.
fn opened(schedule: &str) -> FlakySource<Counting> {
    let mut src = flaky(schedule);
    src.open().expect("opens");
    src
}

#[test]
fn frames_follow_the_schedule() {
    let mut src = opened("ok*2,timeout*2,corrupt,disconnect,ok*");
    let got: Vec<&str> = (0..8).map(|_| next(&mut src)).collect();
    assert_eq!(
        got,
        [
            "ok",
            "ok",
            "timeout",
            "timeout",
            "corrupt",
            "disconnect",
            "ok",
            "ok"
        ]
    );
    // Timeouts and disconnects do not touch the wrapped source; corrupt does.
    assert_eq!(src.inner.frames, 5);
    let n = src.injected();
    assert_eq!(n.timeouts.load(Ordering::Relaxed), 2);
    assert_eq!(n.corrupt_frames.load(Ordering::Relaxed), 1);
    assert_eq!(n.disconnects.load(Ordering::Relaxed), 1);
    assert_eq!(n.frames_ok.load(Ordering::Relaxed), 4);
}

#[test]
fn open_failures_hold_until_reopened() {
    let mut src = flaky("ok,open-fail*2,ok*");
    src.open().expect("first open works");
    assert_eq!(next(&mut src), "ok");
    // The device is gone: reads say so, and keep saying so, until re-opened.
    assert_eq!(next(&mut src), "disconnect");
    assert_eq!(next(&mut src), "disconnect");
    src.close();
    assert!(matches!(src.open(), Err(CaptureError::Open { .. })));
    assert!(matches!(src.open(), Err(CaptureError::Open { .. })));
    src.open().expect("third re-open works");
    assert_eq!(next(&mut src), "ok");
    assert_eq!(
        src.inner.opens, 2,
        "failed opens never reach the wrapped source"
    );
    assert_eq!(src.inner.closes, 1);
}

#[test]
fn a_finished_schedule_is_ok_for_ever() {
    let mut src = opened("timeout");
    assert_eq!(next(&mut src), "timeout");
    for _ in 0..5 {
        assert_eq!(next(&mut src), "ok");
    }
}

#[test]
fn repeat_for_ever_never_ends() {
    let mut src = opened("ok,open-fail*");
    assert_eq!(next(&mut src), "ok");
    for _ in 0..50 {
        assert!(src.open().is_err());
    }
}

#[test]
fn zero_counts_are_skipped() {
    let mut src = flaky("open-fail*0,timeout*0,corrupt*1");
    src.open().expect("open-fail*0 fails nothing");
    assert_eq!(next(&mut src), "corrupt");
}

#[test]
fn timeout_takes_real_time() {
    let schedule = Schedule::new().timeout(2);
    let mut src =
        FlakySource::new(Counting::default(), schedule).with_timeout(Duration::from_millis(40));
    src.open().expect("opens");
    let mut rgb = Vec::new();
    let start = Instant::now();
    let r = src.next_frame(&mut rgb);
    assert_eq!(r, Err(CaptureError::Timeout { ms: 40 }));
    assert!(
        start.elapsed() >= Duration::from_millis(40),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn corrupt_frames_keep_the_source_size() {
    let mut src = opened("corrupt");
    let mut rgb = Vec::new();
    match src.next_frame(&mut rgb) {
        Ok(SourceFrame::Jpeg {
            width,
            height,
            data,
        }) => {
            assert_eq!((width, height), (4, 2));
            assert!(matches!(
                jpeg_check::validate(&data),
                Err(CaptureError::Corrupt(_))
            ));
        }
        other => panic!("expected a corrupt JPEG, got {other:?}"),
    }
}

#[test]
fn backend_is_the_wrapped_one() {
    assert_eq!(flaky("ok*").backend(), "counting");
}
