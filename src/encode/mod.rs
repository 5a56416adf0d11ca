//! JPEG encoding, and the rotation/flip applied before it.
//!
//! Runs on the encode workers (see `capture::encode_pool`); never allocates
//! per pixel, and reuses its buffers across frames. Two encoders: the
//! pure-Rust `jpeg-encoder` (the default build) and libjpeg-turbo (feature
//! `turbojpeg`, needs cmake and nasm to build), both 4:2:0 baseline.

use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;

mod transform;
#[cfg(feature = "turbojpeg")]
mod turbo;

pub use transform::Transform;
#[cfg(feature = "turbojpeg")]
pub use turbo::TurboEncoder;

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
        check_len(rgb, width, height)?;
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

/// Which encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderKind {
    /// `jpeg-encoder` (pure Rust, AVX2 where the CPU has it).
    JpegEncoder,
    /// libjpeg-turbo (feature `turbojpeg`).
    Turbo,
}

impl EncoderKind {
    /// The encoder the service uses in this build: libjpeg-turbo when built
    /// with `turbojpeg`, else `jpeg-encoder`.
    pub const SERVICE: Self = if cfg!(feature = "turbojpeg") {
        Self::Turbo
    } else {
        Self::JpegEncoder
    };

    /// The encoder new service workers use: [`Self::SERVICE`] unless the
    /// benchmark chose another with [`set_service_encoder`].
    #[must_use]
    pub fn service() -> Self {
        match SERVICE_OVERRIDE.load(Ordering::Relaxed) {
            1 => Self::JpegEncoder,
            2 => Self::Turbo,
            _ => Self::SERVICE,
        }
    }

    /// Every encoder this build has.
    #[must_use]
    pub fn available() -> Vec<Self> {
        let mut kinds = vec![Self::JpegEncoder];
        if cfg!(feature = "turbojpeg") {
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
}

static SERVICE_OVERRIDE: AtomicU8 = AtomicU8::new(0);

/// Make services started after this call encode with `kind` (`None`: the
/// build's default). For `tars-camera bench`, which compares the pipeline
/// with each encoder in one run; the service itself never calls it.
pub fn set_service_encoder(kind: Option<EncoderKind>) {
    let v = match kind {
        None => 0,
        Some(EncoderKind::JpegEncoder) => 1,
        Some(EncoderKind::Turbo) => 2,
    };
    SERVICE_OVERRIDE.store(v, Ordering::Relaxed);
}

/// An encoder of either kind; reuses its buffers across frames.
#[derive(Debug)]
pub struct Encoder(Inner);

#[derive(Debug)]
enum Inner {
    Rust(JpegEncoder),
    #[cfg(feature = "turbojpeg")]
    Turbo(Box<TurboEncoder>),
}

impl Encoder {
    /// An encoder of `kind`.
    ///
    /// # Errors
    /// libjpeg-turbo could not start, or this build does not have it.
    pub fn new(kind: EncoderKind) -> Result<Self, EncodeError> {
        match kind {
            EncoderKind::JpegEncoder => Ok(Self(Inner::Rust(JpegEncoder::new()))),
            #[cfg(feature = "turbojpeg")]
            EncoderKind::Turbo => Ok(Self(Inner::Turbo(Box::new(TurboEncoder::new()?)))),
            #[cfg(not(feature = "turbojpeg"))]
            EncoderKind::Turbo => Err(EncodeError::Encoder(
                "this build has no libjpeg-turbo (feature turbojpeg)".into(),
            )),
        }
    }

    /// The encoder the service uses in this build, falling back to
    /// `jpeg-encoder` if libjpeg-turbo cannot start.
    #[must_use]
    pub fn for_service() -> Self {
        Self::new(EncoderKind::service()).unwrap_or_else(|e| {
            tracing::warn!("{e}; encoding with {}", JpegEncoder::NAME);
            Self(Inner::Rust(JpegEncoder::new()))
        })
    }

    #[must_use]
    pub fn kind(&self) -> EncoderKind {
        match self.0 {
            Inner::Rust(_) => EncoderKind::JpegEncoder,
            #[cfg(feature = "turbojpeg")]
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
        match &mut self.0 {
            Inner::Rust(e) => e.encode_rgb(rgb, width, height, quality),
            #[cfg(feature = "turbojpeg")]
            Inner::Turbo(e) => e.encode_rgb(rgb, width, height, quality),
        }
    }
}

/// Check that `rgb` holds a whole `width` x `height` RGB24 picture.
fn check_len(rgb: &[u8], width: u32, height: u32) -> Result<(), EncodeError> {
    let need = width as usize * height as usize * 3;
    if rgb.len() < need {
        return Err(EncodeError::Encoder(format!(
            "buffer of {} bytes is short for {width}x{height} RGB ({need})",
            rgb.len()
        )));
    }
    Ok(())
}

/// Decode a JPEG into packed RGB24 in `rgb`; returns its size.
///
/// # Errors
/// The data is not a JPEG this decoder understands.
#[cfg(feature = "turbojpeg")]
pub fn decode_rgb(jpeg: &[u8], rgb: &mut Vec<u8>) -> Result<(u32, u32), String> {
    turbo::decode_rgb(jpeg, rgb)
}

/// Decode a JPEG into packed RGB24 in `rgb`; returns its size.
///
/// # Errors
/// The data is not a JPEG this decoder understands.
#[cfg(not(feature = "turbojpeg"))]
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

    #[test]
    fn every_available_encoder_round_trips_and_refuses_a_short_buffer() {
        let (w, h) = (48, 32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [40u8, 180, 90]).collect();
        for kind in EncoderKind::available() {
            let mut enc = Encoder::new(kind).expect("encoder");
            assert_eq!(enc.kind(), kind);
            let jpeg = enc.encode_rgb(&rgb, w, h, 85).expect("encode");
            let mut out = Vec::new();
            assert_eq!(
                decode_rgb(&jpeg, &mut out).expect("decode"),
                (w, h),
                "{kind:?}"
            );
            for (a, b) in out[..3].iter().zip([40u8, 180, 90]) {
                assert!(a.abs_diff(b) < 8, "{kind:?}: {:?}", &out[..3]);
            }
            assert!(enc.encode_rgb(&rgb[..10], w, h, 85).is_err(), "{kind:?}");
        }
    }
}
