//! Recordings for the replay tests, made with the service's own test
//! pattern and encoder (nothing to install).

use std::path::{Path, PathBuf};

use tars_camera::capture::FrameSource;
use tars_camera::capture::test_pattern::{Clock, TestPattern};
use tars_camera::encode::JpegEncoder;

/// `n` different frames as JPEGs.
pub fn frames(n: usize, width: u32, height: u32) -> Vec<Vec<u8>> {
    let mut pattern = TestPattern::new(width, height, 30.0, Clock::FromFrameCount);
    pattern.open().expect("pattern");
    let mut encoder = JpegEncoder::new();
    let mut rgb = Vec::new();
    (0..n)
        .map(|_| {
            pattern.next_frame(&mut rgb).expect("frame");
            encoder
                .encode_rgb(&rgb, width, height, 80)
                .expect("encode")
                .to_vec()
        })
        .collect()
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

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tars-replay-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Write `data` to `dir/name`.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write");
    path
}

/// The frames as `0001.jpg`, `0002.jpg`, … in `dir`.
pub fn folder(dir: &Path, frames: &[Vec<u8>]) {
    for (i, f) in frames.iter().enumerate() {
        write(dir, &format!("{:04}.jpg", i + 1), f);
    }
}
