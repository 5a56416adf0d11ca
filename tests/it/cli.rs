//! The real binary: exit status 2 for bad input, precedence of flag > env >
//! file > default, and a clean exit on SIGINT/SIGTERM.

use crate::common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Running, command, eventually, status_json};

#[test]
fn bad_options_exit_2_naming_the_option() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["--quality", "0"], &[], "--quality: must be 1 to 100"),
        (&["--quality", "101"], &[], "--quality"),
        (&["--fps", "0"], &[], "--fps"),
        (&["--mqtt-rate", "-2"], &[], "--mqtt-rate"),
        (&["--mqtt-rate", "lots"], &[], "--mqtt-rate"),
        (
            &["--mqtt-rate", "1e-300"],
            &[],
            "--mqtt-rate: must be 0 (off) or 0.01 to the fps",
        ),
        (
            &[],
            &[("CAMERA_MQTT_RATE", "0.001")],
            "CAMERA_MQTT_RATE=0.001: must be 0 (off) or 0.01",
        ),
        (&["--width", "0"], &[], "--width"),
        (
            &["--snapshot-dir", "/nonexistent/snapshots"],
            &[],
            "--snapshot-dir: /nonexistent/snapshots is not an existing folder",
        ),
        (
            &["--source", "webcam"],
            &[],
            "--source: must be camera, test-pattern or file",
        ),
        (&["--mqtt-url", "http://x"], &[], "--mqtt-url"),
        (
            &["--broker-port", "1884"],
            &[],
            "--broker-port: is the embedded broker's port: only with --demo",
        ),
        (
            &["--demo", "--broker-port", "70000"],
            &[],
            "--broker-port: must be 0 to 65535",
        ),
        (
            &[],
            &[("CAMERA_QUALITY", "0")],
            "CAMERA_QUALITY=0: must be 1 to 100",
        ),
        (&[], &[("CAMERA_FPS", "zero")], "CAMERA_FPS=zero"),
        (&[], &[("CAMERA_FPS", "zero")], "--fps"),
    ];
    for (args, envs, needle) in cases {
        let (code, err) = common::run(args, envs);
        assert_eq!(code, Some(2), "{args:?} {envs:?}: {err}");
        assert!(err.contains(needle), "{args:?} {envs:?}: {err}");
        assert!(
            err.lines().filter(|l| !l.trim().is_empty()).count() <= 4,
            "short message: {err}"
        );
    }
}

