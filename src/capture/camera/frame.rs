//! A buffer the camera filled, as the picture it holds.

use bytes::Bytes;

use super::Opened;
use crate::capture::camera_mode::PixelFormat;
use crate::capture::{CaptureError, SourceFrame, convert};

/// The picture in `data` as the source delivers it: a JPEG as it is, raw
/// pixels as RGB or (when `yuv`) as YUV planes, into `out`.
pub(super) fn frame_from(
    opened: &Opened,
    data: &[u8],
    out: &mut Vec<u8>,
    yuv: bool,
) -> Result<SourceFrame, CaptureError> {
    let (width, height) = (opened.width, opened.height);
    let layout = convert::RawLayout::new(width, height, opened.stride);
    // 4:2:0 planes of an odd width have a half-filled last chroma column.
    let yuv = yuv && width.is_multiple_of(2);
    match opened.format {
        // Only the JPEG itself is copied and served: some cameras report the
        // whole buffer as used, the picture followed by zeros.
        PixelFormat::Mjpeg => Ok(SourceFrame::Jpeg {
            width,
            height,
            data: Bytes::copy_from_slice(crate::capture::jpeg_check::trim_padding(data)),
        }),
        PixelFormat::Yuyv if yuv => {
            convert::yuyv_to_i420(data, layout, out)?;
            Ok(SourceFrame::Yuv420 { width, height })
        }
        PixelFormat::Nv12 if yuv => {
            convert::nv12_to_i420(data, layout, out)?;
            Ok(SourceFrame::Yuv420 { width, height })
        }
        PixelFormat::Yuyv => {
            convert::yuyv_to_rgb(data, layout, out)?;
            Ok(SourceFrame::Rgb { width, height })
        }
        PixelFormat::Nv12 => {
            convert::nv12_to_rgb(data, layout, out)?;
            Ok(SourceFrame::Rgb { width, height })
        }
    }
}
