//! Raw camera pixels (YUYV, NV12) to packed RGB24.
//!
//! BT.601 limited range ("studio swing", Y 16..235, Cb/Cr 16..240), which is
//! what UVC webcams and the Raspberry Pi's V4L2 drivers deliver for these
//! formats. Integer arithmetic in 8.8 fixed point, no allocation: the output
//! goes into the caller's buffer, resized once and reused for every frame.

use super::CaptureError;

mod planes;
pub use planes::{i420_planes, i420_to_rgb, nv12_to_i420, yuyv_to_i420, yuyv_to_yuv420};

// Fixed-point coefficients (×256) of the BT.601 limited-range matrix.
const Y_GAIN: i32 = 298; // 255/219
const V_TO_R: i32 = 409; // 1.596
const U_TO_G: i32 = 100; // 0.391
const V_TO_G: i32 = 208; // 0.813
const U_TO_B: i32 = 516; // 2.018

#[inline(always)]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Chroma terms shared by the pixels that use the same U/V pair.
#[inline(always)]
fn chroma(u: u8, v: u8) -> (i32, i32, i32) {
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    (
        V_TO_R * e + 128,
        -U_TO_G * d - V_TO_G * e + 128,
        U_TO_B * d + 128,
    )
}

#[inline(always)]
fn pixel(y: u8, (r, g, b): (i32, i32, i32), out: &mut [u8]) {
    let c = Y_GAIN * (i32::from(y) - 16);
    out[0] = clamp_u8((c + r) >> 8);
    out[1] = clamp_u8((c + g) >> 8);
    out[2] = clamp_u8((c + b) >> 8);
}

/// One pixel, for tests and for callers that need a single value.
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let mut out = [0; 3];
    pixel(y, chroma(u, v), &mut out);
    out
}

/// Where a raw frame's pixels lie: its size in pixels, and the length of
/// one source row in bytes (V4L2's `bytesperline`; a shorter one is taken
/// as rows packed without padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLayout {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
}

impl RawLayout {
    #[must_use]
    pub const fn new(width: u32, height: u32, stride: usize) -> Self {
        Self {
            width,
            height,
            stride,
        }
    }

    /// The size as `usize`, when the converters support it.
    fn size(self) -> Result<(usize, usize), CaptureError> {
        let Self { width, height, .. } = self;
        if width == 0 || height == 0 || !width.is_multiple_of(2) {
            return Err(CaptureError::Corrupt(format!(
                "unsupported raw frame size {width}x{height} (width must be even)"
            )));
        }
        Ok((width as usize, height as usize))
    }

    /// Width, height and row length of a YUYV frame `src` in this layout.
    fn yuyv(self, src: &[u8]) -> Result<(usize, usize, usize), CaptureError> {
        let (w, h) = self.size()?;
        let stride = self.stride.max(w * 2);
        self.long_enough("YUYV", src, stride * (h - 1) + w * 2)?;
        Ok((w, h, stride))
    }

    /// Width, height, row length and where the U/V plane starts, of an
    /// NV12 frame `src` in this layout (its height must be even).
    fn nv12(self, src: &[u8]) -> Result<(usize, usize, usize, usize), CaptureError> {
        let (w, h) = self.size()?;
        if !h.is_multiple_of(2) {
            return Err(CaptureError::Corrupt(format!(
                "unsupported NV12 size {}x{} (height must be even)",
                self.width, self.height
            )));
        }
        let stride = self.stride.max(w);
        let uv_start = stride * h;
        self.long_enough("NV12", src, uv_start + stride * (h / 2 - 1) + w)?;
        Ok((w, h, stride, uv_start))
    }

    /// A frame of `format` in this layout needs `needed` bytes: a shorter
    /// one is corrupt.
    fn long_enough(self, format: &str, src: &[u8], needed: usize) -> Result<(), CaptureError> {
        if src.len() < needed {
            return Err(CaptureError::Corrupt(format!(
                "{format} frame has {} bytes, {}x{} needs {needed}",
                src.len(),
                self.width,
                self.height
            )));
        }
        Ok(())
    }
}

