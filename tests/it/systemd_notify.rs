//! systemd notifications from the real binary, received on a socket the
//! test owns (a Unix datagram socket in a temporary directory, named by
//! `NOTIFY_SOCKET`), with `WATCHDOG_USEC` of one second.

use crate::common;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::Running;

/// The watchdog period the tests ask for, and the ping interval (half).
const WATCHDOG: Duration = Duration::from_secs(1);
const PING: Duration = Duration::from_millis(500);

/// A notification socket in a directory of its own, removed on drop.
struct NotifySocket {
    dir: PathBuf,
    socket: UnixDatagram,
}

impl NotifySocket {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tars-sd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let socket = UnixDatagram::bind(dir.join("notify")).expect("bind notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        Self { dir, socket }
    }

    fn path(&self) -> String {
        self.dir.join("notify").to_string_lossy().into_owned()
    }

    /// Every datagram that arrives within `window`, with its arrival time.
    fn collect(&self, window: Duration) -> Vec<(Instant, String)> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                got.push((
                    Instant::now(),
                    String::from_utf8_lossy(&buf[..n]).into_owned(),
                ));
            }
        }
        got
    }

    /// Wait (bounded) for a datagram containing `needle`.
    fn wait_for(&self, needle: &str, timeout: Duration) -> Vec<(Instant, String)> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                let found = text.contains(needle);
                got.push((Instant::now(), text));
                if found {
                    return got;
                }
            }
        }
        panic!("no {needle:?} within {timeout:?}; got {got:?}");
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(sock: &NotifySocket, schedule: &str) -> Running {
    let path = sock.path();
    let usec = WATCHDOG.as_micros().to_string();
    Running::headless(
        &[
            "--source",
            "test-pattern",
            "--fps",
            "30",
            "--fail-schedule",
            schedule,
        ],
        &[
            ("NOTIFY_SOCKET", path.as_str()),
            ("WATCHDOG_USEC", usec.as_str()),
        ],
    )
}

fn count(got: &[(Instant, String)], needle: &str) -> usize {
    got.iter().filter(|(_, m)| m.contains(needle)).count()
}

#[test]
fn ready_status_watchdog_and_stopping_reach_the_socket() {
    let sock = NotifySocket::new("ok");
    let mut run = start(&sock, "ok*");
    let addr = run.http_addr();
    let got = sock.wait_for("READY=1", Duration::from_secs(10));
    // READY comes once HTTP answers and the first frame is in (/snapshot
    // reads the frame hub: 503 before the first frame).
    assert_eq!(common::get(addr, "/snapshot").status, 200);
    assert_eq!(count(&got, "READY=1"), 1, "{got:?}");
    // Over 4 s: the periodic status line and pings every half period.
    let got = sock.collect(Duration::from_secs(4));
    let statuses: Vec<&String> = got
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.starts_with("STATUS="))
        .collect();
    assert!(!statuses.is_empty(), "{got:?}");
    assert!(statuses[0].contains("fps"), "{statuses:?}");
    assert!(statuses[0].contains("stream client(s)"), "{statuses:?}");
    let pings = count(&got, "WATCHDOG=1");
    assert!(pings >= 4, "{pings} pings in 4 s: {got:?}");
    // The probes that prove HTTP alive are not counted as bad or slow clients.
    let stream = &common::status_json(addr)["stream"];
    assert_eq!(stream["head_timeouts"], 0, "{stream}");
    assert_eq!(stream["bad_requests"], 0, "{stream}");
    run.signal("TERM");
    sock.wait_for("STOPPING=1", Duration::from_secs(5));
    assert!(run.wait_exit(Duration::from_secs(5)).is_some(), "exits");
}

#[test]
fn a_hung_capture_stops_the_watchdog_within_two_intervals() {
    let sock = NotifySocket::new("hang");
    // About 2 s of frames, then a read that never returns.
    let mut run = start(&sock, "ok*60,hang");
    let addr = run.http_addr();
    sock.wait_for("READY=1", Duration::from_secs(10));
    // Watch the frame count (status refreshes every 250 ms) and the pings.
    let mut pings = Vec::new();
    let mut frames = 0;
    let mut frames_changed = Instant::now();
    let end = Instant::now() + Duration::from_secs(7);
    while Instant::now() < end {
        for (at, m) in sock.collect(Duration::from_millis(100)) {
            if m.contains("WATCHDOG=1") {
                pings.push(at);
            }
        }
        let now_frames = common::status_json(addr)["capture"]["frames"]
            .as_u64()
            .unwrap_or(0);
        if now_frames != frames {
            frames = now_frames;
            frames_changed = Instant::now();
        }
    }
    assert!(frames > 0, "frames flowed before the hang");
    assert!(
        frames_changed + Duration::from_secs(3) < end,
        "capture hung (frames last moved {:?} before the end)",
        end - frames_changed
    );
    assert!(!pings.is_empty(), "pings before the hang");
    let last = *pings.last().expect("a ping");
    // Two ping intervals after the hang was seen, plus scheduling slack.
    let limit = frames_changed + 2 * PING + Duration::from_millis(300);
    assert!(
        last <= limit,
        "a ping {:?} after the frames stopped",
        last - frames_changed
    );
    // HTTP still answers: the pings stopped because of the capture thread.
    assert_eq!(common::get(addr, "/status").status, 200);
    run.signal("TERM");
    sock.wait_for("STOPPING=1", Duration::from_secs(5));
    assert!(run.wait_exit(Duration::from_secs(5)).is_some(), "exits");
}
