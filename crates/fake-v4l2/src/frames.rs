//! Frame content: the JPEG files an MJPG stream cycles through (with the
//! faults a node file asks for applied to the copy in the buffer), and a
//! colour-bar picture for YUYV and NV12.

use std::path::{Path, PathBuf};

use crate::config::NodeConfig;
use crate::uapi::{PIX_FMT_JPEG, PIX_FMT_MJPEG, PIX_FMT_NV12, PIX_FMT_YUYV};

/// The eight 100 % colour bars, left to right, as RGB.
pub const BARS_RGB: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// BT.601 limited range ("studio swing") Y, Cb, Cr of an RGB colour.
pub fn bt601(rgb: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = rgb.map(|c| f64::from(c) / 255.0);
    let y = 16.0 + 65.481 * r + 128.553 * g + 24.966 * b;
    let cb = 128.0 - 37.797 * r - 74.203 * g + 112.0 * b;
    let cr = 128.0 + 112.0 * r - 93.786 * g - 18.214 * b;
    [y, cb, cr].map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// The JPEG files of a `frames=` folder, sorted by name.
#[derive(Default)]
pub struct JpegCycle {
    dir: Option<PathBuf>,
    files: Vec<Vec<u8>>,
}

impl JpegCycle {
    /// Loads `dir` unless it is the one already loaded.
    pub fn load(&mut self, dir: Option<&Path>) {
        if self.dir.as_deref() == dir {
            return;
        }
        self.dir = dir.map(Path::to_path_buf);
        self.files.clear();
        let Some(dir) = dir else { return };
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().is_some_and(|e| {
                            e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        self.files = names.iter().filter_map(|p| std::fs::read(p).ok()).collect();
        if self.files.is_empty() {
            eprintln!("fake-v4l2: no .jpg files in {}", dir.display());
        }
    }

    /// The `n`th frame (0-based), cycling.
    pub fn get(&self, n: u64) -> Option<&[u8]> {
        if self.files.is_empty() {
            return None;
        }
        Some(&self.files[(n % self.files.len() as u64) as usize])
    }
}

/// What was written into a buffer.
pub struct Written {
    pub bytesused: usize,
    pub error: bool,
}

/// Whether frame `frame_no` (from 1) is one of every `n`th (0: never).
pub fn every(n: u64, frame_no: u64) -> bool {
    n > 0 && frame_no.is_multiple_of(n)
}

/// Writes one MJPG frame (`frame_no` counts from 1) into `buf`, whose first
/// `prev_used` bytes held the previous frame.
pub fn write_jpeg(
    buf: &mut [u8],
    prev_used: usize,
    jpeg: &[u8],
    frame_no: u64,
    config: &NodeConfig,
) -> Written {
    let mut len = jpeg.len().min(buf.len());
    // uvcvideo marks a frame bigger than the buffer as an error.
    let mut error = len < jpeg.len();
    if every(config.error_every, frame_no) {
        error = true;
        len /= 2;
    }
    if every(config.truncate_every, frame_no) {
        len /= 2;
    }
    buf[..len].copy_from_slice(&jpeg[..len]);
    if every(config.damage_every, frame_no) {
        damage_scan(&mut buf[..len]);
    }
    let bytesused = if config.pad {
        buf[len..].fill(0);
        buf.len()
    } else {
        if !config.stale_tail && prev_used > len {
            let end = prev_used.min(buf.len());
            buf[len..end].fill(0);
        }
        len
    };
    Written { bytesused, error }
}

/// Overwrites a run in the middle of the entropy-coded data after the
/// first SOS with stuffed 0xFF bytes (`FF 00`): no marker appears, every
/// marker stays where it was, and the bit string is all ones, which no
/// valid Huffman code is (ITU T.81 Annex C), so a decoder must fail.
fn damage_scan(jpeg: &mut [u8]) {
    let Some(sos) = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return;
    };
    let Some(header) = jpeg.get(sos + 2..sos + 4) else {
        return;
    };
    let start = sos + 2 + usize::from(u16::from_be_bytes([header[0], header[1]]));
    let end = jpeg
        .windows(2)
        .rposition(|w| w == [0xFF, 0xD9])
        .unwrap_or(jpeg.len());
    if end <= start + 8 {
        return;
    }
    let run_start = start + (end - start) / 4;
    let run_end = (run_start + 64).min(end - 2);
    let mut i = run_start;
    // Do not split an existing FF 00 pair.
    if i > 0 && jpeg[i - 1] == 0xFF {
        i += 1;
    }
    while i + 1 < run_end {
        jpeg[i] = 0xFF;
        jpeg[i + 1] = 0x00;
        i += 2;
    }
    // The byte after the run must not turn FF into a marker.
    if jpeg[i - 1] == 0xFF && jpeg.get(i).is_some_and(|&b| b != 0) {
        jpeg[i - 1] = 0xFE;
    }
}

/// Writes the colour bars as YUYV rows of `stride` bytes (padding bytes
/// after each row are left as 0x10 0x80, a dark grey, so a reader that
/// ignores the stride shows slanted bars).
pub fn write_yuyv_bars(buf: &mut [u8], width: usize, height: usize, stride: usize) -> usize {
    let used = stride * height;
    if used > buf.len() || stride < width * 2 {
        return 0;
    }
    let yuv = BARS_RGB.map(bt601);
    for row in buf[..used].chunks_exact_mut(stride) {
        for x in (0..width).step_by(2) {
            let [luma, cb, cr] = yuv[x * 8 / width];
            let at = x * 2;
            row[at..at + 4].copy_from_slice(&[luma, cb, luma, cr]);
        }
        for (i, b) in row[width * 2..].iter_mut().enumerate() {
            *b = if i % 2 == 0 { 0x10 } else { 0x80 };
        }
    }
    used
}

/// Whether frames of `fourcc` come from the JPEG files.
pub fn is_jpeg(fourcc: u32) -> bool {
    fourcc == PIX_FMT_MJPEG || fourcc == PIX_FMT_JPEG
}

/// Whether frames of `fourcc` are the colour bars.
pub fn is_yuyv(fourcc: u32) -> bool {
    fourcc == PIX_FMT_YUYV
}

/// Whether frames of `fourcc` are the colour bars as NV12.
pub fn is_nv12(fourcc: u32) -> bool {
    fourcc == PIX_FMT_NV12
}

/// Writes the colour bars as NV12: `height` rows of luma, then
/// `height / 2` rows of interleaved Cb Cr, every row `stride` bytes (the
/// chroma plane right after the luma plane, as V4L2 defines single-planar
/// NV12).
pub fn write_nv12_bars(buf: &mut [u8], width: usize, height: usize, stride: usize) -> usize {
    let used = stride * height + stride * height.div_ceil(2);
    if used > buf.len() || stride < width {
        return 0;
    }
    let yuv = BARS_RGB.map(bt601);
    let (luma, chroma) = buf[..used].split_at_mut(stride * height);
    for row in luma.chunks_exact_mut(stride) {
        for (x, b) in row[..width].iter_mut().enumerate() {
            *b = yuv[x * 8 / width][0];
        }
    }
    for row in chroma.chunks_exact_mut(stride) {
        for x in (0..width).step_by(2) {
            let [_, cb, cr] = yuv[x * 8 / width];
            row[x] = cb;
            if x + 1 < width {
                row[x + 1] = cr;
            }
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bt601_limited_range() {
        assert_eq!(bt601([255, 255, 255]), [235, 128, 128]);
        assert_eq!(bt601([0, 0, 0]), [16, 128, 128]);
        assert_eq!(bt601([255, 0, 0]), [81, 90, 240]);
    }

    #[test]
    fn damage_keeps_every_marker() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x04, 1, 2];
        jpeg.extend((0..200u32).map(|i| (i % 200) as u8));
        jpeg.extend([0xFF, 0xD9]);
        let before: Vec<usize> = markers(&jpeg);
        let mut damaged = jpeg.clone();
        damage_scan(&mut damaged);
        assert_ne!(damaged, jpeg);
        assert_eq!(markers(&damaged), before);
    }

    fn markers(data: &[u8]) -> Vec<usize> {
        data.windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] == 0xFF && w[1] != 0 && w[1] != 0xFF)
            .map(|(i, _)| i)
            .collect()
    }
}