#[test]
fn a_broken_config_file_exits_2_with_line_and_column() {
    let dir = common::temp_dir("cli-bad-config");
    let file = common::write(&dir, "bad.toml", b"fps = 10\nquality = [\n");
    let (code, err) = common::run(&["--config", file.to_str().expect("utf8")], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad.toml: line 2, column"), "{err}");
    let (code, err) = common::run(&["--config", "/nonexistent/x.toml"], &[]);
    assert_eq!(code, Some(2), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the binary with `args` and then a port that is taken; its exit
/// code, stderr and the port.
fn run_on_a_taken_port(args: &[&str]) -> (Option<i32>, String, String) {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let mut all = args.to_vec();
    all.push(&port);
    let (code, err) = common::run(&all, &[]);
    (code, err, port)
}

#[test]
fn an_http_port_in_use_exits_2() {
    let (code, err, _) = run_on_a_taken_port(&[
        "--demo",
        "--no-tui",
        "--http-host",
        "127.0.0.1",
        "--http-port",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--http-port") && err.contains("already in use"),
        "{err}"
    );
}

#[test]
fn demo_runs_its_broker_on_the_port_asked() {
    let free = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let mut svc = Running::headless(&["--demo", "--broker-port", &port.to_string()], &[]);
    let addr = svc.http_addr();
    let broker = eventually(Duration::from_secs(10), || {
        let s = status_json(addr);
        (s["mqtt"]["state"] == "connected").then(|| s["mqtt"]["embedded_broker"].clone())
    })
    .expect("connected to the embedded broker");
    assert_eq!(broker, format!("127.0.0.1:{port}"));
    drop(svc);
    // Taken: said so, naming the option.
    let (code, err, port) =
        run_on_a_taken_port(&["--demo", "--no-tui", "--http-port", "0", "--broker-port"]);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!("--broker-port {port}")) && err.contains("already in use"),
        "{err}"
    );
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let dir = common::temp_dir("cli-precedence");
    let file = common::write(
        &dir,
        "camera.toml",
        b"quality = 50\nfps = 12\nwidth = 200\nheight = 100\n",
    );
    let mut svc = Running::headless(
        &[
            "--config",
            file.to_str().expect("utf8"),
            "--source",
            "test-pattern",
            "--mqtt-url",
            "mqtt://127.0.0.1:1",
            "--width",
            "160",
        ],
        &[("CAMERA_QUALITY", "70"), ("CAMERA_WIDTH", "320")],
    );
    let addr = svc.http_addr();
    let v = eventually(Duration::from_secs(5), || {
        let v = status_json(addr);
        (v["capture"]["width"].as_u64()? > 0).then_some(v)
    })
    .expect("status");
    assert_eq!(v["capture"]["width"], 160, "flag beats env");
    assert_eq!(v["encoder"]["quality"], 70, "env beats file");
    assert_eq!(v["capture"]["target_fps"], 12.0, "file beats default");
    assert_eq!(v["capture"]["height"], 100, "file value used");
    assert_eq!(v["stream"]["max_clients"], 16, "default");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigterm_and_sigint_stop_within_2_s_with_status_0() {
    for signal in ["TERM", "INT"] {
        let mut svc = Running::headless(
            &["--demo", "--mqtt-url", "mqtt://127.0.0.1:1", "--fps", "30"],
            &[],
        );
        let addr = svc.http_addr();
        // A stream client is connected while we stop: it must not hold us up.
        let mut client = common::StreamClient::connect(addr);
        client.next_part();
        let sent = Instant::now();
        svc.signal(signal);
        let status = svc.wait_exit(Duration::from_secs(5)).expect("exited");
        let took = sent.elapsed();
        assert!(status.success(), "SIG{signal}: {status:?}");
        assert!(took < Duration::from_secs(2), "SIG{signal} took {took:?}");
    }
}

/// A `systemctl stop` right after `start`: the signal comes while the
/// service is still starting (its first line is out, nothing runs yet).
/// It is held until the service runs, which then stops cleanly.
#[test]
fn a_signal_while_starting_stops_cleanly_with_status_0() {
    let mut svc = Running::headless(
        &[
            "--source",
            "test-pattern",
            "--mqtt-url",
            "mqtt://127.0.0.1:1",
        ],
        &[],
    );
    svc.wait_line("JPEG encoder", common::patience(Duration::from_secs(10)));
    svc.signal("TERM");
    let status = svc
        .wait_exit(common::patience(Duration::from_secs(5)))
        .expect("exited");
    assert!(status.success(), "{status:?}");
    svc.wait_line("SIGTERM: stopping", Duration::from_secs(1));
}

#[test]
fn list_cameras_without_a_camera_says_so_and_exits_0() {
    let out = command().arg("list-cameras").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    // This machine has no /dev/video*; on one that has, the table lists them.
    let has_devices = std::fs::read_dir("/dev")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("video"))
        })
        .unwrap_or(false);
    if !has_devices {
        assert!(text.contains("no camera found"), "{text}");
    }
}

#[test]
fn a_missing_camera_is_retried_with_backoff_and_the_service_keeps_serving() {
    let mut svc = Running::headless(
        &[
            "--source",
            "camera",
            "--device",
            "/dev/video250",
            "--mqtt-url",
            "mqtt://127.0.0.1:1",
        ],
        &[],
    );
    let addr = svc.http_addr();
    // The open failure is counted.
    common::status_after_a_failure(addr, "/dev/video250", Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(3));
    let later = status_json(addr);
    // Backoff 0.5 s, 1 s, 2 s…: a handful of attempts in ~3 s, not a busy loop.
    let failures = later["capture"]["total_failures"].as_u64().expect("count");
    assert!(
        (2..=6).contains(&failures),
        "{failures} open attempts in ~3 s"
    );
    assert_eq!(common::get(addr, "/snapshot").status, 503);
    svc.signal("TERM");
    assert!(
        svc.wait_exit(Duration::from_secs(3))
            .expect("exits")
            .success()
    );
}

