//! Footage made by ffmpeg (not by this crate) played as a camera: as raw
//! MJPEG, as a folder of JPEGs, and as a multipart capture of this service's
//! own `/stream`. Needs `ffmpeg`: ignored by `cargo test`, run by `.ci/run`.

use crate::common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::clips;
use common::{eventually, get, status_json};

/// `ffmpeg -f FORMAT -i INPUT OPTIONS… OUTPUT`, quiet, overwriting; whether
/// it succeeded.
fn ffmpeg(format: &str, input: impl AsRef<OsStr>, options: &[&str], output: &Path) -> bool {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            format,
            "-i",
        ])
        .arg(input)
        .args(options)
        .arg(output)
        .status()
        .expect("ffmpeg is installed (.ci/run installs it)")
        .success()
}

/// ffmpeg's test source as raw MJPEG, and the same JPEGs split by ffmpeg
/// itself into a folder (stream copy: the bytes are untouched).
fn ffmpeg_clip(dir: &Path) -> (PathBuf, PathBuf, Vec<Vec<u8>>) {
    let clip = dir.join("clip.mjpeg");
    let ok = ffmpeg(
        "lavfi",
        "testsrc=size=320x240:rate=15",
        &["-frames:v", "30", "-q:v", "5", "-f", "mjpeg"],
        &clip,
    );
    assert!(ok, "ffmpeg made the clip");
    let folder = dir.join("frames");
    std::fs::create_dir_all(&folder).expect("dir");
    let ok = ffmpeg(
        "mjpeg",
        &clip,
        &["-c", "copy", "-f", "image2"],
        &folder.join("%04d.jpg"),
    );
    assert!(ok, "ffmpeg split the clip");
    let mut names: Vec<_> = std::fs::read_dir(&folder)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    let frames: Vec<Vec<u8>> = names
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    assert_eq!(frames.len(), 30, "ffmpeg wrote 30 frames");
    (clip, folder, frames)
}

/// Snapshots until `want` distinct frames were seen; each must be one of `frames`.
fn snapshots_are_recorded_frames(addr: SocketAddr, frames: &[Vec<u8>], want: usize) {
    let mut seen = std::collections::BTreeSet::new();
    eventually(Duration::from_secs(10), || {
        let r = get(addr, "/snapshot");
        if r.status == 200 {
            let i = frames.iter().position(|f| *f == r.body);
            assert!(i.is_some(), "/snapshot is not one of ffmpeg's frames");
            seen.extend(i);
        }
        (seen.len() >= want).then_some(())
    })
    .unwrap_or_else(|| panic!("only {seen:?} seen"));
}

/// What `curl -s http://addr/stream --max-time SECS > file` saves: the body
/// of the multipart response for `secs`, cut wherever the time ends.
fn capture_stream(addr: SocketAddr, secs: f64) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("request");
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut all = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let body = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    all.split_off(body + 4)
}

#[test]
#[ignore = "needs ffmpeg; run by .ci/run"]
fn ffmpeg_footage_plays_as_raw_mjpeg_as_a_folder_and_as_a_capture_of_stream() {
    let dir = common::temp_dir("ffmpeg");
    let (clip, folder, frames) = ffmpeg_clip(&dir);

    for path in [&clip, &folder] {
        let mut svc = clips::play(path, &[]);
        let addr = svc.http_addr();
        snapshots_are_recorded_frames(addr, &frames, 5);
        let status = clips::status_after_frames(addr);
        assert_eq!(status["capture"]["passthrough"], true, "{status}");
        assert_eq!(status["capture"]["width"], 320);
        assert_eq!(status["capture"]["height"], 240);
        assert_eq!(status["capture"]["total_failures"], 0, "{status}");
        if path == &clip {
            // Record our own /stream of it, as docs/replay.md says to.
            let mut capture = capture_stream(addr, 2.0);
            // However the time cut it, end it inside its last frame.
            let last = capture
                .windows(3)
                .rposition(|w| w == [0xFF, 0xD8, 0xFF])
                .expect("frames captured");
            capture.truncate(last + 200);
            let saved = common::write(&dir, "capture.mjpeg", &capture);
            svc.signal("TERM");
            svc.wait_exit(Duration::from_secs(3)).expect("exits");
            play_capture(&saved, &frames);
        } else {
            svc.signal("TERM");
            svc.wait_exit(Duration::from_secs(3)).expect("exits");
        }
    }
}

/// The saved `/stream` plays once: every whole part, byte-identical, and
/// the cut part dropped and counted.
fn play_capture(saved: &Path, frames: &[Vec<u8>]) {
    let file = std::fs::File::open(saved).expect("open");
    let mut parts = tars_camera::capture::file::StreamFrames::new(file, 1 << 25);
    let mut whole = 0u64;
    let mut cut = 0;
    for _ in 0..10_000 {
        match parts.next_frame() {
            Ok(Some(jpeg)) => {
                assert!(frames.iter().any(|f| f.as_slice() == jpeg.as_ref()));
                whole += 1;
            }
            Ok(None) => break,
            Err(_) => cut += 1,
        }
    }
    assert!(whole >= 10, "{whole} parts in 2 s at 30 fps");
    assert_eq!(cut, 1, "the last part is cut");
    let mut svc = clips::play(saved, &["--loop", "false", "--fps", "60"]);
    let addr = svc.http_addr();
    let status = eventually(Duration::from_secs(15), || {
        let v = status_json(addr);
        (v["capture"]["last_error"]
            .as_str()?
            .contains("end of the recording"))
        .then_some(v)
    })
    .expect("the capture ends");
    assert_eq!(status["capture"]["frames"], whole, "{status}");
    assert!(
        status["capture"]["total_failures"].as_u64() >= Some(2),
        "the cut part and the end: {status}"
    );
    svc.wait_line("ends inside a frame", Duration::from_secs(2));
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(3)).expect("exits");
}
