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
//! `Drop`); those calls go through [`guard`] so a bad device is an error, not
//! a crash.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use bytes::Bytes;
use v4l::buffer::{Flags as BufferFlags, Type};
use v4l::capability::Flags as CapFlags;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::io::traits::CaptureStream;
use v4l::prelude::{Device, MmapStream};
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Format, FourCC, Fraction};

use super::camera_mode::{self, Mode, PixelFormat, Request};
use super::{CaptureError, FrameSource, SourceFrame, SourceInfo, convert};

mod list;
pub use list::{CameraInfo, FormatInfo, SizeInfo, list_cameras, print_camera_list};

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

/// Runs a `v4l` call that may panic on odd driver data, turning the panic
/// into an error message.
fn guard<T>(what: &str, f: impl FnOnce() -> io::Result<T>) -> Result<io::Result<T>, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("{what}: driver returned data the V4L2 library cannot read ({msg})")
    })
}

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
            request: Request { width, height, fps },
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

/// The modes the device offers, with stepwise sizes and rates reduced to the
/// values worth considering for `req`.
fn offered_modes(device: &Device, req: &Request) -> Result<Vec<Mode>, String> {
    let descriptions = guard("listing formats", || device.enum_formats())?
        .map_err(|e| format!("listing formats: {e}"))?;
    let mut modes = Vec::new();
    for desc in descriptions {
        let fourcc = desc.fourcc.repr;
        if PixelFormat::from_fourcc(fourcc).is_none() {
            continue;
        }
        // Drivers that cannot enumerate sizes get asked for the request.
        let sizes = match device.enum_framesizes(desc.fourcc) {
            Ok(sizes) if !sizes.is_empty() => sizes
                .into_iter()
                .flat_map(|s| sizes_for(s.size, req))
                .collect(),
            _ => vec![(req.width, req.height)],
        };
        for (width, height) in sizes {
            let intervals = device
                .enum_frameintervals(desc.fourcc, width, height)
                .unwrap_or_default();
            let mut any = false;
            for iv in intervals {
                for (num, den) in intervals_for(iv.interval, req) {
                    modes.push(Mode {
                        fourcc,
                        width,
                        height,
                        interval_num: num,
                        interval_den: den,
                    });
                    any = true;
                }
            }
            if !any {
                modes.push(Mode {
                    fourcc,
                    width,
                    height,
                    interval_num: 1,
                    interval_den: req.fps,
                });
            }
        }
    }
    Ok(modes)
}

/// A discrete size as is; a stepwise range as its ends plus the request
/// snapped onto the grid.
fn sizes_for(size: FrameSizeEnum, req: &Request) -> Vec<(u32, u32)> {
    match size {
        FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
        FrameSizeEnum::Stepwise(s) => {
            let snap = |v: u32, min: u32, max: u32, step: u32| {
                let v = v.clamp(min, max.max(min));
                let step = step.max(1);
                min + (v - min) / step * step
            };
            vec![
                (s.min_width, s.min_height),
                (s.max_width, s.max_height),
                (
                    snap(req.width, s.min_width, s.max_width, s.step_width),
                    snap(req.height, s.min_height, s.max_height, s.step_height),
                ),
            ]
        }
    }
}

/// A discrete interval as is; a range as its fastest end plus the requested
/// rate when it lies inside.
fn intervals_for(interval: FrameIntervalEnum, req: &Request) -> Vec<(u32, u32)> {
    match interval {
        FrameIntervalEnum::Discrete(f) => vec![(f.numerator, f.denominator)],
        FrameIntervalEnum::Stepwise(s) => {
            let secs = |f: &Fraction| f64::from(f.numerator) / f64::from(f.denominator.max(1));
            let mut out = vec![(s.min.numerator, s.min.denominator)];
            let wanted = 1.0 / f64::from(req.fps.max(1));
            if secs(&s.min) <= wanted && wanted <= secs(&s.max) {
                out.push((1, req.fps));
            }
            out
        }
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
            .map_err(|e| self.open_error(e))?
            .map_err(|e| self.open_error(format!("querying the device: {e}")))?;
        if !caps
            .capabilities
            .contains(CapFlags::VIDEO_CAPTURE | CapFlags::STREAMING)
        {
            return Err(self.open_error(format!(
                "'{}' ({}) is not a video capture device with streaming (a metadata or codec node?)",
                caps.card, caps.driver
            )));
        }
        let modes = offered_modes(&device, &self.request).map_err(|e| self.open_error(e))?;
        let Some(mode) = camera_mode::choose(&modes, &self.request) else {
            return Err(self.open_error(format!(
                "'{}' offers none of the formats this service can use (MJPEG, YUYV, NV12); \
                 run `tars-camera list-cameras` to see what it offers",
                caps.card
            )));
        };
        let wanted = Format::new(mode.width, mode.height, FourCC::new(&mode.fourcc));
        let actual = guard("setting the format", || device.set_format(&wanted))
            .map_err(|e| self.open_error(e))?
            .map_err(|e| {
                self.open_error(format!(
                    "setting {}x{} {}: {e}",
                    mode.width,
                    mode.height,
                    FourCC::new(&mode.fourcc)
                ))
            })?;
        let Some(pixel_format) = PixelFormat::from_fourcc(actual.fourcc.repr) else {
            return Err(self.open_error(format!(
                "driver switched to unusable format {}",
                actual.fourcc
            )));
        };
        // Not every driver can set the rate; the real one is read back below.
        if let Err(e) = device.set_params(&Parameters::new(Fraction::new(
            mode.interval_num,
            mode.interval_den,
        ))) {
            tracing::debug!("{}: cannot set frame interval: {e}", self.path);
        }
        let fps = match device.params() {
            Ok(p) if p.interval.numerator > 0 => {
                f64::from(p.interval.denominator) / f64::from(p.interval.numerator)
            }
            _ => mode.fps(),
        };
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
    match opened.format {
        PixelFormat::Mjpeg => Ok(SourceFrame::Jpeg {
            width,
            height,
            data: Bytes::copy_from_slice(data),
        }),
        PixelFormat::Yuyv => {
            convert::yuyv_to_rgb(data, width, height, opened.stride, rgb)?;
            Ok(SourceFrame::Rgb { width, height })
        }
        PixelFormat::Nv12 => {
            convert::nv12_to_rgb(data, width, height, opened.stride, rgb)?;
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

    #[test]
    fn stepwise_sizes_snap_the_request_onto_the_grid() {
        let req = Request {
            width: 641,
            height: 479,
            fps: 30,
        };
        let s = v4l::framesize::Stepwise {
            min_width: 32,
            max_width: 2592,
            step_width: 2,
            min_height: 32,
            max_height: 1944,
            step_height: 2,
        };
        let sizes = sizes_for(FrameSizeEnum::Stepwise(s), &req);
        assert_eq!(sizes, [(32, 32), (2592, 1944), (640, 478)]);
    }

    #[test]
    fn stepwise_rates_include_the_request() {
        let req = Request {
            width: 640,
            height: 480,
            fps: 25,
        };
        let iv = v4l::frameinterval::Stepwise {
            min: Fraction::new(1, 90),
            max: Fraction::new(1, 1),
            step: Fraction::new(1, 1),
        };
        assert_eq!(
            intervals_for(FrameIntervalEnum::Stepwise(iv), &req),
            [(1, 90), (1, 25)]
        );
    }
}
