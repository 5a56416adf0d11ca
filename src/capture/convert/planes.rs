//! Raw camera pixels (YUYV, NV12) to the three 4:2:0 planes a JPEG stores,
//! for libjpeg-turbo's YUV compression: no colour matrix, only the range
//! (limited to JPEG's full range, by table) and, for YUYV, the chroma of
//! two rows averaged. Packed "I420" buffers hold Y (`width * height`), then
//! U and V (`ceil(width / 2) * ceil(height / 2)` each).

use super::{CaptureError, RawLayout, clamp_u8};

/// Limited-range luma (16..235) to JPEG's full range (0..255), rounded.
pub(super) const FULL_Y: [u8; 256] = full_range(16, 219);
/// Limited-range chroma (16..240, centred on 128) to full range.
pub(super) const FULL_C: [u8; 256] = full_range_chroma();

const fn full_range(black: i32, span: i32) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let v = ((i as i32 - black) * 255 * 2 + span) / (2 * span);
        t[i] = if v < 0 {
            0
        } else if v > 255 {
            255
        } else {
            v as u8
        };
        i += 1;
    }
    t
}

const fn full_range_chroma() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // 128 + (c - 128) * 255 / 224, rounded half away from zero.
        let d = (i as i32 - 128) * 255;
        let q = if d >= 0 {
            (d + 112) / 224
        } else {
            (d - 112) / 224
        };
        let v = 128 + q;
        t[i] = if v < 0 {
            0
        } else if v > 255 {
            255
        } else {
            v as u8
        };
        i += 1;
    }
    t
}

/// YUYV 4:2:2 to three 4:2:0 planes, as a JPEG stores them: `y` is
/// `width * height` bytes; `u` and `v` are `width / 2` by
/// `ceil(height / 2)`, each sample the mean of two rows (the last row alone
/// when the height is odd).
///
/// # Errors
/// `CaptureError::Corrupt` when `src` is shorter than the frame.
pub fn yuyv_to_yuv420(
    src: &[u8],
    layout: RawLayout,
    planes: &mut [Vec<u8>; 3],
) -> Result<(), CaptureError> {
    let (w, h) = layout.size()?;
    let (cw, ch) = (w / 2, h.div_ceil(2));
    let [y, u, v] = planes;
    y.resize(w * h, 0);
    u.resize(cw * ch, 0);
    v.resize(cw * ch, 0);
    yuyv_into(src, layout, [y, u, v])
}

/// YUYV to one packed I420 buffer (see the module); reused across frames.
///
/// # Errors
/// `CaptureError::Corrupt` when `src` is shorter than the frame.
pub fn yuyv_to_i420(src: &[u8], layout: RawLayout, out: &mut Vec<u8>) -> Result<(), CaptureError> {
    let (w, h) = layout.size()?;
    let [y, u, v] = split_i420(out, w, h);
    yuyv_into(src, layout, [y, u, v])
}

/// `out` sized for a `w` x `h` I420 picture and cut into its planes.
fn split_i420(out: &mut Vec<u8>, w: usize, h: usize) -> [&mut [u8]; 3] {
    let c = w.div_ceil(2) * h.div_ceil(2);
    out.resize(w * h + 2 * c, 0);
    let (y, chroma) = out.split_at_mut(w * h);
    let (u, v) = chroma.split_at_mut(c);
    [y, u, v]
}

/// The planes of a packed I420 buffer of `width` x `height`; `None` when it
/// is too short.
#[must_use]
pub fn i420_planes(buf: &[u8], width: u32, height: u32) -> Option<[&[u8]; 3]> {
    let (w, h) = (width as usize, height as usize);
    let c = w.div_ceil(2) * h.div_ceil(2);
    let y = buf.get(..w * h)?;
    let u = buf.get(w * h..w * h + c)?;
    let v = buf.get(w * h + c..w * h + 2 * c)?;
    Some([y, u, v])
}

