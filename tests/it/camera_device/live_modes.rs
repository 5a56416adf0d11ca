//! Live mode changes on the emulated webcam: the camera opens again in the
//! new mode while `/stream` viewers stay connected, a mode the camera
//! refuses brings the previous one back, a mode it does not offer is
//! refused before anything is touched, and another device can be chosen.

use std::time::Duration;

use super::common::{control, get, jpeg_size};
use super::*;

/// A YUYV-only webcam (the emulator draws each frame at the mode's size)
/// with these extra lines, and the service on it at 320x240, 30 fps.
fn yuyv_webcam(name: &str, extra: &str) -> (Webcam, Service, SocketAddr) {
    let cam = Webcam::new(name);
    cam.cams
        .plug(0, &cam.config(&format!("formats=YUYV\n{extra}")));
    let (service, addr) = cam.start(&[]);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    (cam, service, addr)
}

#[test]
fn a_new_size_and_rate_reopen_the_camera_and_open_viewers_go_on() {
    let (cam, _service, addr) = yuyv_webcam("mode-change", "");
    let tap = StreamTap::open(addr);
    let (_, first) = tap
        .find(Duration::from_secs(10), |_| {}, |p| !is_no_signal(p))
        .expect("a part");
    assert_eq!(jpeg_size(&first.jpeg), Some((320, 240)));
    // Parts at the old size are still coming when the change is asked.
    std::thread::sleep(Duration::from_millis(300));

    let (code, reply) = control(addr, r#"{"width":640,"height":480,"fps":15}"#);
    assert_eq!(code, 200, "{reply}");
    let mode = &reply["applied"]["mode"];
    assert_eq!(
        (&mode["width"], &mode["height"]),
        (&Value::from(640), &Value::from(480))
    );
    assert_eq!(mode["fps"], 15.0);

    // The same connection: the last old-size part, then the new size, by
    // the time each arrived.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last_old = None;
    let new_at = loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("a 640x480 part on the open /stream within 10 s");
        let (at, part) = tap.parts.recv_timeout(left).expect("the stream goes on");
        match jpeg_size(&part.jpeg) {
            Some((640, 480)) => break at,
            Some((320, 240)) => last_old = Some(at),
            _ => {}
        }
    };
    let gap = new_at.saturating_duration_since(last_old.expect("an old-size part first"));
    eprintln!("mode change gap on /stream: {} ms", gap.as_millis());
    assert!(gap <= Duration::from_secs(1), "gap {gap:?}");
    let state: Vec<Option<String>> = ["width", "height", "interval", "streaming"]
        .iter()
        .map(|k| cam.cams.device_state(0, k))
        .collect();
    let want = ["640", "480", "1/15", "1"].map(|v| Some(v.to_owned()));
    assert_eq!(state, want, "what the camera was set to");
    // The status is refreshed on its own period.
    let c = eventually(Duration::from_secs(5), || {
        let c = status_json(addr)["capture"].clone();
        (c["width"] == 640).then_some(c)
    })
    .expect("/status shows 640x480");
    assert_eq!(c["height"], 480, "{c}");
    assert_eq!(c["target_fps"], 15.0, "{c}");
    let modes: Value = serde_json::from_slice(&get(addr, "/modes").body).expect("JSON");
    assert_eq!(modes["current"]["width"], 640, "{modes}");
    assert_eq!(modes["changeable"], true, "{modes}");
    assert!(
        modes["modes"].as_array().is_some_and(|m| m
            .iter()
            .any(|m| m["width"] == 1280 && m["pixel_format"] == "YUYV")),
        "{modes}"
    );
}

