//! The web console at `/`: the page as served (one small file, nothing from
//! outside), its event stream over a real socket, and, in headless
//! Chromium driven over WebDriver, the page itself: the picture, the live
//! status, changes, and recovery after the service restarts, with a token
//! and with Basic auth.

mod browser;
use crate::common;
mod webdriver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Running, eventually, get, status_json};

fn headless(args: &[&str]) -> (Running, SocketAddr) {
    let mut svc = Running::headless(args, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

#[test]
fn the_page_is_one_small_file_with_nothing_from_outside() {
    let (_svc, addr) = headless(&["--source", "test-pattern"]);
    let r = get(addr, "/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    let csp = r.header("Content-Security-Policy").unwrap_or("");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(r.body.len() < 50 * 1024, "{} bytes", r.body.len());
    let page = String::from_utf8(r.body).expect("UTF-8");
    for outside in ["http://", "https://", "src=\"/", "@import"] {
        assert!(!page.contains(outside), "the page holds {outside:?}");
    }
    // Its one link, the icon, is inline: no request for /favicon.ico.
    let links: Vec<&str> = page.split("<link").skip(1).collect();
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(
        links
            .iter()
            .all(|l| l.starts_with(" rel=\"icon\" href=\"data:image/png;base64,")),
        "{links:?}"
    );
    assert!(page.contains("<script>") && page.contains("<style>"));
    assert!(
        page.contains("name=\"viewport\""),
        "phones need the viewport"
    );
    let head = common::raw_request(
        addr,
        b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

/// An open `/status/events` connection: its head, then events.
struct Watcher {
    reader: BufReader<TcpStream>,
    status: u16,
    content_type: String,
}

impl Watcher {
    fn open(addr: SocketAddr) -> Self {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"GET /status/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("request");
        let mut reader = BufReader::new(s);
        let (status, headers) =
            tars_camera::stream_client::read_head(&mut reader).expect("a response head");
        let content_type = tars_camera::stream_client::header(&headers, "Content-Type")
            .unwrap_or("")
            .to_owned();
        Self {
            reader,
            status,
            content_type,
        }
    }

    /// The next event's name and data.
    fn next(&mut self) -> (String, serde_json::Value) {
        let (mut name, mut data) = (String::new(), String::new());
        for _ in 0..100 {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("an event line");
            assert!(n > 0, "the stream ended");
            let line = line.trim_end_matches('\n');
            if let Some(v) = line.strip_prefix("event: ") {
                name = v.to_owned();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push_str(v);
            } else if line.is_empty() && !name.is_empty() {
                let value = serde_json::from_str(&data).expect("data is JSON");
                return (name, value);
            }
        }
        panic!("no event in 100 lines");
    }
}

#[test]
fn status_events_start_at_once_and_end_cleanly_when_the_service_stops() {
    let dir = common::temp_dir("web-console-events");
    let config = common::write(&dir, "camera.toml", b"# live settings are saved here\n");
    let config = config.to_str().expect("path");
    let (mut svc, addr) = headless(&["--source", "test-pattern", "--config", config]);
    let started = Instant::now();
    let mut watcher = Watcher::open(addr);
    assert_eq!(watcher.status, 200);
    assert_eq!(watcher.content_type, "text/event-stream; charset=utf-8");
    let (name, hello) = watcher.next();
    assert_eq!(name, "hello");
    assert_eq!(hello["control"], true, "a loopback client may control");
    assert_eq!(hello["save"], true, "there is a config file: {hello}");
    assert_eq!(hello["auth"], "off");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let (name, data) = watcher.next();
        if name == "status" {
            assert!(data["capture"]["target_fps"].as_f64().is_some(), "{data}");
        }
        seen.insert(name);
    }
    assert!(
        ["status", "events", "controls"]
            .iter()
            .all(|n| seen.contains(*n)),
        "{seen:?}"
    );
    // At once, not after a first tick (more time under an emulator).
    let bound = Duration::from_secs(if common::under_runner() { 8 } else { 2 });
    assert!(
        started.elapsed() < bound,
        "the first events took {:?}",
        started.elapsed()
    );
    // A status each second.
    let (name, _) = (0..10)
        .map(|_| watcher.next())
        .find(|(n, _)| n == "status")
        .expect("another status");
    assert_eq!(name, "status");
    svc.signal("TERM");
    let mut rest = Vec::new();
    let ended = watcher.reader.read_to_end(&mut rest);
    assert!(
        ended.is_ok(),
        "the stream ends with a clean close: {ended:?}"
    );
    assert!(svc.wait_exit(Duration::from_secs(5)).is_some());
}

#[test]
fn watchers_are_bounded_and_a_closed_one_gives_its_place_back() {
    let (_svc, addr) = headless(&["--source", "test-pattern", "--max-clients", "1"]);
    let mut first = Watcher::open(addr);
    assert_eq!(first.status, 200);
    assert_eq!(first.next().0, "hello");
    let second = Watcher::open(addr);
    assert_eq!(second.status, 503, "one watcher at most");
    // Counted where an operator looks: /status and /metrics.
    let counted = |n: u32| {
        eventually(Duration::from_secs(5), || {
            let metrics = String::from_utf8_lossy(&get(addr, "/metrics").body).into_owned();
            let gauge = metrics
                .lines()
                .find_map(|l| l.strip_prefix("tars_camera_status_watchers "))
                .and_then(|v| v.parse::<f64>().ok());
            (status_json(addr)["stream"]["watchers"] == n && gauge == Some(f64::from(n)))
                .then_some(())
        })
        .is_some()
    };
    assert!(counted(1), "one watcher in /status and /metrics");
    drop(second);
    drop(first);
    assert!(counted(0), "none once it closed");
    let back = eventually(Duration::from_secs(10), || {
        let w = Watcher::open(addr);
        (w.status == 200).then_some(w)
    });
    assert!(
        back.is_some(),
        "the closed watcher's place was not given back"
    );
}

#[test]
#[ignore = "needs chromium-driver; .ci/run runs it"]
fn console_in_chromium_with_a_token() {
    browser::run(browser::Login::Token);
}

#[test]
#[ignore = "needs chromium-driver; .ci/run runs it"]
fn console_in_chromium_with_basic_auth() {
    browser::run(browser::Login::Basic);
}

/// The camera mode picker, rotation and flips: `GET /modes` and the mode
/// keys of `POST /control` (width, height, fps, rotation, flip_h, flip_v).
#[test]
#[ignore = "needs chromium-driver; .ci/run runs it"]
fn console_in_chromium_changes_the_camera_mode() {
    browser::modes();
}