fn yuyv_into(src: &[u8], layout: RawLayout, planes: [&mut [u8]; 3]) -> Result<(), CaptureError> {
    let (w, h, stride) = layout.yuyv(src)?;
    let cw = w / 2;
    let [y, u, v] = planes;
    for (row, y_row) in y.chunks_exact_mut(w).enumerate() {
        let line = &src[row * stride..row * stride + w * 2];
        for (pair, out) in line.chunks_exact(4).zip(y_row.chunks_exact_mut(2)) {
            out[0] = FULL_Y[usize::from(pair[0])];
            out[1] = FULL_Y[usize::from(pair[2])];
        }
    }
    for crow in 0..h.div_ceil(2) {
        let top = &src[2 * crow * stride..2 * crow * stride + w * 2];
        let below = if 2 * crow + 1 < h {
            2 * crow + 1
        } else {
            2 * crow
        };
        let bottom = &src[below * stride..below * stride + w * 2];
        let u_row = &mut u[crow * cw..(crow + 1) * cw];
        let v_row = &mut v[crow * cw..(crow + 1) * cw];
        for (i, (a, b)) in top.chunks_exact(4).zip(bottom.chunks_exact(4)).enumerate() {
            u_row[i] = FULL_C[usize::from(mean(a[1], b[1]))];
            v_row[i] = FULL_C[usize::from(mean(a[3], b[3]))];
        }
    }
    Ok(())
}

/// NV12 (a Y plane, then interleaved U/V at half resolution, rows
/// `stride` long) to one packed I420 buffer; the height must be even.
///
/// # Errors
/// `CaptureError::Corrupt` when `src` is shorter than the frame or the
/// height is odd.
pub fn nv12_to_i420(src: &[u8], layout: RawLayout, out: &mut Vec<u8>) -> Result<(), CaptureError> {
    let (w, h, stride, uv_start) = layout.nv12(src)?;
    let cw = w / 2;
    let [y, u, v] = split_i420(out, w, h);
    for (row, y_row) in y.chunks_exact_mut(w).enumerate() {
        for (o, &s) in y_row.iter_mut().zip(&src[row * stride..row * stride + w]) {
            *o = FULL_Y[usize::from(s)];
        }
    }
    for crow in 0..h / 2 {
        let uv = &src[uv_start + crow * stride..uv_start + crow * stride + w];
        let u_row = &mut u[crow * cw..(crow + 1) * cw];
        let v_row = &mut v[crow * cw..(crow + 1) * cw];
        for (i, pair) in uv.chunks_exact(2).enumerate() {
            u_row[i] = FULL_C[usize::from(pair[0])];
            v_row[i] = FULL_C[usize::from(pair[1])];
        }
    }
    Ok(())
}

/// A packed I420 picture (full-range JPEG YCbCr) to RGB24, for the frames
/// that must be turned or flipped first.
///
/// # Errors
/// `CaptureError::Corrupt` when `buf` is shorter than the picture.
pub fn i420_to_rgb(
    buf: &[u8],
    width: u32,
    height: u32,
    rgb: &mut Vec<u8>,
) -> Result<(), CaptureError> {
    let [y, u, v] = i420_planes(buf, width, height).ok_or_else(|| {
        CaptureError::Corrupt(format!("short 4:2:0 picture for {width}x{height}"))
    })?;
    let (w, cw) = (width as usize, (width as usize).div_ceil(2));
    rgb.resize(w * height as usize * 3, 0);
    for (row, out_row) in rgb.chunks_exact_mut(w * 3).enumerate() {
        let c = (row / 2) * cw;
        for (x, out) in out_row.chunks_exact_mut(3).enumerate() {
            // JFIF: R = Y + 1.402 Cr, G = Y - 0.344 Cb - 0.714 Cr,
            // B = Y + 1.772 Cb, in 8.8 fixed point.
            let luma = i32::from(y[row * w + x]) << 8;
            let cb = i32::from(u[c + x / 2]) - 128;
            let cr = i32::from(v[c + x / 2]) - 128;
            out[0] = clamp_u8((luma + 359 * cr + 128) >> 8);
            out[1] = clamp_u8((luma - 88 * cb - 183 * cr + 128) >> 8);
            out[2] = clamp_u8((luma + 454 * cb + 128) >> 8);
        }
    }
    Ok(())
}

