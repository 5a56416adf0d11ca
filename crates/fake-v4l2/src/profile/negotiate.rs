//! How each driver rounds a format and chooses a frame interval.

use super::*;

/// a < b for fractions.
pub(super) fn less(a: Fract, b: Fract) -> bool {
    u64::from(a.numerator) * u64::from(b.denominator)
        < u64::from(b.numerator) * u64::from(a.denominator)
}

pub(super) fn uvc_intervals(mode: &Mode) -> &'static [u32] {
    Profile::uvc_frames(mode.fourcc)
        .iter()
        .find(|&&(w, h, _)| w == mode.width && h == mode.height)
        .map_or(&[333_333][..], |&(_, _, i)| i)
}

/// `uvc_try_frame_interval` for discrete intervals: walk the (ascending)
/// list while the distance shrinks.
pub(super) fn uvc_try_frame_interval(intervals: &[u32], interval: u32) -> u32 {
    let mut best = u32::MAX;
    let mut i = 0;
    while i < intervals.len() {
        let dist = interval.abs_diff(intervals[i]);
        if dist > best {
            break;
        }
        best = dist;
        i += 1;
    }
    intervals[i.saturating_sub(1)]
}

/// A `dwFrameInterval` (100 ns units) as uvcvideo reports it: over
/// 10 000 000, simplified with `v4l2_simplify_fraction(…, 8, 333)`.
pub fn uvc_fraction(interval: u32) -> Fract {
    let (num, den) = simplify_fraction(interval, 10_000_000, 8, 333);
    Fract {
        numerator: num,
        denominator: den,
    }
}

/// `v4l2_simplify_fraction` of `drivers/media/v4l2-core/v4l2-common.c`:
/// a continued fraction cut at `n_terms` or at the first term ≥ `threshold`.
pub(super) fn simplify_fraction(
    numerator: u32,
    denominator: u32,
    n_terms: usize,
    threshold: u32,
) -> (u32, u32) {
    let mut an = Vec::with_capacity(n_terms);
    let (mut x, mut y) = (numerator, denominator);
    while an.len() < n_terms && y != 0 {
        let term = x / y;
        if term >= threshold {
            if an.len() < 2 {
                an.push(term);
            }
            break;
        }
        an.push(term);
        let r = x - term * y;
        x = y;
        y = r;
    }
    let (mut x, mut y) = (0u32, 1u32);
    for &term in an.iter().rev() {
        let r = y;
        y = term.wrapping_mul(y).wrapping_add(x);
        x = r;
    }
    (y, x)
}

pub(super) fn uvc_try_fmt(formats: &[FormatDesc], pix: &mut PixFormat) -> Mode {
    let format = formats
        .iter()
        .find(|f| f.fourcc == pix.pixelformat)
        .or_else(|| formats.first())
        .copied()
        .unwrap_or(FormatDesc {
            fourcc: PIX_FMT_MJPEG,
            depth: 0,
            ybbp: 0,
            remove_padding: false,
        });
    let (rw, rh) = (pix.width, pix.height);
    let mut best = (u64::MAX, 0usize);
    let frames = Profile::uvc_frames(format.fourcc);
    for (i, &(w, h, _)) in frames.iter().enumerate() {
        let overlap = u64::from(w.min(rw)) * u64::from(h.min(rh));
        let d = u64::from(w) * u64::from(h) + u64::from(rw) * u64::from(rh) - 2 * overlap;
        if d < best.0 {
            best = (d, i);
        }
        if best.0 == 0 {
            break;
        }
    }
    let (w, h, _) = frames[best.1];
    let compressed = compressed(format.fourcc);
    let bytesperline = if compressed { 0 } else { format.depth * w / 8 };
    let sizeimage = w * h * 2;
    *pix = PixFormat {
        width: w,
        height: h,
        pixelformat: format.fourcc,
        field: FIELD_NONE,
        bytesperline,
        sizeimage,
        colorspace: COLORSPACE_SRGB,
        ..PixFormat::default()
    };
    Mode {
        fourcc: format.fourcc,
        width: w,
        height: h,
        bytesperline,
        sizeimage,
        colorspace: COLORSPACE_SRGB,
    }
}

/// `clamp_align` of `v4l_bound_align_image` (`v4l2-common.c`).
pub(super) fn clamp_align(x: u32, min: u32, max: u32, align: u32) -> u32 {
    let mask = !((1u32 << align) - 1);
    let min = (min + !mask) & mask;
    let max = max & mask;
    let x = x.clamp(min, max);
    if align == 0 {
        x
    } else {
        (x + (1 << (align - 1))) & mask
    }
}

pub(super) fn bcm_try_fmt(formats: &[FormatDesc], pix: &mut PixFormat) -> Mode {
    let f = formats
        .iter()
        .find(|f| f.fourcc == pix.pixelformat)
        .or_else(|| formats.first())
        .copied()
        .unwrap_or(BCM_FORMATS[0]);
    let width = clamp_align(pix.width, BCM_MIN, BCM_MAX_WIDTH, 1);
    let height = clamp_align(pix.height, BCM_MIN, BCM_MAX_HEIGHT, 1);
    let mut bytesperline = width * f.ybbp;
    if !f.remove_padding {
        if f.depth == 24 {
            bytesperline = ((width + 15) & !15) * 3;
        } else {
            let align_mask = ((32 * f.depth) >> 3) - 1;
            bytesperline = (bytesperline + align_mask) & !align_mask;
        }
    }
    let mut sizeimage = (((height + 15) & !15) * (((width + 31) & !31) * f.depth)) >> 3;
    if compressed(f.fourcc) && sizeimage < BCM_MIN_BUFFER_SIZE {
        sizeimage = BCM_MIN_BUFFER_SIZE;
    }
    let colorspace = match f.fourcc {
        PIX_FMT_RGB24 => COLORSPACE_SRGB,
        PIX_FMT_JPEG => COLORSPACE_JPEG,
        _ => COLORSPACE_SMPTE170M,
    };
    *pix = PixFormat {
        width,
        height,
        pixelformat: f.fourcc,
        field: FIELD_NONE,
        bytesperline,
        sizeimage,
        colorspace,
        ..PixFormat::default()
    };
    Mode {
        fourcc: f.fourcc,
        width,
        height,
        bytesperline,
        sizeimage,
        colorspace,
    }
}
