//! The real camera: a V4L2 device (USB UVC webcam, or any driver that offers
//! single-planar MJPEG, YUYV or NV12 capture with mmap streaming).
//!
//! Built on the `v4l` crate, the V4L2 layer nokhwa's Linux backend uses, and
//! not on nokhwa's own capture device, because that one blocks for ever on a
//! camera that stops sending (no read timeout), hands out the whole mmap
//! buffer instead of the `bytesused` part (stale bytes after every MJPEG
//! frame, which passthrough would serve), refuses cameras whose frame
//! interval is not 1/N (30000/1001), and can panic while enumerating.
//!
//! Never blocks without a bound: opening fails fast, a read waits at most the
//! read timeout. `v4l` panics in a few places on odd driver data (a
//! non-UTF-8 card name, an unknown colorspace, a failing STREAMOFF in
//! `Drop`); those calls go through `driver::guard` so a bad device is an error, not
//! a crash.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use v4l::buffer::{Flags as BufferFlags, Type};
use v4l::capability::Flags as CapFlags;
use v4l::io::traits::CaptureStream;
use v4l::prelude::{Device, MmapStream};
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Format, FourCC, Fraction};

use super::camera_mode::{self, PixelFormat, Request};
use super::{CaptureError, FrameSource, SourceFrame, SourceInfo, convert};

mod driver;
mod list;
mod modes;

use driver::guard;
pub use list::{CameraInfo, FormatInfo, SizeInfo, list_cameras, print_camera_list};
use modes::offered_modes;

/// Default bound on waiting for one frame once frames flow.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// The first frame after (re)starting the stream may take longer: UVC
/// cameras settle exposure first.
const FIRST_FRAME_FACTOR: u32 = 3;
/// Buffers the driver fills in turn.
const BUFFER_COUNT: u32 = 4;

const ENXIO: i32 = 6;
const ENODEV: i32 = 19;
const ESHUTDOWN: i32 = 108;

/// Drops a stream (STREAMOFF, unmap, free buffers), which `v4l` does in a
/// `Drop` that panics on any error but "device gone".
fn drop_stream(stream: MmapStream<'static>) {
    if let Err(e) = guard("stopping the stream", || {
        drop(stream);
        Ok(())
    }) {
        tracing::warn!("{e}");
    }
}

/// The camera device as it was opened.
struct Opened {
    device: Device,
    stream: Option<MmapStream<'static>>,
    /// No frame yet from this stream: the longer first-frame timeout applies.
    fresh: bool,
    format: PixelFormat,
    width: u32,
    height: u32,
    stride: usize,
}

/// A V4L2 camera as a [`FrameSource`].
pub struct CameraSource {
    path: String,
    request: Request,
    read_timeout: Duration,
    opened: Option<Opened>,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("path", &self.path)
            .field("request", &self.request)
            .field("read_timeout", &self.read_timeout)
            .field("open", &self.opened.is_some())
            .finish()
    }
}

impl CameraSource {
    /// The camera `/dev/video{index}`, asking for the mode closest to
    /// `width`x`height` at `fps`. Nothing is opened yet.
    pub fn new(index: u32, width: u32, height: u32, fps: u32) -> Self {
        Self {
            path: format!("/dev/video{index}"),
            request: Request::new(width, height, fps),
            read_timeout: DEFAULT_READ_TIMEOUT,
            opened: None,
        }
    }

    /// How long `next_frame` waits for a frame before `CaptureError::Timeout`
    /// (three times as long for the first frame after opening).
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Ask for the mode's frame interval and read back the rate the
    /// driver took (not every driver can set it).
    fn negotiate_rate(&self, device: &Device, mode: &camera_mode::Mode) -> f64 {
        let interval = Fraction::new(mode.interval_num, mode.interval_den);
        if let Err(e) = device.set_params(&Parameters::new(interval)) {
            tracing::debug!("{}: cannot set frame interval: {e}", self.path);
        }
        match device.params() {
            Ok(p) if p.interval.numerator > 0 => {
                f64::from(p.interval.denominator) / f64::from(p.interval.numerator)
            }
            _ => mode.fps(),
        }
    }