fn mean(a: u8, b: u8) -> u8 {
    // At most 255: fits.
    ((u16::from(a) + u16::from(b)).div_ceil(2)) as u8
}

#[cfg(test)]
mod tests {
    use super::super::{nv12_to_rgb, rgb_to_yuv, yuyv_to_rgb};
    use super::*;

    /// Eight vertical bars of `colours`, `w` x `h`, as YUYV and as NV12.
    fn bars(w: usize, h: usize, colours: &[[u8; 3]; 8]) -> (Vec<u8>, Vec<u8>) {
        let yuv = |x: usize| {
            let [r, g, b] = colours[x * 8 / w];
            rgb_to_yuv(r, g, b)
        };
        let mut yuyv = Vec::new();
        for _ in 0..h {
            for x in (0..w).step_by(2) {
                let [y0, u, v] = yuv(x);
                let [y1, ..] = yuv(x + 1);
                yuyv.extend_from_slice(&[y0, u, y1, v]);
            }
        }
        let mut nv12: Vec<u8> = (0..h).flat_map(|_| (0..w).map(|x| yuv(x)[0])).collect();
        for _ in 0..h / 2 {
            for x in (0..w).step_by(2) {
                let [_, u, v] = yuv(x);
                nv12.extend_from_slice(&[u, v]);
            }
        }
        (yuyv, nv12)
    }

    const COLOURS: [[u8; 3]; 8] = [
        [255, 255, 255],
        [250, 250, 0],
        [0, 250, 250],
        [0, 250, 0],
        [250, 0, 250],
        [250, 0, 0],
        [0, 0, 250],
        [10, 10, 10],
    ];

    fn max_diff(a: &[u8], b: &[u8]) -> u8 {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn planes_give_the_same_picture_as_the_rgb_path() {
        let (w, h) = (64, 16);
        let (yuyv, nv12) = bars(w, h, &COLOURS);
        let layout = RawLayout::new(64, 16, 0);
        let (mut direct, mut planes, mut through) = (Vec::new(), Vec::new(), Vec::new());
        yuyv_to_rgb(&yuyv, layout, &mut direct).expect("rgb");
        yuyv_to_i420(&yuyv, layout, &mut planes).expect("planes");
        assert_eq!(planes.len(), w * h * 3 / 2);
        i420_to_rgb(&planes, 64, 16, &mut through).expect("back to rgb");
        assert!(
            max_diff(&direct, &through) <= 3,
            "YUYV: {}",
            max_diff(&direct, &through)
        );
        nv12_to_rgb(&nv12, layout, &mut direct).expect("rgb");
        nv12_to_i420(&nv12, layout, &mut planes).expect("planes");
        i420_to_rgb(&planes, 64, 16, &mut through).expect("back to rgb");
        assert!(
            max_diff(&direct, &through) <= 3,
            "NV12: {}",
            max_diff(&direct, &through)
        );
    }

    #[test]
    fn the_packed_buffer_matches_the_three_planes() {
        let (yuyv, _) = bars(32, 7, &COLOURS);
        let layout = RawLayout::new(32, 7, 0);
        let mut planes = [Vec::new(), Vec::new(), Vec::new()];
        let mut packed = Vec::new();
        yuyv_to_yuv420(&yuyv, layout, &mut planes).expect("planes");
        yuyv_to_i420(&yuyv, layout, &mut packed).expect("packed");
        let split = i420_planes(&packed, 32, 7).expect("long enough");
        for (p, q) in planes.iter().zip(split) {
            assert_eq!(p.as_slice(), q);
        }
        assert!(i420_planes(&packed[..100], 32, 7).is_none());
    }

    #[test]
    fn short_or_odd_frames_are_refused() {
        let layout = RawLayout::new(32, 8, 0);
        let mut out = Vec::new();
        assert!(yuyv_to_i420(&[0; 10], layout, &mut out).is_err());
        assert!(nv12_to_i420(&[0; 10], layout, &mut out).is_err());
        assert!(nv12_to_i420(&[0; 4096], RawLayout::new(32, 7, 0), &mut out).is_err());
        assert!(i420_to_rgb(&[0; 10], 32, 8, &mut out).is_err());
    }
}
