//! Opening and reading errors, without a camera.
use super::errors::{EBUSY, ENODEV, ENXIO, ESHUTDOWN};
use super::*;
use std::time::Instant;

#[test]
fn missing_device_fails_fast_with_open() {
    // /dev/video250 does not exist here (nor on any normal machine).
    let mut cam = CameraSource::new(250, 640, 480, 30);
    let start = Instant::now();
    match cam.open() {
        Err(CaptureError::Open { device, reason }) => {
            assert_eq!(device, "/dev/video250");
            assert!(reason.contains("no such device"), "{reason}");
        }
        other => panic!("expected Open, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_millis(100));
    // Reading without an open device is an error, not a hang.
    assert!(matches!(
        cam.next_frame(&mut Vec::new()),
        Err(CaptureError::Other(_))
    ));
    cam.close();
    cam.close();
    assert_eq!(cam.backend(), "v4l2");
}

#[test]
fn a_non_camera_file_is_refused() {
    // Opening something that is not a V4L2 node fails with Open, no panic.
    let mut cam = CameraSource::new(0, 640, 480, 30);
    cam.path = "/dev/null".to_string();
    assert!(matches!(cam.open(), Err(CaptureError::Open { .. })));
}

#[test]
fn read_errors_map_to_capture_errors() {
    let timed_out = io::Error::new(io::ErrorKind::TimedOut, "VIDIOC_DQBUF");
    let mut none = None;
    assert_eq!(
        stream_error("/dev/video0", &timed_out, 2000, &mut none),
        CaptureError::Timeout { ms: 2000 }
    );
    for errno in [ENODEV, ENXIO, ESHUTDOWN] {
        let gone = io::Error::from_raw_os_error(errno);
        assert!(matches!(
            stream_error("/dev/video0", &gone, 2000, &mut none),
            CaptureError::Disconnected(_)
        ));
    }
    let busy = io::Error::from_raw_os_error(EBUSY);
    match stream_error("/dev/video0", &busy, 2000, &mut none) {
        CaptureError::Open { reason, .. } => {
            assert!(reason.contains("device busy"), "{reason}")
        }
        other => panic!("expected Open, got {other:?}"),
    }
    let other = io::Error::from_raw_os_error(22); // EINVAL
    assert!(matches!(
        stream_error("/dev/video0", &other, 2000, &mut none),
        CaptureError::Other(_)
    ));
}
