//! JPEG encoding and decoding, and the rotation/flip applied before encoding.
//!
//! Runs on the encode workers (see `capture::encode_pool`); never allocates
//! per pixel, and reuses its buffers across frames. Two codecs, chosen once
//! per service ([`Codec`], from `--encoder`): libjpeg-turbo, loaded at run
//! time from the system's `libturbojpeg.so.0` when it is there, and the
//! pure-Rust `jpeg-encoder` / `zune-jpeg`. Both encode 4:2:0 baseline.

use std::sync::Arc;

use bytes::Bytes;

mod codec;
mod decode;
pub mod markers;
mod transform;
pub mod turbo;

pub use codec::{Codec, CodecError, EncoderChoice, TurboMissing, UnknownEncoder, codec_option};
pub use decode::{DecodeError, Decoded, Decoder, JpegChecker, MAX_DECODE_SIDE};
pub use transform::Transform;
use turbo::{Compressor, TurboLib};

/// Why a picture could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("picture {width}x{height} is too large for JPEG (max 65535)")]
    TooLarge { width: u32, height: u32 },
    #[error("jpeg encoder: {0}")]
    Encoder(String),
    #[error(transparent)]
    Turbo(#[from] turbo::TurboError),
}

/// A packed RGB24 picture checked to fit JPEG (sides up to 65535) and to be
/// whole in its buffer: what either encoder is handed.
struct RgbPicture<'a> {
    rgb: &'a [u8],
    width: u16,
    height: u16,
}

impl<'a> RgbPicture<'a> {
    fn new(rgb: &'a [u8], width: u32, height: u32) -> Result<Self, EncodeError> {
        let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
            return Err(EncodeError::TooLarge { width, height });
        };
        let need = width as usize * height as usize * 3;
        if rgb.len() < need {
            return Err(EncodeError::Encoder(format!(
                "buffer of {} bytes is short for {width}x{height} RGB ({need})",
                rgb.len()
            )));
        }
        Ok(Self {
            rgb,
            width: w,
            height: h,
        })
    }
}

/// The pure-Rust encoder (`jpeg-encoder`, AVX2 where the CPU has it), 4:2:0.
#[derive(Debug, Default)]
struct JpegEncoder {
    /// Size of the last output, to size the next buffer in one allocation.
    last_len: usize,
}

impl JpegEncoder {
    /// Name shown in the status and the benchmark.
    const NAME: &'static str = "jpeg-encoder";

    fn encode(&mut self, picture: &RgbPicture<'_>, quality: u8) -> Result<Bytes, EncodeError> {
        let mut out = Vec::with_capacity(self.last_len + self.last_len / 4 + 1024);
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        encoder
            .encode(
                picture.rgb,
                picture.width,
                picture.height,
                jpeg_encoder::ColorType::Rgb,
            )
            .map_err(|e| EncodeError::Encoder(e.to_string()))?;
        self.last_len = out.len();
        Ok(Bytes::from(out))
    }
}

/// Which encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderKind {
    /// `jpeg-encoder` (pure Rust, AVX2 where the CPU has it).
    JpegEncoder,
    /// libjpeg-turbo, loaded at run time.
    Turbo,
}

impl EncoderKind {
    /// Every encoder this process can use: `jpeg-encoder`, and
    /// libjpeg-turbo when the system has it.
    #[must_use]
    pub fn available() -> Vec<Self> {
        let mut kinds = vec![Self::JpegEncoder];
        if TurboLib::system().is_ok() {
            kinds.push(Self::Turbo);
        }
        kinds
    }

    /// Name shown in the status and the benchmark.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::JpegEncoder => JpegEncoder::NAME,
            Self::Turbo => "libjpeg-turbo",
        }
    }

    /// The codec of this kind (libjpeg-turbo from the system's library).
    ///
    /// # Errors
    /// libjpeg-turbo was asked for and is not installed.
    pub fn codec(self) -> Result<Codec, TurboMissing> {
        match self {
            Self::JpegEncoder => Ok(Codec::rust()),
            Self::Turbo => Codec::from_choice(EncoderChoice::Turbo, None),
        }
    }
}

/// An encoder of either kind; reuses its buffers across frames.
#[derive(Debug)]
pub struct Encoder(Inner);

#[derive(Debug)]
enum Inner {
    Rust(JpegEncoder),
    Turbo(Box<Compressor>),
}

impl Encoder {
    /// An encoder of `kind` (libjpeg-turbo from the system's library).
    ///
    /// # Errors
    /// libjpeg-turbo is not installed or could not start.
    pub fn new(kind: EncoderKind) -> Result<Self, EncodeError> {
        match kind {
            EncoderKind::JpegEncoder => Ok(Self::rust()),
            EncoderKind::Turbo => {
                let lib = TurboLib::system().map_err(|e| EncodeError::Encoder(e.to_string()))?;
                Self::turbo(lib)
            }
        }
    }

