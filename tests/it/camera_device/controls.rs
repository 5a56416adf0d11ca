//! The camera's own controls through the service: listed, set over HTTP
//! and MQTT, refused by name, put back when the driver refuses one, kept
//! across a replug, and set from the command line at open.

use std::time::Duration;

use super::common::broker::{Observer, service_ready};
use super::common::{eventually, get, post};
use super::*;

/// The control `name` as `GET /controls` shows it.
fn control(addr: SocketAddr, name: &str) -> Option<Value> {
    let r = get(addr, "/controls");
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    v["controls"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
}

/// What the emulated driver holds for control `name`.
fn held(cam: &Webcam, name: &str) -> Option<String> {
    cam.cams.device_state(0, name)
}

fn controls_body(json: &str) -> String {
    format!(r#"{{"controls": {json}}}"#)
}

fn wait_held(cam: &Webcam, name: &str, value: &str) -> bool {
    eventually(Duration::from_secs(5), || {
        (held(cam, name).as_deref() == Some(value)).then_some(())
    })
    .is_some()
}

#[test]
fn list_cameras_prints_the_controls_with_values_and_flags() {
    let cam = Webcam::new("ctl-list");
    cam.cams.plug(0, &cam.config(""));
    let out = common::command()
        .arg("list-cameras")
        .envs(cam.cams.env())
        .output()
        .expect("list-cameras");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("controls (--control NAME=VALUE):"), "{text}");
    assert!(
        text.contains("auto_exposure                menu = Aperture Priority Mode"),
        "{text}"
    );
    let exposure = text
        .lines()
        .find(|l| l.trim_start().starts_with("exposure_time_absolute"))
        .expect("exposure_time_absolute listed");
    assert!(exposure.ends_with("(inactive)"), "{exposure}");
}

#[test]
fn http_sets_controls_by_name_and_the_driver_holds_them() {
    let cam = Webcam::new("ctl-http");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    let listed = eventually(Duration::from_secs(10), || control(addr, "brightness"))
        .expect("GET /controls lists brightness");
    assert_eq!(
        (
            &listed["type"],
            &listed["min"],
            &listed["max"],
            &listed["default"]
        ),
        (
            &Value::from("integer"),
            &Value::from(0),
            &Value::from(255),
            &Value::from(128)
        )
    );
    let menu = control(addr, "power_line_frequency").expect("a menu");
    assert_eq!(menu["menu"][1]["name"], "50 Hz");
    assert_eq!(
        control(addr, "exposure_time_absolute").expect("listed")["inactive"],
        true
    );
    // Manual exposure needs auto exposure off first: one request does both.
    let r = post(
        addr,
        "/control",
        &controls_body(
            r#"{"exposure_time_absolute": 100, "auto_exposure": "manual", "brightness": 90, "power_line_frequency": 1}"#,
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body: Value = serde_json::from_slice(&r.body).expect("JSON");
    assert_eq!(body["applied"]["controls"]["auto_exposure"], "Manual Mode");
    assert_eq!(body["applied"]["controls"]["power_line_frequency"], "50 Hz");
    for (name, value) in [
        ("brightness", "90"),
        ("auto_exposure", "1"),
        ("exposure_time_absolute", "100"),
        ("power_line_frequency", "1"),
    ] {
        assert!(
            wait_held(&cam, name, value),
            "{name}: driver holds {:?}",
            held(&cam, name)
        );
    }
    let shown = eventually(Duration::from_secs(5), || {
        let c = control(addr, "exposure_time_absolute")?;
        (c["inactive"] == false && c["value"] == 100).then_some(())
    });
    assert!(shown.is_some(), "GET /controls shows the change");
}

#[test]
fn bad_requests_name_the_control_and_change_nothing() {
    let cam = Webcam::new("ctl-bad");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    eventually(Duration::from_secs(10), || control(addr, "brightness")).expect("listed");
    let cases = [
        (
            r#"{"colour": 1}"#,
            400,
            "colour: unknown control (this camera has: brightness",
        ),
        (
            r#"{"brightness": 300}"#,
            400,
            "brightness: must be 0 to 255 (got 300)",
        ),
        (
            r#"{"contrast": 10, "brightness": 300}"#,
            400,
            "brightness: must be 0 to 255",
        ),
        (
            r#"{"auto_exposure": "sport"}"#,
            400,
            "auto_exposure: must be one of Manual Mode (1), Aperture Priority Mode (3)",
        ),
        (
            r#"{"exposure_time_absolute": 100}"#,
            400,
            "inactive while auto_exposure is automatic",
        ),
        (
            r#"{"focus_automatic_continuous": false, "focus_absolute": 7}"#,
            400,
            "focus_absolute: must be 0 to 250 in steps of 5",
        ),
        (
            r#"{"brightness": [1]}"#,
            400,
            "controls: each value must be",
        ),
    ];
    for (json, code, expected) in cases {
        let r = post(addr, "/control", &controls_body(json), None);
        let text = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, code, "{json}: {text}");
        assert!(text.contains(expected), "{json}: {text}");
    }
    assert_eq!(
        held(&cam, "contrast").as_deref(),
        Some("128"),
        "nothing written"
    );
    assert_eq!(held(&cam, "brightness").as_deref(), Some("128"));
    assert_eq!(
        held(&cam, "focus_automatic_continuous").as_deref(),
        Some("1")
    );
}

#[test]
fn a_driver_refusal_puts_back_what_was_written_and_says_why() {
    let cam = Webcam::new("ctl-refused");
    cam.cams
        .plug(0, &cam.config("control_fail=brightness:EIO\n"));
    let (_service, addr) = cam.start(&[]);
    eventually(Duration::from_secs(10), || control(addr, "brightness")).expect("listed");
    // Written in order: contrast takes, brightness fails, contrast goes back.
    let r = post(
        addr,
        "/control",
        &controls_body(r#"{"contrast": 10, "brightness": 20}"#),
        None,
    );
    let text = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 409, "{text}");
    assert!(
        text.contains("brightness: the driver refused it: Input/output error"),
        "{text}"
    );
    assert_eq!(
        held(&cam, "contrast").as_deref(),
        Some("128"),
        "contrast put back"
    );
    assert_eq!(held(&cam, "brightness").as_deref(), Some("128"));
}

#[test]
fn controls_are_set_again_after_a_replug_and_from_the_command_line() {
    let cam = Webcam::new("ctl-replug");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[
        "--control",
        "auto_exposure=manual",
        "--control",
        "exposure_time_absolute=300",
    ]);
    assert!(
        wait_held(&cam, "exposure_time_absolute", "300"),
        "set at open"
    );
    let r = post(
        addr,
        "/control",
        &controls_body(r#"{"brightness": 77}"#),
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(wait_held(&cam, "brightness", "77"));
    cam.cams.unplug(0);
    assert!(health_is(addr, "camera_error", Duration::from_secs(10)).is_some());
    // A replugged camera starts from its defaults; the service sets them again.
    cam.cams.plug(0, &cam.config(""));
    assert!(health_is(addr, "camera_ok", Duration::from_secs(10)).is_some());
    for (name, value) in [
        ("brightness", "77"),
        ("auto_exposure", "1"),
        ("exposure_time_absolute", "300"),
    ] {
        assert!(
            wait_held(&cam, name, value),
            "{name} after the replug: {:?}",
            held(&cam, name)
        );
    }
}

#[test]
fn mqtt_control_sets_controls_and_reports_the_result() {
    let cam = Webcam::new("ctl-mqtt");
    cam.cams.plug(0, &cam.config(""));
    let broker = start_broker(BrokerKind::Embedded);
    let url = broker.url();
    let mut args = WEBCAM_ARGS.to_vec();
    args.extend_from_slice(&["--mqtt-url", url.as_str()]);
    let mut running = Running::headless(&args, &cam.cams.env());
    let addr = running.http_addr();
    eventually(Duration::from_secs(10), || control(addr, "saturation")).expect("listed");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let result = rt.block_on(async {
        let mut obs = Observer::connect(broker.port, &["camera/control/result"]).await;
        service_ready(broker.port, "camera").await;
        obs.publish(
            "camera/control",
            r#"{"id": "c1", "controls": {"saturation": 40, "white_balance_automatic": false}}"#,
            false,
        )
        .await;
        obs.next(Duration::from_secs(10), |m| {
            m.topic == "camera/control/result"
        })
        .await
        .map(|m| m.json())
    });
    let result = result.expect("a result");
    assert_eq!(result["ok"], true, "{result}");
    assert!(wait_held(&cam, "saturation", "40"));
    assert!(wait_held(&cam, "white_balance_automatic", "0"));
}

#[test]
fn an_integer_menu_control_shows_the_value_the_driver_holds() {
    // bcm2835-v4l2's ISO: an integer menu (0, 100000 … 800000) whose value
    // the V4L2 library cannot read by itself.
    let cams = FakeCameras::new("ctl-intmenu");
    cams.plug(0, "profile=bcm2835\nformats=YUYV\n");
    let args = [
        "--device", "0", "--width", "320", "--height", "240", "--fps", "15",
    ];
    let (_service, addr) = Service::start(&cams, &args);
    let iso = eventually(Duration::from_secs(10), || control(addr, "iso_sensitivity"))
        .expect("GET /controls lists iso_sensitivity");
    assert_eq!(
        (&iso["type"], &iso["value"]),
        (&Value::from("integer_menu"), &Value::from(0)),
        "{iso}"
    );
    let r = post(
        addr,
        "/control",
        &controls_body(r#"{"iso_sensitivity_auto": "manual", "iso_sensitivity": "400000"}"#),
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        cams.device_state(0, "iso_sensitivity").as_deref(),
        Some("3")
    );
    let shown = eventually(Duration::from_secs(5), || {
        control(addr, "iso_sensitivity").filter(|c| c["value"] == 3)
    });
    assert!(shown.is_some(), "the value read back from the driver");
}
