//! What a YUYV camera frame (every UVC webcam at low sizes) costs to turn
//! into a JPEG with libjpeg-turbo, two ways on the same frames: converted
//! to RGB and compressed (the library converts back to YCbCr and
//! downsamples), against deinterleaved into 4:2:0 planes and compressed
//! from them as they are (`tjCompressFromYUVPlanes`).

use std::time::{Duration, Instant};

#[cfg(test)]
use std::sync::Arc;

use color_eyre::eyre;

use crate::capture::convert::{RawLayout, rgb_to_yuv, yuyv_to_rgb, yuyv_to_yuv420};
use crate::encode::turbo::{Compressor, TurboLib};

/// One size: median wall time and mean thread CPU time per frame, convert
/// plus compress, for each path.
#[derive(Debug, Clone)]
pub struct YuyvRow {
    pub width: u32,
    pub height: u32,
    pub via_rgb_ms: f64,
    pub via_rgb_cpu_ms: f64,
    pub via_planes_ms: f64,
    pub via_planes_cpu_ms: f64,
    pub via_rgb_bytes: usize,
    pub via_planes_bytes: usize,
    pub frames: usize,
}

/// `rgb` (packed, an even width) as a YUYV frame.
#[must_use]
pub fn yuyv_of(rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgb.len() / 3 * 2);
    for pair in rgb.chunks_exact(6) {
        let a = rgb_to_yuv(pair[0], pair[1], pair[2]);
        let b = rgb_to_yuv(pair[3], pair[4], pair[5]);
        let mid = |i: usize| ((u16::from(a[i]) + u16::from(b[i])) / 2).to_le_bytes()[0];
        out.extend_from_slice(&[a[0], mid(1), b[0], mid(2)]);
    }
    out
}

/// Both paths on `frames` (packed RGB test frames, made YUYV first); `None`
/// without libjpeg-turbo.
///
/// # Errors
/// A conversion or a compression failed.
pub fn measure(
    frames: &[Vec<u8>],
    (width, height): (u32, u32),
    quality: u8,
    runs: u32,
) -> eyre::Result<Option<YuyvRow>> {
    let Ok(lib) = TurboLib::system() else {
        return Ok(None);
    };
    let mut compressor = Compressor::new(lib).map_err(|e| eyre::eyre!("{e}"))?;
    let yuyv: Vec<Vec<u8>> = frames.iter().map(|f| yuyv_of(f)).collect();
    let layout = RawLayout::new(width, height, width as usize * 2);
    let mut rgb = Vec::new();
    let mut planes: [Vec<u8>; 3] = Default::default();
    let (mut rgb_t, mut planes_t) = (Vec::new(), Vec::new());
    let (mut rgb_cpu, mut planes_cpu) = (Duration::ZERO, Duration::ZERO);
    let (mut rgb_bytes, mut planes_bytes) = (0, 0);
    let err = |e: &dyn std::fmt::Display| eyre::eyre!("{e}");
    for run in 0..=runs.max(1) {
        for frame in &yuyv {
            let (c, t) = (super::sys::thread_cpu_time(), Instant::now());
            yuyv_to_rgb(frame, layout, &mut rgb).map_err(|e| err(&e))?;
            rgb_bytes = compressor
                .compress_rgb(&rgb, width, height, quality)
                .map_err(|e| err(&e))?
                .len();
            // The first run warms caches and buffers.
            if run > 0 {
                rgb_t.push(t.elapsed().as_secs_f64() * 1e3);
                rgb_cpu += super::sys::thread_cpu_time().saturating_sub(c);
            }
            let (c, t) = (super::sys::thread_cpu_time(), Instant::now());
            yuyv_to_yuv420(frame, layout, &mut planes).map_err(|e| err(&e))?;
            let [y, u, v] = &planes;
            planes_bytes = compressor
                .compress_yuv420([y, u, v], width, height, quality)
                .map_err(|e| err(&e))?
                .len();
            if run > 0 {
                planes_t.push(t.elapsed().as_secs_f64() * 1e3);
                planes_cpu += super::sys::thread_cpu_time().saturating_sub(c);
            }
        }
    }
    let n = rgb_t.len();
    #[expect(clippy::cast_precision_loss, reason = "a few hundred frames")]
    let per = |d: Duration| d.as_secs_f64() * 1e3 / n.max(1) as f64;
    Ok(Some(YuyvRow {
        width,
        height,
        via_rgb_ms: super::encode::median(&mut rgb_t),
        via_rgb_cpu_ms: per(rgb_cpu),
        via_planes_ms: super::encode::median(&mut planes_t),
        via_planes_cpu_ms: per(planes_cpu),
        via_rgb_bytes: rgb_bytes,
        via_planes_bytes: planes_bytes,
        frames: n,
    }))
}

/// The table.
pub fn print(rows: &[YuyvRow]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "\nYUYV frame to JPEG with libjpeg-turbo (convert + compress, {} frames a path)",
        rows[0].frames
    );
    println!(
        "{:>10} {:>14} {:>14} {:>16} {:>16} {:>9} {:>9}",
        "size", "via RGB ms", "via RGB CPU", "via planes ms", "via planes CPU", "RGB B", "planes B"
    );
    for r in rows {
        println!(
            "{:>10} {:>14.3} {:>14.3} {:>16.3} {:>16.3} {:>9} {:>9}",
            format!("{}x{}", r.width, r.height),
            r.via_rgb_ms,
            r.via_rgb_cpu_ms,
            r.via_planes_ms,
            r.via_planes_cpu_ms,
            r.via_rgb_bytes,
            r.via_planes_bytes
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_paths_give_a_jpeg_of_the_frame_when_installed() {
        let frames = super::super::encode::test_frames(64, 48, 1).expect("frames");
        let Some(row) = measure(&frames, (64, 48), 80, 1).expect("measure") else {
            return;
        };
        assert!(
            row.via_rgb_bytes > 100 && row.via_planes_bytes > 100,
            "{row:?}"
        );
        assert_eq!(row.frames, 1);
    }

    /// The two paths give the same picture (the range mapping is right).
    #[test]
    fn both_paths_give_the_same_picture() {
        let Ok(lib) = TurboLib::system() else {
            return;
        };
        let (w, h) = (96u32, 64u32);
        let frames = super::super::encode::test_frames(w, h, 1).expect("frames");
        let yuyv = yuyv_of(&frames[0]);
        let layout = RawLayout::new(w, h, w as usize * 2);
        let mut c = Compressor::new(Arc::clone(&lib)).expect("compressor");
        let mut rgb = Vec::new();
        yuyv_to_rgb(&yuyv, layout, &mut rgb).expect("rgb");
        let via_rgb = c.compress_rgb(&rgb, w, h, 95).expect("rgb jpeg").to_vec();
        let mut planes: [Vec<u8>; 3] = Default::default();
        yuyv_to_yuv420(&yuyv, layout, &mut planes).expect("planes");
        let [y, u, v] = &planes;
        let via_planes = c
            .compress_yuv420([y, u, v], w, h, 95)
            .expect("jpeg")
            .to_vec();
        let mut d = crate::encode::Decoder::new(Some(lib));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        d.decode(&via_rgb, &mut a).expect("decode");
        d.decode(&via_planes, &mut b).expect("decode");
        let diff: u64 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        let mean = diff / a.len() as u64;
        assert!(mean <= 3, "mean difference {mean}");
    }
}