    fn open_error(&self, reason: impl Into<String>) -> CaptureError {
        CaptureError::Open {
            device: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn timeout_ms(&self, first: bool) -> u64 {
        let t = if first {
            self.read_timeout * FIRST_FRAME_FACTOR
        } else {
            self.read_timeout
        };
        u64::try_from(t.as_millis()).unwrap_or(u64::MAX)
    }
}

fn describe_open_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such device (camera unplugged?)".to_string(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (is this user in the 'video' group?)".to_string()
        }
        _ if e.raw_os_error() == Some(16) => "device busy (used by another program?)".to_string(),
        _ => e.to_string(),
    }
}

fn new_stream(device: &Device, timeout_ms: u64) -> io::Result<MmapStream<'static>> {
    let mut stream = MmapStream::with_buffers(device, Type::VideoCapture, BUFFER_COUNT)?;
    stream.set_timeout(Duration::from_millis(timeout_ms.min(i32::MAX as u64)));
    Ok(stream)
}

impl FrameSource for CameraSource {
    fn backend(&self) -> &'static str {
        "v4l2"
    }

    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        self.close();
        let device =
            Device::with_path(&self.path).map_err(|e| self.open_error(describe_open_error(&e)))?;
        let caps = guard("querying the device", || device.query_caps())
            .map_err(|e| self.open_error(e.to_string()))?;
        if !caps
            .capabilities
            .contains(CapFlags::VIDEO_CAPTURE | CapFlags::STREAMING)
        {
            return Err(self.open_error(format!(
                "'{}' ({}) is not a video capture device with streaming (a metadata or codec node?)",
                caps.card, caps.driver
            )));
        }
        let modes =
            offered_modes(&device, &self.request).map_err(|e| self.open_error(e.to_string()))?;
        let Some(mode) = camera_mode::choose(&modes, &self.request) else {
            return Err(self.open_error(format!(
                "'{}' offers none of the formats this service can use (MJPEG, YUYV, NV12); \
                 run `tars-camera list-cameras` to see what it offers",
                caps.card
            )));
        };
        let wanted = Format::new(mode.width, mode.height, FourCC::new(&mode.fourcc));
        let setting = format!(
            "setting {}x{} {}",
            mode.width,
            mode.height,
            FourCC::new(&mode.fourcc)
        );
        let actual = guard(&setting, || device.set_format(&wanted))
            .map_err(|e| self.open_error(e.to_string()))?;
        let Some(pixel_format) = PixelFormat::from_fourcc(actual.fourcc.repr) else {
            return Err(self.open_error(format!(
                "driver switched to unusable format {}",
                actual.fourcc
            )));
        };
        let fps = self.negotiate_rate(&device, &mode);
        let stream = new_stream(&device, self.timeout_ms(true))
            .map_err(|e| self.open_error(format!("starting the stream: {e}")))?;
        let info = SourceInfo {
            device: format!("{} ({})", self.path, caps.card),
            width: actual.width,
            height: actual.height,
            fps,
            pixel_format: pixel_format.name().to_string(),
            self_paced: true,
        };
        tracing::info!(
            "opened {}: {} {}x{} at {:.2} fps",
            info.device,
            info.pixel_format,
            info.width,
            info.height,
            info.fps
        );
        self.opened = Some(Opened {
            device,
            stream: Some(stream),
            fresh: true,
            format: pixel_format,
            width: actual.width,
            height: actual.height,
            stride: actual.stride as usize,
        });
        Ok(info)
    }

    fn next_frame(&mut self, rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        let first_ms = self.timeout_ms(true);
        let read_ms = self.timeout_ms(false);
        let Some(opened) = self.opened.as_mut() else {
            return Err(CaptureError::Other(format!("{} is not open", self.path)));
        };
        let mut stream = match opened.stream.take() {
            Some(s) => s,
            // Restart after a failed read (see below).
            None => match new_stream(&opened.device, first_ms) {
                Ok(s) => {
                    opened.fresh = true;
                    s
                }
                Err(e) => return Err(stream_error(&self.path, &e, first_ms, &mut self.opened)),
            },
        };
        let first = opened.fresh;
        let result = match stream.next() {
            Ok((buf, meta)) => {
                let used = (meta.bytesused as usize).min(buf.len());
                let data = &buf[..used];
                if meta.flags.contains(BufferFlags::ERROR) {
                    Err(CaptureError::Corrupt(
                        "driver marked the frame as damaged".to_string(),
                    ))
                } else if used == 0 {
                    Err(CaptureError::Corrupt("empty frame".to_string()))
                } else {
                    frame_from(opened, data, rgb)
                }
            }
            Err(e) => {
                // The stream's queue state after a failed read is unknown
                // (v4l re-queues on the next call); restart it next time.
                drop_stream(stream);
                let ms = if first { first_ms } else { read_ms };
                return Err(stream_error(&self.path, &e, ms, &mut self.opened));
            }
        };
        if first {
            opened.fresh = false;
            stream.set_timeout(Duration::from_millis(read_ms.min(i32::MAX as u64)));
        }
        opened.stream = Some(stream);
        result
    }

    fn close(&mut self) {
        if let Some(stream) = self.opened.take().and_then(|mut o| o.stream.take()) {
            drop_stream(stream);
        }
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        self.close();
    }
}