#[test]
fn the_mqtt_password_never_shows_in_logs_or_status() {
    let mut svc = Running::headless(
        &[
            "--source",
            "test-pattern",
            "--mqtt-url",
            "mqtt://tars:hunter2secret@127.0.0.1:1",
            "--log-level",
            "debug",
        ],
        &[],
    );
    let addr = svc.http_addr();
    let status = eventually(Duration::from_secs(5), || {
        let r = common::get(addr, "/status");
        let text = String::from_utf8_lossy(&r.body).into_owned();
        text.contains("waiting").then_some(text)
    })
    .expect("status while the broker is unreachable");
    assert!(!status.contains("hunter2secret"), "{status}");
    assert!(status.contains("tars"), "the user name is shown: {status}");
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(3)).expect("exits");
    // Everything it logged (debug level, including connection errors).
    while let Ok(line) = svc.lines.recv_timeout(Duration::from_millis(200)) {
        svc.seen.push(line);
    }
    let log = svc.seen.join("\n");
    assert!(log.contains("127.0.0.1:1") || log.contains("MQTT"), "{log}");
    assert!(!log.contains("hunter2secret"), "{log}");
}

#[test]
fn headless_logs_a_status_line_every_status_interval() {
    let mut svc = Running::headless(
        &[
            "--demo",
            "--status-interval",
            "300ms",
            "--mqtt-url",
            "mqtt://127.0.0.1:1",
            "--width",
            "160",
            "--height",
            "120",
        ],
        &[],
    );
    let line = svc.wait_line("capture 160x120", Duration::from_secs(5));
    assert!(
        line.contains("fps") && line.contains("stream") && line.contains("mqtt"),
        "{line}"
    );
    svc.signal("TERM");
    assert!(
        svc.wait_exit(Duration::from_secs(3))
            .expect("exits")
            .success()
    );
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let out = common::command()
        .arg("--help")
        .env("MQTT_URL", "mqtt://robot:SECRET-PW@broker:1883")
        .env("CAMERA_HTTP_TOKEN", "SECRET-TOKEN")
        .env("CAMERA_HTTP_AUTH", "robot:SECRET-AUTH")
        .output()
        .expect("run --help");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("MQTT_URL"), "{help}");
    assert!(!help.contains("SECRET"), "{help}");
}

/// True if `line` holds an RFC 3339 time such as `2026-01-02T03:04:05`.
fn has_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.windows(11).any(|w| {
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        digits(0..4) && w[4] == b'-' && digits(5..7) && w[7] == b'-' && w[10] == b'T'
    })
}

#[test]
fn under_systemd_log_lines_carry_their_priority_and_no_time() {
    // The ignored --file is a warning at start; the start lines are info.
    let args = [
        "--source",
        "test-pattern",
        "--file",
        "/nonexistent/clip.mjpeg",
    ];
    let mut plain = Running::headless(&args, &[("JOURNAL_STREAM", "")]);
    plain.http_addr();
    assert!(
        plain.seen.iter().any(|l| has_timestamp(l)),
        "without JOURNAL_STREAM lines are timed: {:?}",
        plain.seen
    );
    let mut svc = Running::headless(&args, &[("JOURNAL_STREAM", "1:1")]);
    let warning = svc.wait_line("is ignored", Duration::from_secs(10));
    assert!(warning.starts_with("<4>"), "{warning}");
    let http = svc.wait_line("HTTP on http://", Duration::from_secs(10));
    assert!(http.starts_with("<6>"), "{http}");
    for line in &svc.seen {
        assert!(!has_timestamp(line), "journald adds the time: {line}");
        assert!(
            !line.contains('\u{1b}'),
            "no colour for the journal: {line:?}"
        );
        let priority = line.strip_prefix('<').and_then(|l| l.split_once('>'));
        assert!(
            matches!(priority, Some(("3" | "4" | "6" | "7", _))),
            "every line has its priority: {line}"
        );
    }
    svc.signal("TERM");
    assert!(svc.wait_exit(Duration::from_secs(3)).is_some());
}

/// The service headless with stderr on a terminal (`script` gives it a
/// pty), until its HTTP line: everything it printed there.
fn on_a_terminal(envs: &[(&str, &str)]) -> String {
    use std::io::Read as _;
    let exe = common::exe().display().to_string();
    let line = format!(
        "{exe} --no-tui --source test-pattern --http-host 127.0.0.1 --http-port 0 \
         --mqtt-url mqtt://127.0.0.1:1"
    );
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("JOURNAL_STREAM")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("script (util-linux) runs");
    let mut out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while !text.contains("HTTP on") {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        match rx.recv_timeout(left) {
            Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("HTTP on"), "no HTTP line: {text}");
    text
}

#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let coloured = on_a_terminal(&[]);
    assert!(
        coloured.contains('\u{1b}'),
        "a terminal gets colour: {coloured:?}"
    );
    let plain = on_a_terminal(&[("NO_COLOR", "1")]);
    assert!(!plain.contains('\u{1b}'), "NO_COLOR: {plain:?}");
}
