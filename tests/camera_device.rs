//! The real binary against emulated V4L2 cameras (`crates/fake-v4l2`,
//! loaded with `LD_PRELOAD`): the camera code runs unchanged, through
//! `open`, the V4L2 ioctls, `mmap` and `poll`, on a uvcvideo webcam (with
//! its metadata node) or the Raspberry Pi's bcm2835-v4l2, plugged,
//! unplugged and faulted by the test. These follow the README's "Testing
//! on a real camera" steps.

mod common;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::broker::{BrokerKind, BrokerProcess, start_broker};
use common::fake_camera::{FakeCameras, webcam_jpegs};
use common::{BIN, Part, Running, eventually, get, status_json};
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

fn health_is(addr: SocketAddr, event: &str, timeout: Duration) -> Option<Value> {
    eventually(timeout, || {
        let v = status_json(addr);
        (health(&v) == Some(event)).then_some(v)
    })
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

fn list_cameras(cams: &FakeCameras) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(BIN);
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
fn mjpeg_frames_pass_through_byte_identical_without_stale_tails() {
    let cam = Webcam::new("passthrough");
    // Buffers never cleared: a smaller JPEG over a bigger one leaves the
    // bigger one's tail, EOI included, past bytesused.
    cam.cams.plug(0, &cam.config("stale_tail=1\n"));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    let parts = tap.frames(40, Duration::from_secs(15));
    assert_eq!(parts.len(), 40, "40 frames within 15 s");
    for p in &parts {
        assert!(
            cam.is_a_frame(&p.jpeg),
            "part {} ({} bytes) is none of the camera's frames",
            p.seq,
            p.jpeg.len()
        );
    }
    let distinct = cam
        .frames
        .iter()
        .filter(|f| parts.iter().any(|p| &p.jpeg == *f))
        .count();
    assert!(distinct >= 4, "only {distinct} of the 6 frames served");
    let snapshot = get(addr, "/snapshot");
    assert_eq!(snapshot.status, 200);
    assert!(
        cam.is_a_frame(&snapshot.body),
        "/snapshot is no camera frame"
    );
    let v = status_json(addr);
    let c = &v["capture"];
    assert_eq!(c["pixel_format"], "MJPEG", "{c}");
    assert_eq!(c["passthrough"], true, "{c}");
    assert_eq!(
        (c["width"].as_u64(), c["height"].as_u64()),
        (Some(320), Some(240))
    );
}

fn decode(jpeg: &[u8]) -> (usize, usize, Vec<u8>) {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(jpeg, options);
    let rgb = decoder.decode().expect("the snapshot decodes");
    let (w, h) = decoder.dimensions().expect("dimensions");
    (w, h, rgb)
}

/// The snapshot shows the eight bars, at the top, middle and bottom rows
/// (a wrong stride would slant them).
fn assert_bars(addr: SocketAddr, width: usize, height: usize) {
    let snapshot = get(addr, "/snapshot");
    assert_eq!(snapshot.status, 200);
    let (w, h, rgb) = decode(&snapshot.body);
    assert_eq!((w, h), (width, height));
    for y in [height / 8, height / 2, height * 7 / 8] {
        for (bar, want) in BARS.iter().enumerate() {
            let x = bar * width / 8 + width / 16;
            let at = (y * width + x) * 3;
            let got = &rgb[at..at + 3];
            let off = got
                .iter()
                .zip(want)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(
                off <= 24,
                "bar {bar} at ({x}, {y}): got {got:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn yuyv_webcam_shows_the_colour_bars() {
    let cams = FakeCameras::new("yuyv");
    cams.plug(0, "profile=uvc\nformats=YUYV\n");
    let (_service, addr) = Service::start(&cams, &WEBCAM_ARGS);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let v = status_json(addr);
    assert_eq!(v["capture"]["pixel_format"], "YUYV", "{}", v["capture"]);
    assert_bars(addr, W, H);
}

#[test]
fn bcm2835_padded_yuyv_stride_shows_the_colour_bars() {
    let cams = FakeCameras::new("bcm2835");
    // 330 pixels: 660 bytes a row, padded by the driver to 704.
    cams.plug(0, "profile=bcm2835\nformats=YUYV\n");
    let args = [
        "--device",
        "0",
        "--width",
        "330",
        "--height",
        "240",
        "--fps",
        "15",
        "--status-interval",
        "0",
    ];
    let (_service, addr) = Service::start(&cams, &args);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let v = status_json(addr);
    let c = &v["capture"];
    assert_eq!(c["pixel_format"], "YUYV", "{c}");
    assert_eq!(
        (c["width"].as_u64(), c["height"].as_u64()),
        (Some(330), Some(240))
    );
    assert_bars(addr, 330, 240);
}

/// What a viewer and `/status` saw around an unplug and a replug.
struct Replug {
    /// Unplug to health `camera_error`.
    to_error: Option<Duration>,
    snapshot_while_gone: u16,
    no_signal: Option<Part>,
    /// Replug to health `camera_ok`.
    to_ok: Option<Duration>,
    /// A camera frame on the same `/stream` connection after the replug.
    frame_after: Option<Part>,
    /// Every `X-Frame-Seq` of a camera frame seen.
    frame_seqs: Vec<u64>,
    status_after: Value,
}

fn unplug_and_replug(name: &str) -> (Webcam, Replug) {
    let cam = Webcam::new(name);
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    let mut frame_seqs = Vec::new();
    let before = tap.frames(10, Duration::from_secs(10));
    assert_eq!(before.len(), 10, "frames before the unplug");
    frame_seqs.extend(before.iter().map(|p| p.seq));

    cam.cams.unplug(0);
    let unplugged = Instant::now();
    let error = health_is(addr, "camera_error", Duration::from_secs(10));
    let to_error = error.map(|_| unplugged.elapsed());
    let snapshot_while_gone = get(addr, "/snapshot").status;
    let no_signal = tap
        .find(
            Duration::from_secs(10),
            |p| frame_seqs.push(p.seq),
            is_no_signal,
        )
        .map(|(_, p)| p);

    cam.cams.plug(0, &cam.config(""));
    let plugged = Instant::now();
    let to_ok = health_is(addr, "camera_ok", Duration::from_secs(20)).map(|_| plugged.elapsed());
    let frame_after = tap
        .find(Duration::from_secs(20), |_| {}, |p| !is_no_signal(p))
        .map(|(_, p)| p);
    frame_seqs.extend(frame_after.iter().map(|p| p.seq));
    frame_seqs.extend(tap.frames(10, Duration::from_secs(5)).iter().map(|p| p.seq));
    let status_after = status_json(addr);
    let report = Replug {
        to_error,
        snapshot_while_gone,
        no_signal,
        to_ok,
        frame_after,
        frame_seqs,
        status_after,
    };
    (cam, report)
}

#[test]
fn unplugged_camera_is_camera_error_then_streams_again_on_the_same_connection() {
    let (cam, r) = unplug_and_replug("unplug");
    let to_error = r.to_error.expect("health camera_error after the unplug");
    assert!(
        to_error <= Duration::from_secs(4),
        "camera_error after {to_error:?}"
    );
    assert_eq!(r.snapshot_while_gone, 503, "/snapshot with the camera gone");
    assert!(r.no_signal.is_some(), "no \"no signal\" part on /stream");
    assert!(r.to_ok.is_some(), "health camera_ok after the replug");
    let frame = r
        .frame_after
        .expect("a frame on the same /stream after the replug");
    assert!(cam.is_a_frame(&frame.jpeg), "the frame after the replug");
}

#[test]
fn after_recovery_last_error_is_cleared_or_dated() {
    let (_cam, r) = unplug_and_replug("last-error");
    assert!(r.to_ok.is_some(), "no recovery");
    let c = &r.status_after["capture"];
    assert!(
        c["last_error"].is_null() || !c["last_error_at"].is_null(),
        "after recovery last_error is neither cleared nor dated: {c}"
    );
}

#[test]
fn no_signal_parts_carry_no_sequence_number_of_a_camera_frame() {
    let (_cam, r) = unplug_and_replug("no-signal-seq");
    let part = r.no_signal.expect("a \"no signal\" part");
    let seq = tars_camera::stream_client::header(&part.headers, "X-Frame-Seq");
    let is_frames = seq
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|s| r.frame_seqs.contains(&s));
    assert!(
        !is_frames,
        "the no-signal part has X-Frame-Seq {seq:?}, a camera frame's (frames: {:?})",
        r.frame_seqs
    );
}

#[test]
fn camera_plugged_after_start_is_picked_up() {
    let cam = Webcam::new("late-plug");
    let (_service, addr) = cam.start(&[]);
    common::status_after_a_failure(addr, "/dev/video0", Duration::from_secs(10));
    assert_eq!(frames_count(addr), 0);
    cam.cams.plug(0, &cam.config(""));
    assert!(
        frames_flow(addr, Duration::from_secs(15)).is_some(),
        "no frames within 15 s of plugging: {}",
        status_json(addr)["capture"]
    );
    let snapshot = get(addr, "/snapshot");
    assert!(cam.is_a_frame(&snapshot.body));
}

#[test]
fn camera_back_as_another_node_streams_within_a_second() {
    let cam = Webcam::new("renumbered");
    let same = "card=HD Pro Webcam C920\nbus=usb-0000:00:14.0-3\n";
    cam.cams.plug(0, &cam.config(same));
    let (_service, addr) = cam.start(&[]);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    cam.cams.unplug(0);
    assert!(
        health_is(addr, "camera_error", Duration::from_secs(10)).is_some(),
        "no camera_error after the unplug"
    );
    // USB re-enumeration: the same camera comes back as /dev/video2.
    cam.cams.plug(2, &cam.config(same));
    let plugged = Instant::now();
    let back = frames_flow(addr, Duration::from_secs(15)).map(|t| t - plugged);
    let back = back.unwrap_or_else(|| {
        panic!(
            "no frames within 15 s of video2 appearing: {}",
            status_json(addr)["capture"]
        )
    });
    assert!(
        back <= Duration::from_millis(1500),
        "frames again {back:?} after the node appeared"
    );
}

#[test]
fn busy_camera_says_device_busy_and_recovers() {
    let mut failures = Vec::new();
    for at in ["s_fmt", "reqbufs"] {
        let cam = Webcam::new(&format!("busy-{at}"));
        cam.cams.plug(0, &cam.config(&format!("busy={at}\n")));
        let (_service, addr) = cam.start(&[]);
        let v = common::status_after_a_failure(addr, "/dev/video0", Duration::from_secs(10));
        let error = v["capture"]["last_error"].as_str().unwrap_or("").to_owned();
        if !error.contains("device busy") {
            failures.push(format!("busy={at}: last_error {error:?}"));
        }
        cam.cams.set(0, &cam.config(""));
        if frames_flow(addr, Duration::from_secs(15)).is_none() {
            failures.push(format!(
                "busy={at}: no frames 15 s after the camera was free"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn permission_denied_names_the_video_group() {
    let cam = Webcam::new("eacces");
    cam.cams.plug(0, &cam.config("eacces=1\n"));
    let (_service, addr) = cam.start(&[]);
    let v = common::status_after_a_failure(addr, "/dev/video0", Duration::from_secs(10));
    let error = v["capture"]["last_error"].as_str().unwrap_or("");
    assert!(
        error.contains("permission denied (is this user in the 'video' group?)"),
        "{error}"
    );
}

#[test]
fn stalled_camera_is_camera_error_within_4s_then_recovers() {
    let cam = Webcam::new("stall");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    assert_eq!(tap.frames(10, Duration::from_secs(10)).len(), 10);
    cam.cams.set(0, &cam.config("stall=1\n"));
    let stalled = Instant::now();
    // The last camera frame a viewer got, then the "no signal" picture.
    let mut last_frame = stalled;
    let no_signal = tap.find(
        Duration::from_secs(15),
        |p| {
            if !is_no_signal(p) {
                last_frame = Instant::now();
            }
        },
        is_no_signal,
    );
    let error = health_is(addr, "camera_error", Duration::from_secs(10));
    let error_after = error.as_ref().map(|_| last_frame.elapsed());
    let snapshot = get(addr, "/snapshot").status;
    assert!(
        no_signal.is_some(),
        "no \"no signal\" part within 15 s of the stall"
    );
    let error_after = error_after.expect("health camera_error during the stall");
    assert!(
        error_after <= Duration::from_secs(4),
        "camera_error {error_after:?} after the last frame"
    );
    assert_eq!(snapshot, 503, "/snapshot during the stall");

    cam.cams.set(0, &cam.config(""));
    assert!(
        health_is(addr, "camera_ok", Duration::from_secs(20)).is_some(),
        "no camera_ok after the stall ended"
    );
    let again = tap.find(Duration::from_secs(10), |_| {}, |p| !is_no_signal(p));
    assert!(again.is_some_and(|(_, p)| cam.is_a_frame(&p.jpeg)));
}

/// Serves 30 parts from a webcam with `fault`; every one must be exactly
/// one of the camera's good frames.
fn only_good_frames_served(name: &str, fault: &str) {
    let cam = Webcam::new(name);
    cam.cams.plug(0, &cam.config(fault));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    let parts = tap.frames(30, Duration::from_secs(20));
    assert_eq!(parts.len(), 30, "30 frames within 20 s with {fault:?}");
    let bad: Vec<String> = parts
        .iter()
        .filter(|p| !cam.is_a_frame(&p.jpeg))
        .map(|p| {
            format!(
                "seq {}: {} bytes, ends {:02x?}",
                p.seq,
                p.jpeg.len(),
                &p.jpeg[p.jpeg.len().saturating_sub(4)..]
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{fault:?}: served {} bad parts: {bad:#?}",
        bad.len()
    );
}

#[test]
fn zero_padded_frames_are_served_up_to_their_eoi() {
    only_good_frames_served("pad", "pad=1\n");
}

#[test]
fn frames_flagged_as_errors_are_never_served() {
    only_good_frames_served("error-flag", "error_every=2\n");
}

#[test]
fn truncated_frames_are_never_served() {
    only_good_frames_served("truncated", "truncate_every=2\n");
}

#[test]
fn frames_with_a_damaged_scan_are_never_served() {
    only_good_frames_served("damaged", "damage_every=2\n");
}

#[test]
fn fps_30_takes_30_not_29_97_when_both_are_offered() {
    // The webcam offers 1/30 s and 100/2997 s (uvcvideo's 29.97 fps).
    let cam = Webcam::new("fps");
    cam.cams.plug(0, &cam.config(""));
    let (_service, addr) = cam.start(&[]);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let interval = cam.cams.device_state(0, "interval");
    let target = status_json(addr)["capture"]["target_fps"].as_f64();
    assert_eq!(
        (interval.as_deref(), target),
        (Some("1/30"), Some(30.0)),
        "(interval the camera was set to, /status target_fps)"
    );
}

#[test]
fn hd_request_takes_mjpeg_at_30_not_yuyv_at_10() {
    // USB 2 bandwidth: the webcam offers YUYV at 1280x720 only at 10 and 5 fps.
    let cam = Webcam::new("hd");
    cam.cams.plug(0, &cam.config(""));
    let args = ["--width", "1280", "--height", "720"];
    let (_service, addr) = cam.start(&args);
    let streaming = eventually(Duration::from_secs(10), || {
        (cam.cams.device_state(0, "streaming")? == "1").then_some(())
    });
    assert!(streaming.is_some(), "the camera never streamed");
    let state: Vec<Option<String>> = ["fourcc", "width", "height", "interval"]
        .iter()
        .map(|k| cam.cams.device_state(0, k))
        .collect();
    let want = ["MJPG", "1280", "720", "1/30"].map(|v| Some(v.to_owned()));
    assert_eq!(state, want, "what the camera was set to");
    let c = status_json(addr)["capture"].clone();
    assert_eq!(c["pixel_format"], "MJPEG", "{c}");
}