fn frame_from(
    opened: &Opened,
    data: &[u8],
    rgb: &mut Vec<u8>,
) -> Result<SourceFrame, CaptureError> {
    let (width, height) = (opened.width, opened.height);
    let layout = convert::RawLayout::new(width, height, opened.stride);
    match opened.format {
        PixelFormat::Mjpeg => Ok(SourceFrame::Jpeg {
            width,
            height,
            data: Bytes::copy_from_slice(data),
        }),
        PixelFormat::Yuyv => {
            convert::yuyv_to_rgb(data, layout, rgb)?;
            Ok(SourceFrame::Rgb { width, height })
        }
        PixelFormat::Nv12 => {
            convert::nv12_to_rgb(data, layout, rgb)?;
            Ok(SourceFrame::Rgb { width, height })
        }
    }
}

/// Maps a failed read; a vanished device also forgets the open state.
fn stream_error(path: &str, e: &io::Error, ms: u64, opened: &mut Option<Opened>) -> CaptureError {
    if e.kind() == io::ErrorKind::TimedOut {
        return CaptureError::Timeout { ms };
    }
    if matches!(e.raw_os_error(), Some(ENODEV | ENXIO | ESHUTDOWN)) {
        *opened = None;
        return CaptureError::Disconnected(format!("{path}: {e}"));
    }
    CaptureError::Other(format!("{path}: reading a frame: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn missing_device_fails_fast_with_open() {
        // /dev/video250 does not exist here (nor on any normal machine).
        let mut cam = CameraSource::new(250, 640, 480, 30);
        let start = Instant::now();
        match cam.open() {
            Err(CaptureError::Open { device, reason }) => {
                assert_eq!(device, "/dev/video250");
                assert!(reason.contains("no such device"), "{reason}");
            }
            other => panic!("expected Open, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_millis(100));
        // Reading without an open device is an error, not a hang.
        assert!(matches!(
            cam.next_frame(&mut Vec::new()),
            Err(CaptureError::Other(_))
        ));
        cam.close();
        cam.close();
        assert_eq!(cam.backend(), "v4l2");
    }

    #[test]
    fn a_non_camera_file_is_refused() {
        // Opening something that is not a V4L2 node fails with Open, no panic.
        let mut cam = CameraSource::new(0, 640, 480, 30);
        cam.path = "/dev/null".to_string();
        assert!(matches!(cam.open(), Err(CaptureError::Open { .. })));
    }

    #[test]
    fn read_errors_map_to_capture_errors() {
        let timed_out = io::Error::new(io::ErrorKind::TimedOut, "VIDIOC_DQBUF");
        let mut none = None;
        assert_eq!(
            stream_error("/dev/video0", &timed_out, 2000, &mut none),
            CaptureError::Timeout { ms: 2000 }
        );
        for errno in [ENODEV, ENXIO, ESHUTDOWN] {
            let gone = io::Error::from_raw_os_error(errno);
            assert!(matches!(
                stream_error("/dev/video0", &gone, 2000, &mut none),
                CaptureError::Disconnected(_)
            ));
        }
        let other = io::Error::from_raw_os_error(22); // EINVAL
        assert!(matches!(
            stream_error("/dev/video0", &other, 2000, &mut none),
            CaptureError::Other(_)
        ));
    }
}