/// YUYV 4:2:2 (Y0 U Y1 V per pixel pair) to RGB24.
///
/// A row of `src` is at least `2 * width` bytes. `rgb` is resized to
/// `width * height * 3`.
///
/// # Errors
/// `CaptureError::Corrupt` when `src` is shorter than the frame.
pub fn yuyv_to_rgb(src: &[u8], layout: RawLayout, rgb: &mut Vec<u8>) -> Result<(), CaptureError> {
    let (w, h, stride) = layout.yuyv(src)?;
    rgb.resize(w * h * 3, 0);
    for (row, out_row) in rgb.chunks_exact_mut(w * 3).enumerate() {
        let line = &src[row * stride..row * stride + w * 2];
        for (yuyv, out) in line.chunks_exact(4).zip(out_row.chunks_exact_mut(6)) {
            let c = chroma(yuyv[1], yuyv[3]);
            pixel(yuyv[0], c, &mut out[..3]);
            pixel(yuyv[2], c, &mut out[3..]);
        }
    }
    Ok(())
}

/// NV12 4:2:0 (a Y plane, then one interleaved U/V plane at half resolution)
/// to RGB24.
///
/// The stride is the length of one row of either plane; the UV plane starts
/// right after `height` rows of Y, as V4L2's single-planar NV12 specifies.
/// `height` must be even too.
///
/// # Errors
/// `CaptureError::Corrupt` when `src` is shorter than the frame.
pub fn nv12_to_rgb(src: &[u8], layout: RawLayout, rgb: &mut Vec<u8>) -> Result<(), CaptureError> {
    let (w, h, stride, uv_start) = layout.nv12(src)?;
    rgb.resize(w * h * 3, 0);
    for (row, out_row) in rgb.chunks_exact_mut(w * 3).enumerate() {
        let luma = &src[row * stride..row * stride + w];
        let uv_row = uv_start + (row / 2) * stride;
        let uv = &src[uv_row..uv_row + w];
        for ((y2, uv2), out) in luma
            .chunks_exact(2)
            .zip(uv.chunks_exact(2))
            .zip(out_row.chunks_exact_mut(6))
        {
            let c = chroma(uv2[0], uv2[1]);
            pixel(y2[0], c, &mut out[..3]);
            pixel(y2[1], c, &mut out[3..]);
        }
    }
    Ok(())
}