#[test]
fn a_mode_the_camera_refuses_brings_the_previous_one_back() {
    // 10 MB/s: 320x240 YUYV at 30 fps (4.6 MB/s) streams, 640x480 (18.4 MB/s)
    // is refused at STREAMON with ENOSPC, as an xHCI host does.
    let (cam, _service, addr) = yuyv_webcam("mode-refused", "bandwidth=10000000\n");
    let (code, reply) = control(addr, r#"{"width":640,"height":480}"#);
    assert_eq!(code, 409, "{reply}");
    let error = reply["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("the camera refused 640x480 at 30 fps: /dev/video0: ")
            && error.contains("No space left on device")
            && error.contains("back to 320x240 at 30 fps"),
        "{error}"
    );
    assert_eq!(cam.cams.device_state(0, "width").as_deref(), Some("320"));
    // Streaming starts with the first read after the re-open.
    let streaming = eventually(Duration::from_secs(5), || {
        (cam.cams.device_state(0, "streaming").as_deref() == Some("1")).then_some(())
    });
    assert!(streaming.is_some(), "the previous mode streams again");
    assert!(
        frames_flow(addr, Duration::from_secs(5)).is_some(),
        "frames again"
    );
    let c = eventually(Duration::from_secs(5), || {
        let c = status_json(addr)["capture"].clone();
        (c["reopens"].as_u64() >= Some(2)).then_some(c)
    })
    .expect("/status counts the re-opens");
    assert_eq!(
        (&c["width"], &c["health"]),
        (&Value::from(320), &Value::from("ok")),
        "{c}"
    );
}

#[test]
fn a_mode_not_offered_or_a_bad_value_changes_nothing() {
    let (cam, _service, addr) = yuyv_webcam("mode-bad", "");
    let (code, reply) = control(addr, r#"{"width":1000,"height":700}"#);
    assert_eq!(code, 400, "{reply}");
    assert_eq!(
        reply["error"],
        "mode: 1000x700: not offered by the camera (offered: 640x480, 320x240, 1280x720)"
    );
    let (code, reply) = control(addr, r#"{"width":1280,"height":720,"fps":30}"#);
    assert_eq!(code, 400, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or_default()
            .contains("offered: 10 fps, 5 fps"),
        "{reply}"
    );
    let (code, reply) = control(addr, r#"{"rotation":45,"quality":20}"#);
    assert_eq!(code, 400, "{reply}");
    let (code, _) = control(
        addr,
        r#"{"width":640,"height":480,"controls":{"brightness":3}}"#,
    );
    assert_eq!(code, 400);
    assert_eq!(cam.cams.device_state(0, "width").as_deref(), Some("320"));
    let s = status_json(addr);
    assert_eq!(s["capture"]["reopens"], 0, "{s}");
    assert_ne!(s["encoder"]["quality"], 20);
}

#[test]
fn another_device_is_opened_in_place_of_the_first() {
    let cam = Webcam::new("mode-device");
    cam.cams.plug(0, &cam.config("formats=YUYV\n"));
    cam.cams
        .plug(2, &cam.config("formats=YUYV\ncard=Second Camera\n"));
    let (_service, addr) = cam.start(&[]);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let (code, reply) = control(addr, r#"{"device":"/dev/video2"}"#);
    assert_eq!(code, 200, "{reply}");
    let device = reply["applied"]["mode"]["device"]
        .as_str()
        .unwrap_or_default();
    assert!(
        device.starts_with("/dev/video2 (Second Camera)"),
        "{device}"
    );
    assert_eq!(cam.cams.device_state(2, "streaming").as_deref(), Some("1"));
    assert_eq!(cam.cams.device_state(0, "streaming").as_deref(), Some("0"));
    assert!(
        frames_flow(addr, Duration::from_secs(5)).is_some(),
        "frames from video2"
    );
    // A node that is not there: refused, and video2 is opened again.
    let (code, reply) = control(addr, r#"{"device":5}"#);
    assert_eq!(code, 409, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or_default()
            .contains("back to /dev/video2"),
        "{reply}"
    );
    // Streaming starts with the next frame read after the re-open.
    let streaming = eventually(Duration::from_secs(5), || {
        (cam.cams.device_state(2, "streaming").as_deref() == Some("1")).then_some(())
    });
    assert!(streaming.is_some(), "video2 streams again");
}
