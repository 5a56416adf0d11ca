//! Handing the source's pictures on: to the encode pool, or a camera JPEG
//! straight to the hub; and which form raw pixels come in.

use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use super::shared::Input;
use super::{Capture, Job, Picture};
use crate::capture::encode_pool::Encoded;
use crate::capture::{CaptureError, SourceFrame};

impl Capture {
    /// Raw pixels as YUV planes when libjpeg-turbo encodes and nothing
    /// turns the picture (half the work of going through RGB); as RGB
    /// otherwise.
    pub(super) fn ask_yuv(&mut self) {
        let yes = self.settings.codec.kind() == crate::encode::EncoderKind::Turbo
            && self.settings.transform.is_identity();
        self.source.want_yuv(yes);
    }

    /// Hand a source picture to the encode pool (or publish a camera JPEG
    /// as it is). Cheap: validation only; never waits on a worker.
    pub(super) fn submit(
        &mut self,
        frame: SourceFrame,
        buffer: Vec<u8>,
        started: Instant,
    ) -> Result<(), CaptureError> {
        let quality = self.shared.quality();
        let captured_wall = SystemTime::now();
        let backend = self.source.backend();
        let input = match &frame {
            SourceFrame::Jpeg { .. } => Input::Jpeg,
            SourceFrame::Yuv420 { .. } => Input::Yuv420,
            SourceFrame::Rgb { .. } => Input::Rgb,
        };
        self.shared.input.store(input as u8, Ordering::Relaxed);
        let picture = match frame {
            SourceFrame::Jpeg {
                width,
                height,
                data,
            } => {
                self.pool.recycle(buffer);
                crate::capture::jpeg_check::validate(&data)?;
                if self.settings.transform.is_identity()
                    && !self.shared.quality_overridden.load(Ordering::Relaxed)
                {
                    if let Some(checker) = self.checker.as_mut() {
                        checker
                            .check(&data)
                            .map_err(|e| CaptureError::Corrupt(e.to_string()))?;
                    }
                    self.pool.submit_ready(Encoded::finished(
                        data,
                        (width, height),
                        None,
                        (started, captured_wall),
                        backend,
                        Instant::now(),
                    ));
                    return Ok(());
                }
                Picture::Jpeg {
                    data,
                    width,
                    height,
                }
            }
            SourceFrame::Rgb { width, height } => Picture::Rgb {
                pixels: buffer,
                width,
                height,
            },
            SourceFrame::Yuv420 { width, height } => Picture::Yuv420 {
                planes: buffer,
                width,
                height,
            },
        };
        self.pool.submit(Job {
            picture,
            quality,
            captured_at: started,
            captured_wall,
            backend,
            transform: self.settings.transform,
        });
        Ok(())
    }
}
