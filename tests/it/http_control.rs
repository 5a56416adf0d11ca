//! `POST /control` through the real binary: who may, every bad body, all or
//! nothing, and the change showing in `/status`.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use common::{HttpResponse, Running, eventually, get, post, status_json};
use serde_json::Value;

fn json(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body));
    })
}

/// The quality, rate and pause `/status` shows.
fn settings(addr: SocketAddr) -> (u64, f64, bool) {
    let s = status_json(addr);
    (
        s["encoder"]["quality"].as_u64().expect("quality"),
        s["mqtt"]["rate_hz"].as_f64().expect("rate"),
        s["mqtt"]["paused"].as_bool().expect("paused"),
    )
}

fn demo(args: &[&str]) -> (Running, SocketAddr) {
    let mut all = vec![
        "--demo",
        "--fps",
        "10",
        "--quality",
        "80",
        "--mqtt-rate",
        "2",
    ];
    all.extend_from_slice(args);
    let mut svc = Running::headless(&all, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

#[test]
fn loopback_client_changes_the_service_and_status_shows_it() {
    let (_svc, addr) = demo(&[]);
    let r = post(
        addr,
        "/control",
        r#"{"quality":55,"mqtt_rate":50,"paused":true}"#,
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let body = json(&r);
    assert_eq!(body["ok"], true);
    assert_eq!(body["applied"]["quality"], 55);
    // Capped at the fps, as the keys are.
    assert_eq!(body["applied"]["mqtt_rate"], 10.0);
    assert_eq!(body["applied"]["paused"], true);
    assert_eq!(body["status"]["quality"], 55);
    assert_eq!(body["status"]["paused"], true);
    let shown = eventually(Duration::from_secs(3), || {
        let s = settings(addr);
        (s == (55, 10.0, true)).then_some(s)
    });
    assert!(shown.is_some(), "status still {:?}", settings(addr));

    // A snapshot is saved as `s` does, and its path reported.
    let r = post(
        addr,
        "/control",
        r#"{"snapshot":true,"paused":false}"#,
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body = json(&r);
    let path = body["applied"]["snapshot"]
        .as_str()
        .expect("path")
        .to_owned();
    let saved = std::fs::read(&path).expect("snapshot file");
    assert_eq!(&saved[..2], &[0xFF, 0xD8], "a JPEG");
    let _ = std::fs::remove_file(&path);
    assert_eq!(body["status"]["last_saved"], path.as_str());
    assert_eq!(body["status"]["paused"], false);
}

#[test]
fn snapshots_go_to_the_snapshot_dir_and_only_the_newest_are_kept() {
    let dir = common::temp_dir("snapshot-dir");
    let dir_arg = dir.to_str().expect("UTF-8").to_owned();
    let mut svc = Running::headless(&["--demo", "--fps", "30", "--snapshot-dir", &dir_arg], &[]);
    let addr = svc.http_addr();
    eventually(Duration::from_secs(5), || {
        (common::get(addr, "/snapshot").status == 200).then_some(())
    })
    .expect("frames flow");
    // One file per frame: saving the same frame again rewrites its file.
    let mut saved = std::collections::BTreeSet::new();
    for i in 0..200 {
        if saved.len() == 105 {
            break;
        }
        let r = post(addr, "/control", r#"{"snapshot":true}"#, None);
        assert_eq!(
            r.status,
            200,
            "snapshot {i}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let path = json(&r)["applied"]["snapshot"]
            .as_str()
            .expect("path")
            .to_owned();
        assert!(path.starts_with(&dir_arg), "{path} is in {dir_arg}");
        saved.insert(path);
        std::thread::sleep(Duration::from_millis(40));
    }
    assert_eq!(saved.len(), 105, "105 frames saved");
    let kept: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok()?.path().to_str().map(str::to_owned))
        .collect();
    let newest: std::collections::BTreeSet<String> = saved.iter().skip(5).cloned().collect();
    assert_eq!(kept, newest, "the newest 100 are kept");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The test pattern's software controls: listed, set like a camera's, and
/// seen in the picture (no saturation: grey).
#[test]
fn the_test_pattern_takes_brightness_contrast_and_saturation() {
    let (_svc, addr) = demo(&[]);
    let names = eventually(Duration::from_secs(3), || {
        let listed: serde_json::Value =
            serde_json::from_slice(&common::get(addr, "/controls").body).ok()?;
        let names: Vec<String> = listed["controls"]
            .as_array()?
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect();
        (!names.is_empty()).then_some(names)
    });
    assert_eq!(
        names.expect("controls listed"),
        ["brightness", "contrast", "saturation"]
    );
    let r = post(addr, "/control", r#"{"controls":{"saturation":0}}"#, None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let grey = eventually(Duration::from_secs(5), || {
        let jpeg = common::get(addr, "/snapshot").body;
        let rgb = zune_jpeg::JpegDecoder::new(&jpeg).decode().ok()?;
        let colour = rgb
            .chunks_exact(3)
            .map(|p| p.iter().max().unwrap_or(&0) - p.iter().min().unwrap_or(&0))
            .max()?;
        (colour <= 12).then_some(colour)
    });
    assert!(grey.is_some(), "the picture turned grey");
    let r = post(addr, "/control", r#"{"controls":{"contrast":201}}"#, None);
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("contrast: must be 0 to 200 (got 201)"));
}

/// `{"save": true}` writes the live settings into the `--config` file,
/// keeping its comments; without one it answers with the TOML to copy.
#[test]
fn save_writes_the_live_settings_into_the_config_file() {
    let dir = common::temp_dir("save");
    let file = common::write(
        &dir,
        "camera.toml",
        b"# the bench camera
source = \"test-pattern\" # no camera here
quality = 80
",
    );
    let file_arg = file.to_str().expect("UTF-8").to_owned();
    let mut svc = Running::headless(&["--demo", "--fps", "10", "--config", &file_arg], &[]);
    let addr = svc.http_addr();
    eventually(Duration::from_secs(3), || {
        (common::get(addr, "/controls").body.len() > 40).then_some(())
    })
    .expect("controls listed");
    let r = post(
        addr,
        "/control",
        r#"{"quality": 55, "controls": {"saturation": 30}, "save": true}"#,
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(json(&r)["applied"]["save"], file_arg.as_str());
    let text = std::fs::read_to_string(&file).expect("the file");
    assert!(
        text.starts_with(
            "# the bench camera\nsource = \"test-pattern\" # no camera here\nquality = 55\n"
        ),
        "{text}"
    );
    assert!(text.contains("[controls]\nsaturation = 30\n"), "{text}");
    drop(svc);

    let (_svc, addr) = demo(&[]);
    let r = post(addr, "/control", r#"{"quality": 40, "save": true}"#, None);
    let body = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 409, "{body}");
    assert!(
        body.contains("--config FILE") && body.contains("quality = 80"),
        "{body}"
    );
    let quality = eventually(Duration::from_secs(3), || {
        let q = settings(addr).0;
        (q != 0).then_some(q)
    });
    assert_eq!(quality, Some(80), "nothing changed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_bad_body_is_400_and_changes_nothing() {
    let (_svc, addr) = demo(&[]);
    let before = eventually(Duration::from_secs(3), || {
        let s = settings(addr);
        (s.0 == 80).then_some(s)
    })
    .expect("status up");
    let cases = [
        (r#"{"quality":101}"#, "quality: must be 1 to 100 (got 101)"),
        (r#"{"quality":40,"mqtt_rate":-1}"#, "mqtt_rate: must be"),
        (
            r#"{"paused":true,"quality":0}"#,
            "quality: must be 1 to 100 (got 0)",
        ),
        (
            r#"{"quality":40,"paused":"yes"}"#,
            "paused: must be true or false",
        ),
        (r#"{"quality":40,"colour":"red"}"#, "colour: unknown key"),
        (r#"{"quality":40,"id":"x"}"#, "id: unknown key"),
        (r#"{"snapshot":1}"#, "snapshot: must be true or false"),
        (r#"{"reconnect":"now"}"#, "reconnect: must be true or false"),
        ("{}", "nothing to do"),
        ("[]", "the body must be a JSON object"),
        ("quality=40", "invalid JSON"),
        (r#"{"quality":40"#, "invalid JSON"),
        ("", "invalid JSON"),
    ];
    for (body, expected) in cases {
        let r = post(addr, "/control", body, None);
        assert_eq!(r.status, 400, "{body}");
        let answer = json(&r);
        assert_eq!(answer["ok"], false, "{body}");
        let error = answer["error"].as_str().expect("error");
        assert!(error.starts_with(expected), "{body}: {error}");
    }
    // Let a status refresh pass: nothing changed.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(settings(addr), before);
}

#[test]
fn get_is_405_and_events_serves_log_lines() {
    let (_svc, addr) = demo(&[]);
    let r = get(addr, "/control");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("POST"));
    post(addr, "/control", r#"{"quality":61}"#, None);
    let line = eventually(Duration::from_secs(3), || {
        let events = json(&get(addr, "/events"));
        events["lines"]
            .as_array()?
            .iter()
            .filter_map(|l| l["text"].as_str())
            .find(|t| t.contains("JPEG quality 61"))
            .map(str::to_owned)
    });
    assert!(line.is_some(), "no log line for the change on /events");
    let events = json(&get(addr, "/events"));
    assert!(events["generation"].as_u64().expect("generation") > 0);
}

#[test]
fn with_auth_only_authenticated_clients_control() {
    let (_svc, addr) = demo(&["--http-token", "tok-1", "--http-auth", "op:pw-2"]);
    let body = r#"{"quality":42}"#;
    assert_eq!(post(addr, "/control", body, None).status, 401);
    assert_eq!(
        post(addr, "/control", body, Some("Bearer wrong")).status,
        401
    );
    let r = post(addr, "/control", body, Some("Bearer tok-1"));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let basic = base64::engine::general_purpose::STANDARD.encode("op:pw-2");
    let r = post(
        addr,
        "/control",
        r#"{"quality":43}"#,
        Some(&format!("Basic {basic}")),
    );
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["status"]["quality"], 43);
    let r = post(addr, "/control?token=tok-1", r#"{"quality":44}"#, None);
    assert_eq!(r.status, 200);
}

/// A non-loopback address of this machine, if it has one.
fn outside_ip() -> Option<std::net::IpAddr> {
    // The address the kernel would use to reach a documentation address:
    // connecting a UDP socket sends nothing.
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.200:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn without_auth_other_hosts_get_403_saying_how_to_allow_it() {
    let Some(ip) = outside_ip() else {
        eprintln!("no non-loopback address on this machine: only the unit test covers 403");
        return;
    };
    let mut svc = Running::start(
        &[
            "--no-tui",
            "--demo",
            "--http-host",
            "0.0.0.0",
            "--http-port",
            "0",
        ],
        &[],
    );
    let line = svc.wait_line("HTTP on http://", Duration::from_secs(10));
    let port: u16 = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|host_port| host_port.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    let far = SocketAddr::new(ip, port);
    let r = post(far, "/control", r#"{"quality":30}"#, None);
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    let error = json(&r)["error"].as_str().expect("error").to_owned();
    assert!(
        error.contains("--http-auth") && error.contains("--http-token"),
        "{error}"
    );
    // Reading stays open to the network; loopback may still control.
    assert_eq!(get(far, "/status").status, 200);
    let near = SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(
        post(near, "/control", r#"{"quality":30}"#, None).status,
        200
    );
}

#[test]
fn a_rate_too_small_to_schedule_is_refused_and_frames_keep_flowing() {
    let (_svc, addr) = demo(&[]);
    let published = || status_json(addr)["mqtt"]["frames_published"].as_u64();
    // Frames go out once the link is up (slow to come under an emulator).
    eventually(Duration::from_secs(15), || {
        (status_json(addr)["mqtt"]["state"] == "connected").then_some(())
    })
    .expect("connected to the embedded broker");
    for body in [r#"{"mqtt_rate":1e-300}"#, r#"{"mqtt_rate":0.005}"#] {
        let r = post(addr, "/control", body, None);
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        let error = json(&r)["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains("0 (off) or 0.01 to the fps"), "{error}");
    }
    // The lowest rate is taken, and frames still flow at a normal one.
    let r = post(addr, "/control", r#"{"mqtt_rate":0.01}"#, None);
    assert_eq!(json(&r)["applied"]["mqtt_rate"], 0.01);
    let r = post(addr, "/control", r#"{"mqtt_rate":5}"#, None);
    assert_eq!(r.status, 200);
    let before = published().unwrap_or(0);
    let flowing = eventually(Duration::from_secs(10), || {
        published().filter(|n| *n >= before + 3)
    });
    assert!(flowing.is_some(), "no MQTT frames after the refusals");
}
