//! Recordings for the replay tests, made with the service's own test
//! pattern and encoder (nothing to install), and the service playing them.

use std::path::Path;
use std::time::Duration;

use tars_camera::capture::test_pattern::TestPattern;

use super::{Running, eventually, status_json, write};

/// `n` different frames as JPEGs.
pub fn frames(n: usize, width: u32, height: u32) -> Vec<Vec<u8>> {
    let frames = TestPattern::recording(n, width, height).expect("encode");
    frames.iter().map(|f| f.to_vec()).collect()
}

/// JPEGs back to back, as `ffmpeg -f mjpeg` writes them.
pub fn raw(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

/// The frames as this service's `/stream` sends them.
pub fn multipart(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(
            format!(
                "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Frame-Seq: {}\r\n\r\n",
                f.len(),
                i + 1
            )
            .as_bytes(),
        );
        out.extend_from_slice(f);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The frames as `0001.jpg`, `0002.jpg`, … in `dir`.
pub fn folder(dir: &Path, frames: &[Vec<u8>]) {
    for (i, f) in frames.iter().enumerate() {
        write(dir, &format!("{:04}.jpg", i + 1), f);
    }
}

/// The service playing `path`, with no reachable broker.
pub fn play(path: &Path, extra: &[&str]) -> Running {
    let file = path.to_str().expect("utf-8 path");
    let mut args = vec!["--source", "file", "--file", file];
    // 30 fps and no reachable broker, unless `extra` says otherwise.
    for (flag, value) in [("--fps", "30"), ("--mqtt-url", "mqtt://127.0.0.1:1")] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    Running::headless(&args, &[])
}

/// The status once it reports frames (it is refreshed every 250 ms).
pub fn status_after_frames(addr: std::net::SocketAddr) -> serde_json::Value {
    eventually(Duration::from_secs(5), || {
        let v = status_json(addr);
        (v["capture"]["frames"].as_u64()? > 0).then_some(v)
    })
    .expect("a status with frames")
}
