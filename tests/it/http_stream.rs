//! End-to-end: the real service over real sockets on loopback.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{StreamClient, eventually, get, raw_request, status_json};
use tars_camera::capture::{CaptureError, FrameSource, SourceFrame, SourceInfo};
use tars_camera::service::Service;

/// The service in this process, on its own runtime.
struct InProcess {
    rt: tokio::runtime::Runtime,
    service: Option<Service>,
    addr: SocketAddr,
}

impl InProcess {
    fn start(args: &[&str], source: Option<Box<dyn FrameSource>>) -> Self {
        let mut argv = vec!["--no-tui", "--mqtt-url", "mqtt://127.0.0.1:1"];
        argv.extend_from_slice(args);
        let (config, listener) = common::test_config(&argv);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let service = rt
            .block_on(Service::start_with_source(config, listener, source))
            .expect("start");
        let addr = service.http_addr;
        Self {
            rt,
            service: Some(service),
            addr,
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(s) = self.service.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// A camera that is never there.
struct NeverOpens;

impl FrameSource for NeverOpens {
    fn backend(&self) -> &'static str {
        "none"
    }
    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        Err(CaptureError::Open {
            device: "/dev/video9".into(),
            reason: "no such device".into(),
        })
    }
    fn next_frame(&mut self, _rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        Err(CaptureError::Other("closed".into()))
    }
    fn close(&mut self) {}
}

#[test]
fn stream_parts_are_framed_jpegs_with_rising_sequence() {
    let s = InProcess::start(&["--fps", "30", "--width", "320", "--height", "240"], None);
    let mut client = StreamClient::connect(s.addr);
    assert_eq!(client.status, 200);
    let ct = client
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone());
    assert_eq!(
        ct.as_deref(),
        Some("multipart/x-mixed-replace; boundary=frame")
    );
    let mut last = 0;
    for _ in 0..10 {
        let part = client.next_part();
        assert_eq!(&part.jpeg[..2], &[0xFF, 0xD8], "starts with SOI");
        assert_eq!(
            &part.jpeg[part.jpeg.len() - 2..],
            &[0xFF, 0xD9],
            "ends with EOI"
        );
        assert!(
            part.seq > last,
            "only newer frames: {} after {last}",
            part.seq
        );
        last = part.seq;
    }
}

#[test]
fn a_client_that_never_reads_does_not_slow_another() {
    let s = InProcess::start(&["--fps", "30", "--width", "320", "--height", "240"], None);
    // The stalled client: asks for the stream, then never reads a byte.
    let mut stalled = TcpStream::connect(s.addr).expect("connect");
    stalled
        .write_all(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("write");
    // Let its socket buffers fill.
    std::thread::sleep(Duration::from_millis(1500));
    let mut good = StreamClient::connect(s.addr);
    let first = good.next_part().seq;
    let started = Instant::now();
    let mut received = 1u64;
    let mut last = first;
    while started.elapsed() < Duration::from_secs(3) {
        last = good.next_part().seq;
        received += 1;
    }
    let produced = last - first + 1;
    let share = received as f64 / produced as f64;
    assert!(
        share >= 0.9,
        "second client got {received} of {produced} frames ({share:.2})"
    );
    let fps = status_json(s.addr)["capture"]["measured_fps"]
        .as_f64()
        .expect("fps");
    assert!(
        fps > 20.0,
        "capture kept its pace with a stalled client: {fps} fps"
    );
    drop(stalled);
}

#[test]
fn clients_beyond_the_limit_get_503() {
    let s = InProcess::start(&["--max-clients", "2"], None);
    let mut a = StreamClient::connect(s.addr);
    let mut b = StreamClient::connect(s.addr);
    a.next_part();
    b.next_part();
    let r = get(s.addr, "/stream");
    assert_eq!(r.status, 503);
    assert!(String::from_utf8_lossy(&r.body).contains("max 2"));
    drop(a);
    // The slot frees once the server notices the closed socket (next write).
    let ok = eventually(Duration::from_secs(5), || {
        let mut c = StreamClient::connect(s.addr);
        (c.status == 200).then(|| c.next_part())
    });
    assert!(ok.is_some(), "a slot frees after a client leaves");
}

#[test]
fn snapshot_is_503_before_the_first_frame_then_a_jpeg() {
    let dead = InProcess::start(&[], Some(Box::new(NeverOpens)));
    let r = get(dead.addr, "/snapshot");
    assert_eq!(r.status, 503);
    // First "no frame yet", then, once the failure is known, why.
    let reason = eventually(Duration::from_secs(3), || {
        let body = String::from_utf8_lossy(&get(dead.addr, "/snapshot").body).into_owned();
        body.starts_with("no signal: ").then_some(body)
    })
    .expect("no signal reported");
    assert!(reason.contains("/dev/video9"), "{reason}");
    common::status_after_a_failure(dead.addr, "/dev/video9", Duration::from_secs(3));

    let live = InProcess::start(&[], None);
    let r = eventually(Duration::from_secs(3), || {
        let r = get(live.addr, "/snapshot");
        (r.status == 200).then_some(r)
    })
    .expect("snapshot");
    assert_eq!(r.header("Content-Type"), Some("image/jpeg"));
    assert_eq!(&r.body[..2], &[0xFF, 0xD8]);
}

#[test]
fn status_reports_what_was_measured() {
    let s = InProcess::start(
        &[
            "--fps",
            "20",
            "--width",
            "320",
            "--height",
            "240",
            "--rotation",
            "90",
            "--quality",
            "70",
        ],
        None,
    );
    let v = eventually(Duration::from_secs(5), || {
        let v = status_json(s.addr);
        (v["capture"]["measured_fps"].as_f64()? > 10.0).then_some(v)
    })
    .expect("fps measured");
    assert_eq!(v["capture"]["source"], "test-pattern");
    assert_eq!(v["capture"]["width"], 320);
    assert_eq!(v["encoder"]["width"], 240, "rotated picture is 240 wide");
    assert_eq!(v["encoder"]["height"], 320);
    assert_eq!(v["encoder"]["quality"], 70);
    assert!(v["capture"]["target_fps"].as_f64() == Some(20.0));
    assert!(v["encoder"]["jpeg_bytes"].as_u64().expect("size") > 1000);
    for key in ["stream", "mqtt"] {
        assert!(v[key].is_object(), "{key} section");
    }
}

#[test]
fn head_404_405_and_malformed_requests() {
    let s = InProcess::start(&[], None);
    eventually(Duration::from_secs(3), || {
        (get(s.addr, "/snapshot").status == 200).then_some(())
    })
    .expect("frame");
    let r = raw_request(
        s.addr,
        b"HEAD /snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert!(
        r.header("Content-Length")
            .and_then(|v| v.parse::<u64>().ok())
            .expect("length")
            > 0
    );
    assert!(r.body.is_empty());
    let r = raw_request(
        s.addr,
        b"HEAD /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(s.addr, "/nope").status, 404);
    let r = raw_request(
        s.addr,
        b"POST /snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    // Garbage gets a 4xx, and the server carries on.
    let mut raw = TcpStream::connect(s.addr).expect("connect");
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    raw.write_all(b"\x16\x03\x01 GARBAGE \x00\r\n\r\n")
        .expect("write");
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply);
    let head = String::from_utf8_lossy(&reply);
    assert!(
        head.starts_with("HTTP/1.1 4"),
        "malformed request gets a 4xx, got {head:?}"
    );
    assert_eq!(get(s.addr, "/snapshot").status, 200, "server still serves");
    assert_eq!(
        get(s.addr, "/status?pretty=1").status,
        200,
        "query strings are ignored"
    );
}
