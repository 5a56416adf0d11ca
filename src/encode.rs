//! JPEG encoding, and the rotation/flip applied before it.
//!
//! Runs on the capture thread (or an encode worker); never allocates per
//! pixel, and reuses its buffers across frames.

use bytes::Bytes;

/// Rotation and mirroring applied to a picture before encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transform {
    /// Clockwise degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
}

impl Transform {
    /// True when the picture passes unchanged.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.rotation == 0 && !self.flip_h && !self.flip_v
    }

    /// Size of the output for an input of `width` x `height`.
    #[must_use]
    pub fn output_size(&self, width: u32, height: u32) -> (u32, u32) {
        if self.rotation == 90 || self.rotation == 270 {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Apply to packed RGB24 `src` into `dst` (resized as needed); returns the
    /// output size. Mirroring happens after rotation, in output coordinates.
    pub fn apply(&self, src: &[u8], width: u32, height: u32, dst: &mut Vec<u8>) -> (u32, u32) {
        let (w, h) = (width as usize, height as usize);
        let (ow, oh) = self.output_size(width, height);
        let (ow_us, oh_us) = (ow as usize, oh as usize);
        dst.resize(w * h * 3, 0);
        // For each output pixel (x, y) find the input pixel. Written as
        // per-row start + step so the inner loop is a strided copy.
        for y in 0..oh_us {
            let oy = if self.flip_v { oh_us - 1 - y } else { y };
            let row = &mut dst[oy * ow_us * 3..(oy + 1) * ow_us * 3];
            // Input coordinates of output (0, y) and the step per output x.
            let (sx0, sy0, dx, dy): (isize, isize, isize, isize) = match self.rotation {
                90 => (y as isize, (h - 1) as isize, 0, -1),
                180 => ((w - 1) as isize, (h - 1 - y) as isize, -1, 0),
                270 => ((w - 1 - y) as isize, 0, 0, 1),
                _ => (0, y as isize, 1, 0),
            };
            if dx == 1 && !self.flip_h {
                let start = (sy0 as usize * w) * 3;
                row.copy_from_slice(&src[start..start + w * 3]);
                continue;
            }
            let step = (dy * w as isize + dx) * 3;
            let mut si = (sy0 * w as isize + sx0) * 3;
            for x in 0..ow_us {
                let ox = if self.flip_h { ow_us - 1 - x } else { x };
                let s = si as usize;
                row[ox * 3..ox * 3 + 3].copy_from_slice(&src[s..s + 3]);
                si += step;
            }
        }
        (ow, oh)
    }
}

/// Why a picture could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("picture {width}x{height} is too large for JPEG (max 65535)")]
    TooLarge { width: u32, height: u32 },
    #[error("jpeg encoder: {0}")]
    Encoder(String),
}

/// The pure-Rust encoder (`jpeg-encoder`, AVX2 where the CPU has it), 4:2:0.
#[derive(Debug, Default)]
pub struct JpegEncoder {
    /// Size of the last output, to size the next buffer in one allocation.
    last_len: usize,
}

impl JpegEncoder {
    /// Name shown in the status and the benchmark.
    pub const NAME: &'static str = "jpeg-encoder";

    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Encode packed RGB24 at `quality` (1-100).
    ///
    /// # Errors
    /// The picture is larger than JPEG allows, or the buffer is short.
    pub fn encode_rgb(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        quality: u8,
    ) -> Result<Bytes, EncodeError> {
        let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
            return Err(EncodeError::TooLarge { width, height });
        };
        let mut out = Vec::with_capacity(self.last_len + self.last_len / 4 + 1024);
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        encoder
            .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .map_err(|e| EncodeError::Encoder(e.to_string()))?;
        self.last_len = out.len();
        Ok(Bytes::from(out))
    }
}

