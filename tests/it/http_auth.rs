//! HTTP authentication through the real binary: who gets in on which
//! endpoint, and the secrets never showing in logs, `/status`, `--help` or
//! error messages.

use crate::common;

use std::time::Duration;

use base64::Engine as _;
use common::{HttpResponse, Running, command, eventually, get, raw_request};

const USER: &str = "tars";
const PASSWORD: &str = "pw-Basic-S3cret";
const TOKEN: &str = "tok-Bearer-S3cret";
const ENDPOINTS: [&str; 5] = ["/", "/stream", "/snapshot", "/status", "/nope"];

/// A request, reading only the status line and headers for `/stream`.
fn request(addr: std::net::SocketAddr, path: &str, authorization: Option<&str>) -> HttpResponse {
    let header = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let head =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{header}\r\n");
    if path.starts_with("/stream") {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        std::io::Write::write_all(&mut s, head.as_bytes()).expect("write");
        let mut reader = std::io::BufReader::new(s);
        let (status, headers) = tars_camera::stream_client::read_head(&mut reader).expect("head");
        return HttpResponse {
            status,
            headers,
            body: Vec::new(),
        };
    }
    raw_request(addr, head.as_bytes())
}

fn basic(user: &str, password: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b64}")
}

fn with_query(path: &str, token: &str) -> String {
    format!("{path}?token={token}")
}

/// What a successful request to `path` answers.
fn expected_ok(path: &str) -> u16 {
    if path == "/nope" { 404 } else { 200 }
}

#[test]
fn every_endpoint_needs_a_secret_once_one_is_set() {
    let mut svc = Running::headless(
        &[
            "--source",
            "test-pattern",
            "--http-auth",
            &format!("{USER}:{PASSWORD}"),
        ],
        &[
            ("CAMERA_HTTP_TOKEN", TOKEN),
            ("MQTT_URL", "mqtt://127.0.0.1:1"),
        ],
    );
    let addr = svc.http_addr();
    eventually(Duration::from_secs(5), || {
        (request(addr, "/snapshot", Some(&format!("Bearer {TOKEN}"))).status == 200).then_some(())
    })
    .expect("first frame");
    let good_basic = basic(USER, PASSWORD);
    let good_bearer = format!("Bearer {TOKEN}");
    for path in ENDPOINTS {
        let want = expected_ok(path);
        // No credentials, and each wrong one: 401 with the challenge.
        let wrong_basic = basic(USER, "pw-Basic-S3cre");
        let wrong_user = basic("root", PASSWORD);
        let wrong_bearer = format!("Bearer {TOKEN}x");
        for (what, r) in [
            ("none", request(addr, path, None)),
            ("wrong password", request(addr, path, Some(&wrong_basic))),
            ("wrong user", request(addr, path, Some(&wrong_user))),
            ("wrong bearer", request(addr, path, Some(&wrong_bearer))),
            (
                "token as basic",
                request(addr, path, Some(&basic(USER, TOKEN))),
            ),
            (
                "wrong ?token=",
                request(addr, &with_query(path, "tok-Bearer-S3creT"), None),
            ),
        ] {
            assert_eq!(r.status, 401, "{path} with {what}");
            assert_eq!(
                r.header("WWW-Authenticate"),
                Some("Basic realm=\"tars-camera\""),
                "{path} with {what}"
            );
        }
        // Each right one: served.
        assert_eq!(
            request(addr, path, Some(&good_basic)).status,
            want,
            "{path} Basic"
        );
        assert_eq!(
            request(addr, path, Some(&good_bearer)).status,
            want,
            "{path} Bearer"
        );
        let q = request(addr, &with_query(path, TOKEN), None);
        assert_eq!(q.status, want, "{path} ?token=");
    }
    // The status is refreshed every 250 ms.
    let v = eventually(Duration::from_secs(3), || {
        let r = request(addr, "/status", Some(&good_bearer));
        let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        (v["stream"]["unauthorized"].as_u64()? >= 30).then_some(v)
    })
    .expect("401s counted");
    assert_eq!(v["stream"]["auth"], "basic+token");
}

#[test]
fn without_secrets_everything_is_open_and_a_network_address_is_warned_about() {
    let mut open = Running::start(
        &[
            "--no-tui",
            "--source",
            "test-pattern",
            "--http-host",
            "0.0.0.0",
            "--http-port",
            "0",
        ],
        &[("MQTT_URL", "mqtt://127.0.0.1:1")],
    );
    let warning = open.wait_line("has no authentication", Duration::from_secs(10));
    assert!(
        warning.contains("--http-auth") && warning.contains("--http-token"),
        "{warning}"
    );
    let port = open.http_addr().port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    for path in ENDPOINTS {
        let want = expected_ok(path);
        let r = eventually(Duration::from_secs(5), || {
            let r = request(addr, path, None);
            (r.status == want).then_some(r)
        });
        assert!(r.is_some(), "{path} open without auth");
    }
    // On loopback, or with a secret set, no warning.
    for (host, envs) in [
        ("127.0.0.1", vec![]),
        ("0.0.0.0", vec![("CAMERA_HTTP_TOKEN", TOKEN)]),
    ] {
        let mut envs = envs;
        envs.push(("MQTT_URL", "mqtt://127.0.0.1:1"));
        let args = ["--no-tui", "--source", "test-pattern", "--http-port", "0"];
        let mut svc = Running::start(&[&args[..], &["--http-host", host]].concat(), &envs);
        svc.http_addr();
        assert!(
            !svc.seen.iter().any(|l| l.contains("has no authentication")),
            "{:?}",
            svc.seen
        );
    }
}

