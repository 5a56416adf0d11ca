//! The program's one JPEG decoder: libjpeg-turbo when the codec has it
//! (with its reduced-size decode for previews), else `zune-jpeg`. Both
//! refuse pictures larger than [`MAX_DECODE_SIDE`] before allocating.

use std::sync::Arc;

use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::turbo::{Decompressor, Header, TurboLib};

/// Largest side decoded (guards memory against a bad or hostile header).
pub const MAX_DECODE_SIDE: u32 = 8192;

/// Why a JPEG could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("picture {width}x{height} is larger than {MAX_DECODE_SIDE} pixels a side")]
    TooLarge { width: u32, height: u32 },
    #[error("not a valid JPEG: {0}")]
    Corrupt(String),
}

/// What a decode produced: the output size (reduced or not) and the
/// picture's own size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub source_width: u32,
    pub source_height: u32,
}

/// A JPEG decoder that reuses its state across pictures. Made by
/// [`super::Codec::decoder`].
#[derive(Debug)]
pub struct Decoder {
    turbo: Option<Decompressor>,
}

impl Decoder {
    /// libjpeg-turbo from `lib`, or `zune-jpeg` when `None` (or when
    /// libjpeg-turbo cannot allocate an instance).
    #[must_use]
    pub fn new(lib: Option<Arc<TurboLib>>) -> Self {
        let turbo = lib.and_then(|lib| {
            Decompressor::new(lib)
                .inspect_err(|e| tracing::warn!("{e}; decoding with zune-jpeg"))
                .ok()
        });
        Self { turbo }
    }

    /// True when libjpeg-turbo decodes.
    #[must_use]
    pub fn uses_turbo(&self) -> bool {
        self.turbo.is_some()
    }

    /// Decode `jpeg` at full size into packed RGB in `out`.
    ///
    /// # Errors
    /// Not a JPEG, or larger than [`MAX_DECODE_SIDE`].
    pub fn decode(&mut self, jpeg: &[u8], out: &mut Vec<u8>) -> Result<Decoded, DecodeError> {
        self.decode_at_least(jpeg, u32::MAX, u32::MAX, out)
    }

    /// Decode `jpeg` into packed RGB in `out`, reduced (1/2, 1/4 or 1/8,
    /// with libjpeg-turbo) as far as it stays at least `min_width` x
    /// `min_height`; at full size with `zune-jpeg`.
    ///
    /// # Errors
    /// Not a JPEG, or larger than [`MAX_DECODE_SIDE`].
    pub fn decode_at_least(
        &mut self,
        jpeg: &[u8],
        min_width: u32,
        min_height: u32,
        out: &mut Vec<u8>,
    ) -> Result<Decoded, DecodeError> {
        match &mut self.turbo {
            Some(d) => {
                let header = d
                    .header(jpeg)
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                check_size(header.width, header.height)?;
                let denom = reduction(d.lib().reductions(), header, min_width, min_height);
                let (width, height) = d
                    .decompress_rgb(jpeg, header, denom, out)
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                Ok(Decoded {
                    width,
                    height,
                    source_width: header.width,
                    source_height: header.height,
                })
            }
            None => decode_zune(jpeg, out),
        }
    }
}

/// Checks camera JPEGs that are served as they are: the whole entropy-coded
/// data is decoded (libjpeg-turbo at its largest reduction), so damage that
/// leaves every marker intact is found. Only with libjpeg-turbo: a full
/// `zune-jpeg` decode of every frame would cost more than re-encoding.
#[derive(Debug)]
pub struct JpegChecker {
    turbo: Decompressor,
    scratch: Vec<u8>,
}

impl JpegChecker {
    /// A checker when the codec has libjpeg-turbo.
    #[must_use]
    pub fn new(lib: Option<Arc<TurboLib>>) -> Option<Self> {
        let turbo = Decompressor::new(lib?)
            .inspect_err(|e| tracing::warn!("{e}; camera JPEGs are checked by their markers only"))
            .ok()?;
        Some(Self {
            turbo,
            scratch: Vec::new(),
        })
    }

    /// Whether `jpeg` decodes with no error and no warning.
    ///
    /// # Errors
    /// What the decoder found wrong.
    pub fn check(&mut self, jpeg: &[u8]) -> Result<(), DecodeError> {
        let corrupt = |e: super::turbo::TurboError| DecodeError::Corrupt(e.to_string());
        let header = self.turbo.header(jpeg).map_err(corrupt)?;
        check_size(header.width, header.height)?;
        self.turbo
            .check(jpeg, header, &mut self.scratch)
            .map_err(corrupt)
    }
}

fn check_size(width: u32, height: u32) -> Result<(), DecodeError> {
    if width > MAX_DECODE_SIDE || height > MAX_DECODE_SIDE {
        return Err(DecodeError::TooLarge { width, height });
    }
    Ok(())
}