/// Decode a JPEG into packed RGB24 in `rgb`; returns its size.
///
/// # Errors
/// The data is not a JPEG this decoder understands.
pub fn decode_rgb(jpeg: &[u8], rgb: &mut Vec<u8>) -> Result<(u32, u32), String> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(jpeg, options);
    decoder.decode_headers().map_err(|e| e.to_string())?;
    let (w, h) = decoder.dimensions().ok_or("no dimensions")?;
    let len = decoder.output_buffer_size().ok_or("no size")?;
    rgb.resize(len, 0);
    decoder.decode_into(rgb).map_err(|e| e.to_string())?;
    Ok((w as u32, h as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3x2 picture whose pixel value encodes its (x, y).
    fn grid(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                v.extend_from_slice(&[x as u8, y as u8, 7]);
            }
        }
        v
    }

    fn at(buf: &[u8], w: u32, x: u32, y: u32) -> (u8, u8) {
        let i = ((y * w + x) * 3) as usize;
        (buf[i], buf[i + 1])
    }

    #[test]
    fn identity_copies() {
        let src = grid(3, 2);
        let mut dst = Vec::new();
        let t = Transform::default();
        assert_eq!(t.apply(&src, 3, 2, &mut dst), (3, 2));
        assert_eq!(dst, src);
    }

    #[test]
    fn rotations_move_the_corners_clockwise() {
        let src = grid(3, 2);
        let mut dst = Vec::new();
        // 90 clockwise: output is 2x3; output top-left is input bottom-left.
        let t = Transform {
            rotation: 90,
            ..Transform::default()
        };
        assert_eq!(t.apply(&src, 3, 2, &mut dst), (2, 3));
        assert_eq!(at(&dst, 2, 0, 0), (0, 1));
        assert_eq!(at(&dst, 2, 1, 0), (0, 0));
        assert_eq!(at(&dst, 2, 0, 2), (2, 1));
        let t = Transform {
            rotation: 180,
            ..Transform::default()
        };
        assert_eq!(t.apply(&src, 3, 2, &mut dst), (3, 2));
        assert_eq!(at(&dst, 3, 0, 0), (2, 1));
        assert_eq!(at(&dst, 3, 2, 1), (0, 0));
        // 270 clockwise: output top-left is input top-right.
        let t = Transform {
            rotation: 270,
            ..Transform::default()
        };
        assert_eq!(t.apply(&src, 3, 2, &mut dst), (2, 3));
        assert_eq!(at(&dst, 2, 0, 0), (2, 0));
        assert_eq!(at(&dst, 2, 1, 2), (0, 1));
    }

    #[test]
    fn flips_mirror() {
        let src = grid(3, 2);
        let mut dst = Vec::new();
        let t = Transform {
            flip_h: true,
            ..Transform::default()
        };
        t.apply(&src, 3, 2, &mut dst);
        assert_eq!(at(&dst, 3, 0, 0), (2, 0));
        let t = Transform {
            flip_v: true,
            ..Transform::default()
        };
        t.apply(&src, 3, 2, &mut dst);
        assert_eq!(at(&dst, 3, 0, 0), (0, 1));
        let t = Transform {
            rotation: 180,
            flip_h: true,
            flip_v: true,
        };
        t.apply(&src, 3, 2, &mut dst);
        assert_eq!(dst, src, "180 plus both flips is the identity");
    }

    #[test]
    fn encode_then_decode_round_trips_size_and_colour() {
        let (w, h) = (64, 48);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [200u8, 30, 60]).collect();
        let mut enc = JpegEncoder::new();
        let jpeg = enc.encode_rgb(&rgb, w, h, 90).expect("encode");
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let mut out = Vec::new();
        assert_eq!(decode_rgb(&jpeg, &mut out).expect("decode"), (w, h));
        let px = &out[(20 * w as usize + 30) * 3..][..3];
        for (a, b) in px.iter().zip([200u8, 30, 60]) {
            assert!(a.abs_diff(b) < 8, "{px:?}");
        }
    }

    #[test]
    fn lower_quality_gives_smaller_files() {
        let (w, h) = (64, 64);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut enc = JpegEncoder::new();
        let hi = enc.encode_rgb(&rgb, w, h, 95).expect("hi").len();
        let lo = enc.encode_rgb(&rgb, w, h, 20).expect("lo").len();
        assert!(lo < hi, "{lo} < {hi}");
    }

    #[test]
    fn oversize_is_an_error_not_a_panic() {
        let mut enc = JpegEncoder::new();
        assert!(matches!(
            enc.encode_rgb(&[], 70_000, 1, 80),
            Err(EncodeError::TooLarge { .. })
        ));
    }
}
