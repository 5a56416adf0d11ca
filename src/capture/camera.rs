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

use v4l::buffer::Flags as BufferFlags;
use v4l::capability::Flags as CapFlags;
use v4l::io::traits::CaptureStream;
use v4l::prelude::{Device, MmapStream};
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Format, FourCC, Fraction};

use super::camera_mode::{self, PixelFormat, Request};
use super::mode::{ModeError, ModeOption, ModeRequest};
use super::{CaptureError, FrameSource, SourceFrame, SourceInfo};

mod controls;
mod driver;
mod errors;
mod frame;
mod list;
mod modes;
mod watch;

use driver::{drop_stream, guard, new_stream};
use errors::{describe_driver_error, describe_open_error, open_error, stream_error};
use frame::frame_from;
pub use list::{CameraInfo, FormatInfo, SizeInfo, list_cameras, print_camera_list};
use watch::{Identity, find_moved};

/// Default bound on waiting for one frame once frames flow.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// The first frame after (re)starting the stream may take longer: UVC
/// cameras settle exposure first.
const FIRST_FRAME_FACTOR: u32 = 3;
/// Buffers the driver fills in turn.
const BUFFER_COUNT: u32 = 4;

/// The camera device as it was opened.
struct Opened {
    device: Device,
    /// The node it was opened at (the one asked for, or where it came back).
    path: String,
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
    /// The node asked for.
    path: String,
    request: Request,
    read_timeout: Duration,
    opened: Option<Opened>,
    identity: Option<Identity>,
    /// `/dev` watched for the camera's return (None where inotify fails).
    watch: Option<watch::DevWatch>,
    watch_tried: bool,
    /// The sizes and rates the camera offered when last opened.
    offered: Vec<ModeOption>,
    /// Raw frames as YUV planes rather than RGB.
    yuv: bool,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("path", &self.path)
            .field("request", &self.request)
            .field("read_timeout", &self.read_timeout)
            .field("open", &self.opened.as_ref().map(|o| &o.path))
            .field("identity", &self.identity)
            .finish_non_exhaustive()
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
            identity: None,
            watch: None,
            watch_tried: false,
            offered: Vec::new(),
            yuv: false,
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
    fn negotiate_rate(path: &str, device: &Device, mode: &camera_mode::Mode) -> f64 {
        let interval = Fraction::new(mode.interval_num, mode.interval_den);
        if let Err(e) = device.set_params(&Parameters::new(interval)) {
            tracing::debug!("{path}: cannot set frame interval: {e}");
        }
        match device.params() {
            Ok(p) if p.interval.numerator > 0 => {
                f64::from(p.interval.denominator) / f64::from(p.interval.numerator)
            }
            _ => mode.fps(),
        }
    }

    /// The device at the node asked for, or, when that node is gone, the
    /// same camera (name and bus) under another node.
    fn open_device(&self) -> Result<(Device, String), CaptureError> {
        match Device::with_path(&self.path) {
            Ok(device) => Ok((device, self.path.clone())),
            Err(e) => {
                let found = (e.kind() == io::ErrorKind::NotFound)
                    .then(|| {
                        self.identity
                            .as_ref()
                            .and_then(|id| find_moved(id, &self.path))
                    })
                    .flatten();
                found.ok_or_else(|| open_error(&self.path, describe_open_error(&e)))
            }
        }
    }