    /// The pure-Rust encoder.
    #[must_use]
    pub fn rust() -> Self {
        Self(Inner::Rust(JpegEncoder::default()))
    }

    /// libjpeg-turbo from `lib`.
    ///
    /// # Errors
    /// libjpeg-turbo could not allocate a compressor.
    pub fn turbo(lib: Arc<TurboLib>) -> Result<Self, EncodeError> {
        Ok(Self(Inner::Turbo(Box::new(Compressor::new(lib)?))))
    }

    #[must_use]
    pub fn kind(&self) -> EncoderKind {
        match self.0 {
            Inner::Rust(_) => EncoderKind::JpegEncoder,
            Inner::Turbo(_) => EncoderKind::Turbo,
        }
    }

    /// Encode packed RGB24 at `quality` (1-100), 4:2:0.
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
        let picture = RgbPicture::new(rgb, width, height)?;
        match &mut self.0 {
            Inner::Rust(e) => e.encode(&picture, quality),
            // One copy of the compressed bytes into a shared buffer.
            Inner::Turbo(c) => Ok(Bytes::copy_from_slice(c.compress_rgb(
                picture.rgb,
                width,
                height,
                quality,
            )?)),
        }
    }
}

impl Encoder {
    /// Encode a packed I420 picture (full-range Y, then U and V at half
    /// size each way, as a JPEG stores them) at `quality`: libjpeg-turbo
    /// only, with no colour conversion.
    ///
    /// # Errors
    /// The encoder is not libjpeg-turbo, the buffer is short, or the
    /// library failed.
    pub fn encode_yuv420(
        &mut self,
        planes: &[u8],
        width: u32,
        height: u32,
        quality: u8,
    ) -> Result<Bytes, EncodeError> {
        let Inner::Turbo(c) = &mut self.0 else {
            return Err(EncodeError::Encoder(
                "YUV planes are encoded by libjpeg-turbo only".into(),
            ));
        };
        let (w, h) = (width as usize, height as usize);
        let chroma = w.div_ceil(2) * h.div_ceil(2);
        let (y, rest) = planes.split_at(planes.len().min(w * h));
        let (u, v) = rest.split_at(rest.len().min(chroma));
        Ok(Bytes::copy_from_slice(c.compress_yuv420(
            [y, u, v],
            width,
            height,
            quality,
        )?))
    }
}

/// Rewrite the picture size that a baseline JPEG's frame header (SOF0)
/// claims, leaving the picture data as it is.
#[cfg(test)]
pub(crate) fn claim_size(jpeg: &mut [u8], width: u16, height: u16) {
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline encoder writes SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_round_trips_size_and_colour() {
        let (w, h) = (64, 48);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [200u8, 30, 60]).collect();
        let mut enc = Encoder::rust();
        let jpeg = enc.encode_rgb(&rgb, w, h, 90).expect("encode");
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let mut out = Vec::new();
        let got = Codec::rust()
            .decoder()
            .decode(&jpeg, &mut out)
            .expect("decode");
        assert_eq!((got.width, got.height), (w, h));
        let px = &out[(20 * w as usize + 30) * 3..][..3];
        for (a, b) in px.iter().zip([200u8, 30, 60]) {
            assert!(a.abs_diff(b) < 8, "{px:?}");
        }
    }

    #[test]
    fn lower_quality_gives_smaller_files() {
        let (w, h) = (64, 64);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut enc = Encoder::rust();
        let hi = enc.encode_rgb(&rgb, w, h, 95).expect("hi").len();
        let lo = enc.encode_rgb(&rgb, w, h, 20).expect("lo").len();
        assert!(lo < hi, "{lo} < {hi}");
    }

    #[test]
    fn oversize_is_an_error_not_a_panic() {
        let mut enc = Encoder::rust();
        assert!(matches!(
            enc.encode_rgb(&[], 70_000, 1, 80),
            Err(EncodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn every_available_encoder_round_trips_and_refuses_a_short_buffer() {
        let (w, h) = (48, 32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [40u8, 180, 90]).collect();
        for kind in EncoderKind::available() {
            let mut enc = Encoder::new(kind).expect("encoder");
            assert_eq!(enc.kind(), kind);
            let jpeg = enc.encode_rgb(&rgb, w, h, 85).expect("encode");
            let mut out = Vec::new();
            let got = Codec::auto()
                .decoder()
                .decode(&jpeg, &mut out)
                .expect("decode");
            assert_eq!((got.width, got.height), (w, h), "{kind:?}");
            for (a, b) in out[..3].iter().zip([40u8, 180, 90]) {
                assert!(a.abs_diff(b) < 8, "{kind:?}: {:?}", &out[..3]);
            }
            assert!(enc.encode_rgb(&rgb[..10], w, h, 85).is_err(), "{kind:?}");
        }
    }
}
