//! libjpeg-turbo through the `turbojpeg` crate (feature `turbojpeg`).
//!
//! The compressor writes into a buffer sized for the worst case once per
//! picture size (calloc'd: only the pages written become resident); each frame
//! is then one copy of the compressed bytes into a shared `Bytes`.

use bytes::Bytes;

use super::{EncodeError, check_len};

/// libjpeg-turbo, 4:2:0, reusing its compressor and output buffer.
pub struct TurboEncoder {
    compressor: turbojpeg::Compressor,
    quality: Option<u8>,
    out: Vec<u8>,
    out_for: (u32, u32),
}

impl std::fmt::Debug for TurboEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurboEncoder")
            .field("quality", &self.quality)
            .field("out_for", &self.out_for)
            .finish_non_exhaustive()
    }
}

fn tj_error(e: &turbojpeg::Error) -> EncodeError {
    EncodeError::Encoder(format!("libjpeg-turbo: {e}"))
}

impl TurboEncoder {
    /// Name shown in the status and the benchmark.
    pub const NAME: &'static str = "libjpeg-turbo";

    /// # Errors
    /// libjpeg-turbo could not allocate its compressor.
    pub fn new() -> Result<Self, EncodeError> {
        let mut compressor = turbojpeg::Compressor::new().map_err(|e| tj_error(&e))?;
        compressor
            .set_subsamp(turbojpeg::Subsamp::Sub2x2)
            .map_err(|e| tj_error(&e))?;
        Ok(Self {
            compressor,
            quality: None,
            out: Vec::new(),
            out_for: (0, 0),
        })
    }

    /// Encode packed RGB24 at `quality` (1-100).
    ///
    /// # Errors
    /// The picture is larger than JPEG allows, the buffer is short, or
    /// libjpeg-turbo failed.
    pub fn encode_rgb(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        quality: u8,
    ) -> Result<Bytes, EncodeError> {
        if width > 65_535 || height > 65_535 {
            return Err(EncodeError::TooLarge { width, height });
        }
        check_len(rgb, width, height)?;
        let quality = quality.clamp(1, 100);
        if self.quality != Some(quality) {
            self.compressor
                .set_quality(i32::from(quality))
                .map_err(|e| tj_error(&e))?;
            self.quality = Some(quality);
        }
        let (w, h) = (width as usize, height as usize);
        if self.out_for != (width, height) {
            let len = self.compressor.buf_len(w, h).map_err(|e| tj_error(&e))?;
            self.out = vec![0; len];
            self.out_for = (width, height);
        }
        let image = turbojpeg::Image {
            pixels: &rgb[..w * h * 3],
            width: w,
            pitch: w * 3,
            height: h,
            format: turbojpeg::PixelFormat::RGB,
        };
        let len = self
            .compressor
            .compress_to_slice(image, &mut self.out)
            .map_err(|e| tj_error(&e))?;
        Ok(Bytes::copy_from_slice(&self.out[..len]))
    }
}

/// Decode a JPEG into packed RGB24 in `rgb` with libjpeg-turbo; returns its size.
pub(super) fn decode_rgb(jpeg: &[u8], rgb: &mut Vec<u8>) -> Result<(u32, u32), String> {
    let mut decompressor = turbojpeg::Decompressor::new().map_err(|e| e.to_string())?;
    let header = decompressor.read_header(jpeg).map_err(|e| e.to_string())?;
    let (w, h) = (header.width, header.height);
    let (Ok(width), Ok(height)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err(format!("picture {w}x{h} is too large"));
    };
    rgb.resize(w * h * 3, 0);
    let image = turbojpeg::Image {
        pixels: rgb.as_mut_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    };
    decompressor
        .decompress(jpeg, image)
        .map_err(|e| e.to_string())?;
    Ok((width, height))
}
