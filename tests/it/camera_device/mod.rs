//! The real binary against emulated V4L2 cameras (`crates/fake-v4l2`,
//! loaded with `LD_PRELOAD`): the camera code runs unchanged, through
//! `open`, the V4L2 ioctls, `mmap` and `poll`, on a uvcvideo webcam (with
//! its metadata node) or the Raspberry Pi's bcm2835-v4l2, plugged,
//! unplugged and faulted by the test. These follow the checks of a real
//! camera in docs/cameras.md, "Tested against emulated cameras".
//!
//! Modules by area: [`listing`] `list-cameras`; [`pictures`] what reaches
//! `/stream` and `/snapshot` (passthrough, raw formats, damaged frames);
//! [`recovery`] unplug, replug, stall, busy and permission errors;
//! [`modes`] the mode and rate chosen; [`live_modes`] mode changes while
//! running; [`emulator`] the emulator itself
//! against the kernel's rules.

use crate::common;

mod controls;
mod emulator;
mod listing;
mod live_modes;
mod modes;
mod pictures;
mod recovery;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::broker::{BrokerKind, BrokerProcess, start_broker};
use common::fake_camera::{FakeCameras, webcam_jpegs};
use common::{Part, Running, eventually, status_json};
use serde_json::Value;

const W: usize = 320;
const H: usize = 240;
const WEBCAM_ARGS: [&str; 10] = [
    "--device",
    "0",
    "--width",
    "320",
    "--height",
    "240",
    "--fps",
    "30",
    "--status-interval",
    "0",
];

/// The eight colour bars the emulated raw formats show, left to right.
const BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// A webcam with test frames: the cameras, the frames, and the `frames=` line.
struct Webcam {
    cams: FakeCameras,
    frames: Vec<Vec<u8>>,
    frames_line: String,
}

impl Webcam {
    fn new(name: &str) -> Self {
        let cams = FakeCameras::new(name);
        let frames = webcam_jpegs(6, W, H);
        let dir = cams.frames("frames", &frames);
        let frames_line = format!("frames={}\n", dir.display());
        Self {
            cams,
            frames,
            frames_line,
        }
    }

    /// The node file of a uvc webcam with these extra lines.
    fn config(&self, extra: &str) -> String {
        format!("profile=uvc\n{}{extra}", self.frames_line)
    }

    fn is_a_frame(&self, jpeg: &[u8]) -> bool {
        self.frames.iter().any(|f| f.as_slice() == jpeg)
    }

    fn start(&self, extra_args: &[&str]) -> (Service, SocketAddr) {
        // 320x240 at 30 fps unless `extra_args` ask another size.
        let mut args: Vec<&str> = if extra_args.contains(&"--width") {
            WEBCAM_ARGS
                .chunks(2)
                .filter(|kv| kv[0] != "--width" && kv[0] != "--height")
                .flatten()
                .copied()
                .collect()
        } else {
            WEBCAM_ARGS.to_vec()
        };
        args.extend_from_slice(extra_args);
        Service::start(&self.cams, &args)
    }
}

/// The binary under test and the MQTT broker it reports health to (the
/// health in `/status` is the health last published).
struct Service {
    _running: Running,
    _broker: BrokerProcess,
}

impl Service {
    fn start(cams: &FakeCameras, args: &[&str]) -> (Self, SocketAddr) {
        let broker = start_broker(BrokerKind::Embedded);
        let url = broker.url();
        let mut all = vec!["--mqtt-url", url.as_str()];
        all.extend_from_slice(args);
        let mut running = Running::headless(&all, &cams.env());
        let addr = running.http_addr();
        (
            Self {
                _running: running,
                _broker: broker,
            },
            addr,
        )
    }
}

fn health(v: &Value) -> Option<&str> {
    v["mqtt"]["health"]["event"].as_str()
}

fn frames_count(addr: SocketAddr) -> u64 {
    status_json(addr)["capture"]["frames"].as_u64().unwrap_or(0)
}

/// Waits until the service publishes new frames; returns when.
fn frames_flow(addr: SocketAddr, timeout: Duration) -> Option<Instant> {
    let before = frames_count(addr);
    eventually(timeout, || {
        (frames_count(addr) >= before + 3).then(Instant::now)
    })
}

/// Waits for the health `event` on MQTT; `/status` `capture.health` (which
/// needs no broker) must say the same by then.
fn health_is(addr: SocketAddr, event: &str, timeout: Duration) -> Option<Value> {
    let v = eventually(timeout, || {
        let v = status_json(addr);
        (health(&v) == Some(event)).then_some(v)
    })?;
    let capture = if event == "camera_ok" { "ok" } else { event };
    assert_eq!(v["capture"]["health"], capture, "{v}");
    Some(v)
}

fn is_no_signal(part: &Part) -> bool {
    part.headers.iter().any(|(k, _)| k == "X-No-Signal")
}

/// `/stream` read on its own thread: every part with the time it arrived.
struct StreamTap {
    parts: mpsc::Receiver<(Instant, Part)>,
}

impl StreamTap {
    fn open(addr: SocketAddr) -> Self {
        let mut client =
            tars_camera::stream_client::StreamClient::connect(addr, "", Duration::from_secs(60))
                .expect("GET /stream");
        assert_eq!(client.status, 200);
        let (tx, parts) = mpsc::channel();
        std::thread::spawn(move || {
            while let Ok(part) = client.next_part() {
                if tx.send((Instant::now(), part)).is_err() {
                    break;
                }
            }
        });
        Self { parts }
    }

    /// The next part matching `want` within `timeout`; parts before it are
    /// handed to `seen`.
    fn find(
        &self,
        timeout: Duration,
        mut seen: impl FnMut(&Part),
        want: impl Fn(&Part) -> bool,
    ) -> Option<(Instant, Part)> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let (at, part) = self.parts.recv_timeout(left).ok()?;
            if want(&part) {
                return Some((at, part));
            }
            seen(&part);
        }
    }

    /// The next `n` parts that are frames (not "no signal"), within `timeout`.
    fn frames(&self, n: usize, timeout: Duration) -> Vec<Part> {
        let mut out = Vec::new();
        let deadline = Instant::now() + timeout;
        while out.len() < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            match self.parts.recv_timeout(left) {
                Ok((_, part)) if !is_no_signal(&part) => out.push(part),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        out
    }
}