    /// Start watching `/dev` (once), and forget what happened there before
    /// this attempt.
    fn refresh_watch(&mut self) {
        if !self.watch_tried {
            self.watch_tried = true;
            match watch::DevWatch::new() {
                Ok(w) => self.watch = Some(w),
                Err(e) => tracing::debug!(
                    "cannot watch /dev ({e}): a returning camera is noticed at the next retry"
                ),
            }
        }
        if let Some(w) = self.watch.as_mut() {
            let _ = w.video_node_changed();
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

impl FrameSource for CameraSource {
    fn backend(&self) -> &'static str {
        "v4l2"
    }

    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        self.close();
        self.refresh_watch();
        let (device, path) = self.open_device()?;
        let caps = guard("querying the device", || device.query_caps())
            .map_err(|e| open_error(&path, e.to_string()))?;
        if !caps
            .capabilities
            .contains(CapFlags::VIDEO_CAPTURE | CapFlags::STREAMING)
        {
            return Err(open_error(
                &path,
                format!(
                    "'{}' ({}) is not a video capture device with streaming (a metadata or codec node?)",
                    caps.card, caps.driver
                ),
            ));
        }
        let (mode, offered) = modes::pick(&device, &self.request, &caps.card)
            .map_err(|reason| open_error(&path, reason))?;
        self.offered = offered;
        let wanted = Format::new(mode.width, mode.height, FourCC::new(&mode.fourcc));
        let setting = format!(
            "setting {}x{} {}",
            mode.width,
            mode.height,
            FourCC::new(&mode.fourcc)
        );
        let actual = guard(&setting, || device.set_format(&wanted))
            .map_err(|e| open_error(&path, describe_driver_error(&e)))?;
        let Some(pixel_format) = PixelFormat::from_fourcc(actual.fourcc.repr) else {
            return Err(open_error(
                &path,
                format!("driver switched to unusable format {}", actual.fourcc),
            ));
        };
        let fps = Self::negotiate_rate(&path, &device, &mode);
        let stream = guard("starting the stream", || {
            new_stream(&device, self.timeout_ms(true))
        })
        .map_err(|e| open_error(&path, describe_driver_error(&e)))?;
        let info = SourceInfo {
            device: format!("{path} ({})", caps.card),
            width: actual.width,
            height: actual.height,
            fps,
            pixel_format: pixel_format.name().to_string(),
            self_paced: true,
        };
        tracing::info!(
            "opened {}: {} {}x{} at {} fps",
            info.device,
            info.pixel_format,
            info.width,
            info.height,
            crate::stats::fps_text(info.fps)
        );
        self.identity = Some(Identity {
            card: caps.card,
            bus: caps.bus,
        });
        self.opened = Some(Opened {
            device,
            path,
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
                Err(e) => {
                    let path = opened.path.clone();
                    return Err(stream_error(&path, &e, first_ms, &mut self.opened));
                }
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
                    frame_from(opened, data, rgb, self.yuv)
                }
            }
            Err(e) => {
                // The stream's queue state after a failed read is unknown
                // (v4l re-queues on the next call); restart it next time.
                drop_stream(stream);
                let ms = if first { first_ms } else { read_ms };
                let path = opened.path.clone();
                return Err(stream_error(&path, &e, ms, &mut self.opened));
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

    fn controls(&mut self) -> Vec<super::controls::ControlInfo> {
        self.opened
            .as_ref()
            .map(|o| controls::enumerate(&o.device))
            .unwrap_or_default()
    }

    fn set_controls(
        &mut self,
        writes: &[super::controls::Write],
    ) -> Result<(), super::controls::ControlsError> {
        let Some(opened) = self.opened.as_ref() else {
            return Err(super::controls::ControlsError::NotOpen);
        };
        controls::write(&opened.device, writes)
    }

    fn requested_mode(&self) -> Option<ModeRequest> {
        Some(ModeRequest {
            width: self.request.width,
            height: self.request.height,
            fps: f64::from(self.request.fps),
            device: Some(self.path.clone()),
        })
    }

    fn request_mode(&mut self, mode: &ModeRequest) -> Result<(), ModeError> {
        // Rates are validated to (0, 240]: the rounded value fits.
        let fps = mode.fps.round().clamp(1.0, 240.0) as u32;
        self.request = Request::new(mode.width, mode.height, fps);
        if let Some(device) = mode.device.as_ref().filter(|d| **d != self.path) {
            self.path.clone_from(device);
            // Another camera: do not look for the old one under other nodes.
            self.identity = None;
        }
        Ok(())
    }

    fn modes(&self) -> Vec<ModeOption> {
        self.offered.clone()
    }

    fn want_yuv(&mut self, yes: bool) {
        self.yuv = yes;
    }

    fn reopen_hint(&mut self) -> bool {
        let Some(w) = self.watch.as_mut() else {
            return false;
        };
        match w.video_node_changed() {
            Ok(changed) => changed,
            Err(e) => {
                tracing::debug!("watching /dev stopped: {e}");
                self.watch = None;
                false
            }
        }
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests;
