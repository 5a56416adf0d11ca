//! One encode worker: decodes a camera JPEG when it must, rotates or flips,
//! and encodes, reusing its buffers across frames.

use std::time::Instant;

use bytes::Bytes;

use super::{Encoded, Job, Picture};
use crate::capture::CaptureError;
use crate::encode::{Codec, Decoder, Encoder, EncoderKind, Transform};

/// One worker's encoder and scratch buffers, reused across frames.
pub(super) struct Worker {
    encoder: Encoder,
    decoder: Decoder,
    decoded: Vec<u8>,
    transformed: Vec<u8>,
}

impl Worker {
    pub(super) fn new(codec: &Codec) -> Self {
        Self {
            encoder: codec.encoder(),
            decoder: codec.decoder(),
            decoded: Vec::new(),
            transformed: Vec::new(),
        }
    }

    /// Encode `job`; gives back its RGB buffer for the free list.
    pub(super) fn encode(&mut self, job: Job) -> (Result<Encoded, CaptureError>, Option<Vec<u8>>) {
        let encode_started = Instant::now();
        let (result, pixels) = match job.picture {
            Picture::Rgb {
                pixels,
                width,
                height,
            } => (
                self.encode_rgb(&pixels, (width, height), job.quality, job.transform),
                Some(pixels),
            ),
            Picture::Yuv420 {
                planes,
                width,
                height,
            } => (
                self.encode_yuv(&planes, (width, height), job.quality, job.transform),
                Some(planes),
            ),
            Picture::Jpeg { data, .. } => {
                let mut decoded = std::mem::take(&mut self.decoded);
                let result = self
                    .decoder
                    .decode(&data, &mut decoded)
                    .map_err(|e| CaptureError::Corrupt(e.to_string()))
                    .and_then(|d| {
                        self.encode_rgb(&decoded, (d.width, d.height), job.quality, job.transform)
                    });
                self.decoded = decoded;
                (result, None)
            }
        };
        let result = result.map(|(jpeg, width, height)| {
            Encoded::finished(
                jpeg,
                (width, height),
                Some(job.quality),
                (job.captured_at, job.captured_wall),
                job.backend,
                encode_started,
            )
        });
        (result, pixels)
    }

    /// YUV planes straight to libjpeg-turbo; through RGB when the picture
    /// must be turned first or the encoder takes RGB only.
    fn encode_yuv(
        &mut self,
        planes: &[u8],
        (width, height): (u32, u32),
        quality: u8,
        transform: Transform,
    ) -> Result<(Bytes, u32, u32), CaptureError> {
        if transform.is_identity() && self.encoder.kind() == EncoderKind::Turbo {
            let jpeg = self
                .encoder
                .encode_yuv420(planes, width, height, quality)
                .map_err(|e| CaptureError::Other(e.to_string()))?;
            return Ok((jpeg, width, height));
        }
        let mut rgb = std::mem::take(&mut self.decoded);
        let result = crate::capture::convert::i420_to_rgb(planes, width, height, &mut rgb)
            .and_then(|()| self.encode_rgb(&rgb, (width, height), quality, transform));
        self.decoded = rgb;
        result
    }

    fn encode_rgb(
        &mut self,
        src: &[u8],
        (width, height): (u32, u32),
        quality: u8,
        transform: Transform,
    ) -> Result<(Bytes, u32, u32), CaptureError> {
        let (pixels, w, h) = if transform.is_identity() {
            (src, width, height)
        } else {
            let (w, h) = transform.apply(src, width, height, &mut self.transformed);
            (self.transformed.as_slice(), w, h)
        };
        let jpeg = self
            .encoder
            .encode_rgb(pixels, w, h, quality)
            .map_err(|e| CaptureError::Other(e.to_string()))?;
        Ok((jpeg, w, h))
    }
}