/// The largest reduction (from `offered`, largest first) that keeps the
/// picture at least `min_w` x `min_h`; 1 when none does.
fn reduction(offered: &[u32], header: Header, min_w: u32, min_h: u32) -> u32 {
    offered
        .iter()
        .copied()
        .find(|&d| header.width.div_ceil(d) >= min_w && header.height.div_ceil(d) >= min_h)
        .unwrap_or(1)
}

fn decode_zune(jpeg: &[u8], out: &mut Vec<u8>) -> Result<Decoded, DecodeError> {
    let side = MAX_DECODE_SIDE as usize;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(side)
        .set_max_height(side);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(jpeg, options);
    let corrupt = |e: &dyn std::fmt::Display| DecodeError::Corrupt(e.to_string());
    decoder.decode_headers().map_err(|e| {
        // zune-jpeg reports an oversize header as an error: say which.
        match super::markers::frame_size(jpeg) {
            Some((w, h)) if w > MAX_DECODE_SIDE || h > MAX_DECODE_SIDE => DecodeError::TooLarge {
                width: w,
                height: h,
            },
            _ => corrupt(&e),
        }
    })?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| corrupt(&"no dimensions"))?;
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| corrupt(&"no output size"))?;
    if size != w * h * 3 {
        return Err(corrupt(&format!(
            "unexpected output size {size} for {w}x{h}"
        )));
    }
    out.resize(size, 0);
    decoder.decode_into(out).map_err(|e| corrupt(&e))?;
    let (Ok(width), Ok(height)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err(corrupt(&"size does not fit"));
    };
    Ok(Decoded {
        width,
        height,
        source_width: width,
        source_height: height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Codec;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [200u8, 40, 90]).collect();
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 85)
            .encode(
                &rgb,
                u16::try_from(w).expect("w"),
                u16::try_from(h).expect("h"),
                jpeg_encoder::ColorType::Rgb,
            )
            .expect("encode");
        out
    }

    fn codecs() -> Vec<Codec> {
        let mut v = vec![Codec::rust()];
        if let Some(c) = crate::encode::turbo::tests::codec() {
            v.push(c);
        }
        v
    }

    #[test]
    fn full_decode_gives_size_and_colour_with_each_codec() {
        let j = jpeg(64, 40);
        for codec in codecs() {
            let mut d = codec.decoder();
            let mut out = Vec::new();
            let got = d.decode(&j, &mut out).expect("decode");
            assert_eq!((got.width, got.height), (64, 40), "{}", codec.name());
            assert_eq!((got.source_width, got.source_height), (64, 40));
            assert_eq!(out.len(), 64 * 40 * 3);
            for (a, b) in out[..3].iter().zip([200u8, 40, 90]) {
                assert!(a.abs_diff(b) < 8, "{}: {:?}", codec.name(), &out[..3]);
            }
            assert!(matches!(
                d.decode(b"\xFF\xD8 not a jpeg", &mut out),
                Err(DecodeError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn the_size_cap_applies_to_each_codec() {
        // A valid 16x16 JPEG whose SOF claims 9000x16.
        let mut j = jpeg(16, 16);
        crate::encode::claim_size(&mut j, 9000, 16);
        for codec in codecs() {
            let e = codec
                .decoder()
                .decode(&j, &mut Vec::new())
                .expect_err("cap");
            assert!(
                matches!(e, DecodeError::TooLarge { width: 9000, .. }),
                "{}: {e:?}",
                codec.name()
            );
        }
    }

    #[test]
    fn reduction_picks_the_smallest_size_still_covering_the_target() {
        let h = Header {
            width: 1920,
            height: 1080,
        };
        let offered = [8, 4, 2];
        assert_eq!(reduction(&offered, h, 160, 90), 8);
        assert_eq!(reduction(&offered, h, 240, 90), 8);
        assert_eq!(reduction(&offered, h, 241, 90), 4);
        assert_eq!(reduction(&offered, h, 600, 200), 2);
        assert_eq!(reduction(&offered, h, 1000, 90), 1);
        assert_eq!(reduction(&[], h, 10, 10), 1);
    }

    #[test]
    fn a_reduced_decode_with_libjpeg_turbo_covers_the_target() {
        let Some(codec) = crate::encode::turbo::tests::codec() else {
            return;
        };
        let j = jpeg(1280, 720);
        let mut out = Vec::new();
        let got = codec
            .decoder()
            .decode_at_least(&j, 100, 60, &mut out)
            .expect("decode");
        assert_eq!((got.width, got.height), (160, 90));
        assert_eq!((got.source_width, got.source_height), (1280, 720));
        assert_eq!(out.len(), 160 * 90 * 3);
    }
}
