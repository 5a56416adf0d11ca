//! Frame sources and the capture thread.
//!
//! A [`FrameSource`] delivers pictures; the capture thread paces it, applies
//! rotation/flip, encodes, and publishes to the frame hub. Nothing here knows
//! who reads the frames.

pub mod adjust;
pub mod camera;
pub mod camera_mode;
pub mod controls;
pub mod convert;
pub mod encode_pool;
pub mod file;
pub mod flaky;
pub mod jpeg_check;
pub mod mode;
pub mod test_pattern;
pub mod thread;

use bytes::Bytes;

/// Why a source could not deliver. Errors are values: the capture thread
/// counts them, backs off and re-opens; nothing panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The device could not be opened (missing, busy, no permission).
    #[error("cannot open {device}: {reason}")]
    Open { device: String, reason: String },
    /// No frame arrived in time.
    #[error("no frame within {ms} ms")]
    Timeout { ms: u64 },
    /// The source delivered data that is not a valid picture.
    #[error("corrupt frame: {0}")]
    Corrupt(String),
    /// The device went away (unplugged).
    #[error("device lost: {0}")]
    Disconnected(String),
    /// The source has nothing more to give and will not have (a recording
    /// played to its end with looping off): not opened again.
    #[error("{0}: ended, not opened again")]
    Finished(String),
    /// Anything else the backend reported.
    #[error("{0}")]
    Other(String),
}

impl CaptureError {
    /// The source is gone or wedged, not merely one bad frame: health turns
    /// `camera_error` at once and the source is closed and re-opened. A read
    /// timeout is one: the read timeout is already the bound on a frame's
    /// lateness, so a camera that stays open and sends nothing (a wedged USB
    /// camera) is reported one timeout after its last frame.
    #[must_use]
    pub fn source_lost(&self) -> bool {
        matches!(
            self,
            Self::Open { .. } | Self::Disconnected(_) | Self::Finished(_) | Self::Timeout { .. }
        )
    }
}

/// What an opened source delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Human name of the device ("test pattern", "/dev/video0 (HD Webcam)").
    pub device: String,
    /// Real resolution and rate, which may differ from what was asked.
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// "RGB24", "MJPEG", "YUYV", …
    pub pixel_format: String,
    /// True when `next_frame` blocks until the device has a new frame (a
    /// camera); false when it returns at once (the test pattern), so the
    /// capture thread must pace it.
    pub self_paced: bool,
}

/// One picture from a source.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceFrame {
    /// Packed RGB24 written into the buffer the caller passed.
    Rgb { width: u32, height: u32 },
    /// Packed I420 (full-range Y, then U and V at half size each way)
    /// written into the buffer the caller passed: raw camera pixels for
    /// libjpeg-turbo's YUV compression, asked with
    /// [`FrameSource::want_yuv`].
    Yuv420 { width: u32, height: u32 },
    /// The device's own JPEG (MJPEG cameras), untouched.
    Jpeg {
        width: u32,
        height: u32,
        data: Bytes,
    },
}

/// A camera, a test pattern, or a wrapper around either.
pub trait FrameSource: Send {
    /// Backend name as reported in payloads ("v4l2", "test-pattern").
    fn backend(&self) -> &'static str;
    /// Open (or re-open) the device.
    ///
    /// # Errors
    /// `CaptureError::Open` when the device is missing, busy or refuses the format.
    fn open(&mut self) -> Result<SourceInfo, CaptureError>;
    /// The next picture. RGB pictures are written into `rgb` (resized as
    /// needed, reused across calls so no frame allocates).
    ///
    /// # Errors
    /// Any `CaptureError`; the caller decides whether to re-open.
    fn next_frame(&mut self, rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError>;
    /// Release the device. Safe to call twice.
    fn close(&mut self);
    /// Asked while waiting to re-open after a failure: true when something
    /// happened that makes opening now worth trying before the backoff ends
    /// (a camera's device node appeared). Must not block.
    fn reopen_hint(&mut self) -> bool {
        false
    }
    /// The controls the open source offers, with their current values
    /// (none by default).
    fn controls(&mut self) -> Vec<controls::ControlInfo> {
        Vec::new()
    }
    /// Write checked controls (see [`controls::resolve`]); on a failure the
    /// ones already written are put back.
    ///
    /// # Errors
    /// The source has no controls, is not open, or refused one.
    fn set_controls(&mut self, writes: &[controls::Write]) -> Result<(), controls::ControlsError> {
        let _ = writes;
        Err(controls::ControlsError::NoControls)
    }
    /// The mode the next open asks for; `None` when it cannot be changed
    /// (a recording plays at its own size).
    fn requested_mode(&self) -> Option<mode::ModeRequest> {
        None
    }
    /// Ask for `mode` at the next open (nothing is re-opened here).
    ///
    /// # Errors
    /// The source cannot take that kind of change (its reason).
    fn request_mode(&mut self, mode: &mode::ModeRequest) -> Result<(), mode::ModeError> {
        let _ = mode;
        Err(mode::ModeError::fixed(self.backend()))
    }
    /// The sizes and rates the source offers (empty: any size, or unknown).
    fn modes(&self) -> Vec<mode::ModeOption> {
        Vec::new()
    }
    /// Deliver raw pixels as [`SourceFrame::Yuv420`] rather than RGB when
    /// `yes` (the encoder takes YUV planes and nothing turns the picture).
    /// Sources without raw pixels ignore it.
    fn want_yuv(&mut self, yes: bool) {
        let _ = yes;
    }
}

impl<T: FrameSource + ?Sized> FrameSource for Box<T> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        (**self).open()
    }
    fn next_frame(&mut self, rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        (**self).next_frame(rgb)
    }
    fn close(&mut self) {
        (**self).close();
    }
    fn reopen_hint(&mut self) -> bool {
        (**self).reopen_hint()
    }
    fn controls(&mut self) -> Vec<controls::ControlInfo> {
        (**self).controls()
    }
    fn set_controls(&mut self, writes: &[controls::Write]) -> Result<(), controls::ControlsError> {
        (**self).set_controls(writes)
    }
    fn requested_mode(&self) -> Option<mode::ModeRequest> {
        (**self).requested_mode()
    }
    fn request_mode(&mut self, mode: &mode::ModeRequest) -> Result<(), mode::ModeError> {
        (**self).request_mode(mode)
    }
    fn modes(&self) -> Vec<mode::ModeOption> {
        (**self).modes()
    }
    fn want_yuv(&mut self, yes: bool) {
        (**self).want_yuv(yes);
    }
}
