//! Which nodes are cameras: `tars-camera list-cameras`, and `--device` on a
//! node that is not one.

use std::time::Duration;

use super::common::command;
use super::common::fake_camera::FakeCameras;

fn list_cameras(cams: &FakeCameras) -> (Option<i32>, String) {
    let mut cmd = command();
    cmd.arg("list-cameras");
    for (k, v) in cams.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("list-cameras");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn list_cameras_shows_capture_devices_not_the_metadata_node() {
    let cams = FakeCameras::new("list");
    let (code, text) = list_cameras(&cams);
    assert_eq!(code, Some(0));
    assert!(text.starts_with("no camera found"), "{text}");

    cams.plug(
        0,
        "profile=uvc\ncard=HD Pro Webcam C920\nbus=usb-0000:00:14.0-3\n",
    );
    cams.plug(
        1,
        "profile=uvc-meta\ncard=HD Pro Webcam C920\nbus=usb-0000:00:14.0-3\n",
    );
    cams.plug(2, "profile=bcm2835\n");
    cams.plug(4, "profile=uvc\neacces=1\n");
    let (code, text) = list_cameras(&cams);
    assert_eq!(code, Some(0));
    let webcam = "\
/dev/video0  HD Pro Webcam C920  (uvcvideo, usb-0000:00:14.0-3)  --device 0
  MJPG  Motion-JPEG
        1280x720    30, 29.97, 15 fps
        640x480     30, 29.97, 15 fps
        320x240     30, 29.97, 15 fps
  YUYV  YUYV 4:2:2
        640x480     30, 29.97, 15 fps
        320x240     30, 29.97, 15 fps
        1280x720    10, 5 fps
";
    assert!(text.starts_with(webcam), "{text}");
    assert!(
        !text.contains("/dev/video1"),
        "metadata node listed:\n{text}"
    );
    for line in [
        "/dev/video2  mmal service 16.1  (bcm2835 mmal, platform:bcm2835-v4l2-0)  --device 2",
        "  YUYV  YUYV 4:2:2\n        32x32 to 2592x1944 (step 2x2) 1 to 90 fps",
        "  MJPG  Motion-JPEG\n        32x32 to 2592x1944 (step 2x2) 1 to 90 fps",
        "  H264  H.264  (not usable by tars-camera)",
        "/dev/video4  ?  --device 4\n  cannot inspect: permission denied (is this user in the 'video' group?)",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
}

#[test]
fn the_metadata_node_is_not_opened_as_a_camera() {
    let cams = FakeCameras::new("meta-open");
    cams.plug(1, "profile=uvc-meta\ncard=HD Pro Webcam C920\n");
    let (_service, addr) = super::Service::start(&cams, &["--device", "1"]);
    let v = super::common::status_after_a_failure(addr, "/dev/video1", Duration::from_secs(10));
    let error = v["capture"]["last_error"].as_str().unwrap_or("");
    assert!(
        error.contains("'HD Pro Webcam C920' (uvcvideo) is not a video capture device"),
        "{error}"
    );
    assert_eq!(v["capture"]["frames"], 0);
    assert_eq!(
        cams.device_state(1, "streaming"),
        None,
        "the metadata node was set up"
    );
}
