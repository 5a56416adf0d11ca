//! Live mode changes on the test pattern through the real binary: size,
//! rate, rotation and flips over HTTP and MQTT with a `/stream` viewer
//! connected, `/modes`, what is refused, and saving the mode.

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::broker::{BrokerKind, Observer, service_ready, start_broker};
use common::{Running, StreamClient, control, eventually, get, jpeg_size, status_json};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

/// Reads `/stream` until a part of `size`; false after 100 parts or 10 s.
fn stream_reaches(viewer: &mut StreamClient, size: (u32, u32)) -> bool {
    let deadline = Instant::now() + WAIT;
    (0..100).any(|_| Instant::now() < deadline && jpeg_size(&viewer.next_part().jpeg) == Some(size))
}

fn pattern(args: &[&str]) -> (Running, SocketAddr) {
    let mut all = vec!["--demo", "--width", "320", "--height", "240", "--fps", "10"];
    all.extend_from_slice(args);
    let mut svc = Running::headless(&all, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

#[test]
fn size_rate_and_orientation_change_under_an_open_stream() {
    let (_svc, addr) = pattern(&[]);
    let mut viewer = StreamClient::connect(addr);
    assert!(stream_reaches(&mut viewer, (320, 240)));

    let (code, reply) = control(addr, r#"{"width":640,"height":480,"fps":15}"#);
    assert_eq!(code, 200, "{reply}");
    assert_eq!(reply["applied"]["mode"]["width"], 640, "{reply}");
    assert_eq!(reply["status"]["max_mqtt_rate"], 15.0, "{reply}");
    assert!(
        stream_reaches(&mut viewer, (640, 480)),
        "the same /stream goes on at 640x480"
    );

    let (code, reply) = control(addr, r#"{"rotation":90,"flip_h":true}"#);
    assert_eq!(code, 200, "{reply}");
    assert!(stream_reaches(&mut viewer, (480, 640)), "turned a quarter");
    // The capture's settings show at once; the encoder's size is that of
    // the last frame encoded, in a later snapshot of /status.
    let s = eventually(WAIT, || {
        let s = status_json(addr);
        let (c, e) = (&s["capture"], &s["encoder"]);
        (c["rotation"] == 90 && c["width"] == 640 && e["width"] == 480 && e["height"] == 640)
            .then_some(s)
    })
    .expect("/status shows the new mode and the turned picture");
    assert_eq!(
        (&s["capture"]["flip_h"], &s["capture"]["target_fps"]),
        (&Value::from(true), &Value::from(15.0))
    );

    let modes: Value = serde_json::from_slice(&get(addr, "/modes").body).expect("JSON");
    assert_eq!(modes["current"]["rotation"], 90, "{modes}");
    assert_eq!(modes["changeable"], true);
    let list = modes["modes"].as_array().expect("modes");
    assert!(
        list.iter()
            .any(|m| m["width"] == 1280 && m["fps"][0] == 60.0),
        "{modes}"
    );
}

#[test]
fn refused_changes_say_why_and_change_nothing() {
    let (_svc, addr) = pattern(&[]);
    let cases = [
        (r#"{"width":640}"#, 400, "height: must come with width"),
        (
            r#"{"rotation":45}"#,
            400,
            "rotation: must be 0, 90, 180 or 270",
        ),
        (
            r#"{"fps":1000}"#,
            400,
            "fps: must be above 0 and at most 240",
        ),
        (r#"{"width":333,"height":222}"#, 400, "333x222: not offered"),
        (
            r#"{"device":"/dev/video1"}"#,
            400,
            "the test pattern has no device",
        ),
        (
            r#"{"fps":5,"controls":{"brightness":10}}"#,
            400,
            "controls and a new size, rate or device cannot be changed in one request",
        ),
    ];
    for (body, code, text) in cases {
        let (got, reply) = control(addr, body);
        let error = reply["error"].as_str().unwrap_or_default();
        assert_eq!(got, code, "{body}: {reply}");
        assert!(error.contains(text), "{body}: {error}");
    }
    let c = status_json(addr)["capture"].clone();
    assert_eq!(
        (&c["width"], &c["target_fps"], &c["rotation"]),
        (&Value::from(320), &Value::from(10.0), &Value::from(0)),
        "{c}"
    );
}

#[test]
fn save_writes_the_mode_asked_and_the_orientation() {
    let dir = common::temp_dir("save-mode");
    let file = common::write(&dir, "camera.toml", b"# bench\nquality = 80\n");
    let file_arg = file.to_str().expect("UTF-8").to_owned();
    let (_svc, addr) = pattern(&["--config", &file_arg]);
    let (code, reply) = control(addr, r#"{"width":1280,"height":720,"fps":5,"flip_v":true}"#);
    assert_eq!(code, 200, "{reply}");
    let (code, reply) = control(addr, r#"{"save":true}"#);
    assert_eq!(code, 200, "{reply}");
    let text = std::fs::read_to_string(&file).expect("the file");
    for line in [
        "width = 1280",
        "height = 720",
        "fps = 5.0",
        "flip_v = true",
        "rotation = 0",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(
        !text.contains("device"),
        "the test pattern has no device:\n{text}"
    );
    assert!(text.starts_with("# bench\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_requests_change_the_mode_too() {
    let broker = start_broker(BrokerKind::Embedded);
    let url = broker.url();
    let (mut svc, addr) = pattern(&["--mqtt-url", &url]);
    svc.wait_line("MQTT control on camera/control", WAIT);
    let mut obs = Observer::connect(broker.port, &["camera/control/result"]).await;
    service_ready(broker.port, "camera").await;
    obs.publish(
        "camera/control",
        br#"{"id":"turn","rotation":180,"width":800,"height":600}"#.to_vec(),
        false,
    )
    .await;
    let result = obs
        .next(WAIT, |m| m.topic == "camera/control/result")
        .await
        .expect("a result");
    let r = result.json();
    assert_eq!(
        (&r["id"], &r["ok"]),
        (&Value::from("turn"), &Value::from(true)),
        "{r}"
    );
    assert_eq!(r["applied"]["mode"]["rotation"], 180, "{r}");
    let c = eventually(WAIT, || {
        let c = status_json(addr)["capture"].clone();
        (c["width"] == 800).then_some(c)
    })
    .expect("/status shows 800x600");
    assert_eq!(c["rotation"], 180);
}