/// RGB to BT.601 limited-range Y, U, V (rounded). The inverse of the
/// conversions above, used to make test frames.
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    [y, u, v].map(|c| c.round().clamp(0.0, 255.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::planes::{FULL_C, FULL_Y};
    use super::*;

    #[test]
    fn reference_colours() {
        // Limited-range black, white and the primaries, within rounding.
        let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 2);
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
        assert_eq!(yuv_to_rgb(126, 128, 128), [128, 128, 128]);
        assert!(
            close(yuv_to_rgb(81, 90, 240), [255, 0, 0]),
            "{:?}",
            yuv_to_rgb(81, 90, 240)
        );
        assert!(
            close(yuv_to_rgb(145, 54, 34), [0, 255, 0]),
            "{:?}",
            yuv_to_rgb(145, 54, 34)
        );
        assert!(
            close(yuv_to_rgb(41, 240, 110), [0, 0, 255]),
            "{:?}",
            yuv_to_rgb(41, 240, 110)
        );
        // Out-of-range values clamp instead of wrapping.
        assert_eq!(yuv_to_rgb(0, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(255, 128, 128), [255, 255, 255]);
        assert_eq!(yuv_to_rgb(255, 255, 255)[0], 255);
        assert_eq!(yuv_to_rgb(0, 0, 0)[0], 0);
    }

    #[test]
    fn rgb_to_yuv_inverts_the_primaries() {
        assert_eq!(rgb_to_yuv(0, 0, 0), [16, 128, 128]);
        assert_eq!(rgb_to_yuv(255, 255, 255), [235, 128, 128]);
        assert_eq!(rgb_to_yuv(255, 0, 0), [81, 90, 240]);
        assert_eq!(rgb_to_yuv(0, 255, 0), [145, 54, 34]);
        assert_eq!(rgb_to_yuv(0, 0, 255), [41, 240, 110]);
    }

    #[test]
    fn yuyv_known_pixels() {
        // Two pixel pairs: black/white sharing neutral chroma, then red/red.
        let src = [16, 128, 235, 128, 81, 90, 81, 240];
        let mut rgb = Vec::new();
        yuyv_to_rgb(&src, RawLayout::new(4, 1, 8), &mut rgb).expect("valid frame");
        assert_eq!(&rgb[..6], &[0, 0, 0, 255, 255, 255]);
        assert_eq!(
            &rgb[6..],
            &[yuv_to_rgb(81, 90, 240), yuv_to_rgb(81, 90, 240)].concat()[..]
        );
    }

    #[test]
    fn yuyv_to_planes_keeps_luma_and_averages_chroma_over_two_rows() {
        // 4x3, stride 10 (2 bytes of padding per row).
        let rows: [[u8; 10]; 3] = [
            [10, 100, 20, 200, 30, 110, 40, 210, 0, 0],
            [50, 102, 60, 202, 70, 112, 80, 212, 0, 0],
            [90, 50, 91, 60, 92, 70, 93, 80, 0, 0],
        ];
        let src: Vec<u8> = rows.concat();
        let mut planes: [Vec<u8>; 3] = Default::default();
        yuyv_to_yuv420(&src, RawLayout::new(4, 3, 10), &mut planes).expect("valid frame");
        let [y, u, v] = planes;
        let full_y = [10, 20, 30, 40, 50, 60, 70, 80, 90, 91, 92, 93].map(|l| FULL_Y[l]);
        assert_eq!(y, full_y);
        // Rows 0 and 1 averaged; row 2 (odd height) alone.
        assert_eq!(u, [101, 111, 50, 70].map(|c| FULL_C[c]));
        assert_eq!(v, [201, 211, 60, 80].map(|c| FULL_C[c]));
        // Limited range's ends are full range's.
        assert_eq!(
            (FULL_Y[16], FULL_Y[235], FULL_Y[0], FULL_Y[255]),
            (0, 255, 0, 255)
        );
        assert_eq!((FULL_C[16], FULL_C[128], FULL_C[240]), (0, 128, 255));
        let mut planes: [Vec<u8>; 3] = Default::default();
        assert!(yuyv_to_yuv420(&src[..20], RawLayout::new(4, 3, 10), &mut planes).is_err());
    }

    #[test]
    fn yuyv_honours_stride() {
        // 2x2 with 4 bytes of padding per row.
        let src = [16, 128, 16, 128, 9, 9, 9, 9, 235, 128, 235, 128];
        let mut rgb = Vec::new();
        yuyv_to_rgb(&src, RawLayout::new(2, 2, 8), &mut rgb).expect("valid frame");
        assert_eq!(rgb, [0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);
    }

    #[test]
    fn nv12_known_pixels() {
        // 2x2: Y plane black, white / white, black; one neutral chroma pair.
        let src = [16, 235, 235, 16, 128, 128];
        let mut rgb = Vec::new();
        nv12_to_rgb(&src, RawLayout::new(2, 2, 2), &mut rgb).expect("valid frame");
        assert_eq!(rgb, [0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn short_frames_are_corrupt_not_a_panic() {
        let mut rgb = Vec::new();
        assert!(matches!(
            yuyv_to_rgb(&[0; 100], RawLayout::new(640, 480, 1280), &mut rgb),
            Err(CaptureError::Corrupt(_))
        ));
        assert!(matches!(
            nv12_to_rgb(&[0; 100], RawLayout::new(640, 480, 640), &mut rgb),
            Err(CaptureError::Corrupt(_))
        ));
        assert!(yuyv_to_rgb(&[0; 100], RawLayout::new(3, 1, 6), &mut rgb).is_err());
        assert!(nv12_to_rgb(&[0; 100], RawLayout::new(4, 3, 4), &mut rgb).is_err());
        assert!(yuyv_to_rgb(&[], RawLayout::new(0, 0, 0), &mut rgb).is_err());
    }

    #[test]
    fn output_buffer_is_reused() {
        let src = vec![128u8; 64 * 48 * 2];
        let mut rgb = Vec::with_capacity(64 * 48 * 3);
        let ptr = rgb.as_ptr();
        for _ in 0..3 {
            yuyv_to_rgb(&src, RawLayout::new(64, 48, 128), &mut rgb).expect("valid frame");
        }
        assert_eq!(rgb.len(), 64 * 48 * 3);
        assert_eq!(rgb.as_ptr(), ptr, "no reallocation across frames");
    }
}
