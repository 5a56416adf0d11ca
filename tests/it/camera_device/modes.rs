//! The mode and frame rate the service sets on the camera.

use std::time::Duration;

use super::common::{eventually, status_json};
use super::*;

#[test]
fn fps_30_takes_30_not_29_97_when_both_are_offered() {
    // The webcam offers 1/30 s and 100/2997 s (uvcvideo's 29.97 fps).
    let cam = Webcam::new("fps");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let interval = cam.cams.device_state(0, "interval");
    let target = status_json(addr)["capture"]["target_fps"].as_f64();
    assert_eq!(
        (interval.as_deref(), target),
        (Some("1/30"), Some(30.0)),
        "(interval the camera was set to, /status target_fps)"
    );
}

#[test]
fn hd_request_takes_mjpeg_at_30_not_yuyv_at_10() {
    // USB 2 bandwidth: the webcam offers YUYV at 1280x720 only at 10 and 5 fps.
    let cam = Webcam::new("hd");
    cam.cams.plug(0, &cam.config(""));
    let args = ["--width", "1280", "--height", "720"];
    let (_service, addr) = cam.start(&args);
    let streaming = eventually(Duration::from_secs(10), || {
        (cam.cams.device_state(0, "streaming")? == "1").then_some(())
    });
    assert!(streaming.is_some(), "the camera never streamed");
    let state: Vec<Option<String>> = ["fourcc", "width", "height", "interval"]
        .iter()
        .map(|k| cam.cams.device_state(0, k))
        .collect();
    let want = ["MJPG", "1280", "720", "1/30"].map(|v| Some(v.to_owned()));
    assert_eq!(state, want, "what the camera was set to");
    // The status follows the first frame, which may come after the stream
    // starts.
    let format = eventually(Duration::from_secs(10), || {
        let c = status_json(addr)["capture"].clone();
        (c["pixel_format"] != "").then_some(c)
    });
    let c = format.expect("the status never named the pixel format");
    assert_eq!(c["pixel_format"], "MJPEG", "{c}");
}