/// The binary with `args` and `envs` exits 2 naming `named` (an option or
/// a variable) and shows neither secret.
fn refused_naming(args: &[&str], envs: &[(&str, &str)], named: &str) {
    let (code, err) = common::run(args, envs);
    assert_eq!(code, Some(2), "{named}");
    assert!(err.contains(named), "{err}");
    assert!(!err.contains(PASSWORD) && !err.contains(TOKEN), "{err}");
}

#[test]
fn the_secrets_never_show_in_logs_status_help_or_errors() {
    let envs = [
        ("CAMERA_HTTP_AUTH", format!("{USER}:{PASSWORD}")),
        ("CAMERA_HTTP_TOKEN", TOKEN.to_owned()),
    ];
    let help = command()
        .arg("--help")
        .envs(envs.iter().map(|(k, v)| (k, v.as_str())))
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(
        help.contains("--http-auth") && help.contains("CAMERA_HTTP_TOKEN"),
        "{help}"
    );
    assert!(!help.contains(PASSWORD) && !help.contains(TOKEN), "{help}");

    for (option, value) in [
        ("--http-auth", format!("no-colon-{PASSWORD}")),
        ("--http-token", format!("with space {TOKEN}")),
    ] {
        refused_naming(&["--no-tui", option, &value], &[], option);
        // The same from the environment: the variable is named, its value not shown.
        let var = if option == "--http-auth" {
            "CAMERA_HTTP_AUTH"
        } else {
            "CAMERA_HTTP_TOKEN"
        };
        refused_naming(&["--no-tui"], &[(var, &value)], var);
    }

    let env_refs: Vec<(&str, &str)> = envs
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain([("MQTT_URL", "mqtt://127.0.0.1:1")])
        .collect();
    let mut svc = Running::headless(
        &["--source", "test-pattern", "--log-level", "debug"],
        &env_refs,
    );
    let addr = svc.http_addr();
    // Failed attempts (logged at debug), a near miss, and a good one.
    assert_eq!(get(addr, "/status").status, 401);
    assert_eq!(
        request(addr, "/status", Some(&basic(USER, "wrong"))).status,
        401
    );
    assert_eq!(
        request(addr, &with_query("/status", "nearly"), None).status,
        401
    );
    let text = eventually(Duration::from_secs(3), || {
        let r = request(addr, "/status", Some(&format!("Bearer {TOKEN}")));
        let text = String::from_utf8_lossy(&r.body).into_owned();
        (r.status == 200 && text.contains("\"unauthorized\": 3")).then_some(text)
    })
    .expect("status with the 401s counted");
    assert!(text.contains("basic+token"), "{text}");
    assert!(!text.contains(PASSWORD) && !text.contains(TOKEN), "{text}");
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(3)).expect("exits");
    while let Ok(line) = svc.lines.recv_timeout(Duration::from_millis(200)) {
        svc.seen.push(line);
    }
    let log = svc.seen.join("\n");
    assert!(
        log.contains("not authorized"),
        "failed attempts are logged: {log}"
    );
    assert!(!log.contains(PASSWORD) && !log.contains(TOKEN), "{log}");
}

/// A request from the loopback address `from` (127.0.0.x).
fn request_from(from: [u8; 4], addr: std::net::SocketAddr, authorization: &str) -> u16 {
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    s.bind(&std::net::SocketAddr::from((from, 0)).into())
        .expect("bind");
    s.connect(&addr.into()).expect("connect");
    let mut s: std::net::TcpStream = s.into();
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let head = format!(
        "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: {authorization}\r\n\r\n"
    );
    std::io::Write::write_all(&mut s, head.as_bytes()).expect("write");
    let mut reader = std::io::BufReader::new(s);
    tars_camera::stream_client::read_head(&mut reader)
        .expect("head")
        .0
}

#[test]
fn guessing_from_one_address_is_refused_for_a_while_and_logged_once() {
    let mut svc = Running::headless(
        &["--source", "test-pattern"],
        &[
            ("CAMERA_HTTP_TOKEN", TOKEN),
            ("MQTT_URL", "mqtt://127.0.0.1:1"),
        ],
    );
    let addr = svc.http_addr();
    let good = format!("Bearer {TOKEN}");
    let guesser = [127, 0, 0, 2];
    let mut statuses = Vec::new();
    let started = std::time::Instant::now();
    for i in 0..100 {
        statuses.push(request_from(guesser, addr, &format!("Bearer guess-{i}")));
    }
    let took = started.elapsed();
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // Locked out: even the right token is not looked at.
    assert_eq!(request_from(guesser, addr, &good), 429);
    // Another address is not affected.
    assert_eq!(request_from([127, 0, 0, 3], addr, &good), 200);
    let events = request(addr, "/events", Some(&good));
    let text = String::from_utf8_lossy(&events.body);
    assert_eq!(
        text.matches("wrong credentials in a row").count(),
        1,
        "logged once per burst: {text}"
    );
    assert!(!text.contains("guess-"), "a guess is never logged");
    let locked = eventually(Duration::from_secs(3), || {
        let r = request(addr, "/status", Some(&good));
        let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        let n = v["stream"]["auth_locked"].as_u64()?;
        (n >= 91).then_some(n)
    });
    eprintln!(
        "100 guesses from one address in {took:?}: 10 checked, then refused (auth_locked {locked:?})"
    );
    assert!(locked.is_some());
}
