//! What a failed open or read of the camera is called: the errno the
//! kernel gave, said in the words of the camera checks in docs/cameras.md.

use std::io;

use super::Opened;
use super::driver::DriverError;
use crate::capture::CaptureError;

pub(super) const ENXIO: i32 = 6;
pub(super) const EBUSY: i32 = 16;
pub(super) const ENODEV: i32 = 19;
pub(super) const ESHUTDOWN: i32 = 108;

pub(super) fn open_error(device: &str, reason: impl Into<String>) -> CaptureError {
    CaptureError::Open {
        device: device.to_owned(),
        reason: reason.into(),
    }
}

/// A failed V4L2 call as the reason of an open error: "device busy" said
/// plainly, wherever opening or starting the stream meets it (uvcvideo lets
/// `open` succeed and refuses the format or the buffers while another
/// program streams).
pub(super) fn describe_driver_error(e: &DriverError) -> String {
    match e {
        DriverError::Io { what, source } if source.raw_os_error() == Some(EBUSY) => {
            format!("{what}: {}", describe_open_error(source))
        }
        _ => e.to_string(),
    }
}

pub(super) fn describe_open_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such device (camera unplugged?)".to_string(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (is this user in the 'video' group?)".to_string()
        }
        _ if e.raw_os_error() == Some(EBUSY) => {
            "device busy (used by another program?)".to_string()
        }
        _ => e.to_string(),
    }
}

/// Maps a failed read; a vanished device also forgets the open state.
pub(super) fn stream_error(
    path: &str,
    e: &io::Error,
    ms: u64,
    opened: &mut Option<Opened>,
) -> CaptureError {
    if e.kind() == io::ErrorKind::TimedOut {
        return CaptureError::Timeout { ms };
    }
    if matches!(e.raw_os_error(), Some(ENODEV | ENXIO | ESHUTDOWN)) {
        *opened = None;
        return CaptureError::Disconnected(format!("{path}: {e}"));
    }
    if e.raw_os_error() == Some(EBUSY) {
        // Another program took the camera between opening and streaming.
        return open_error(
            path,
            format!("starting the stream: {}", describe_open_error(e)),
        );
    }
    CaptureError::Other(format!("{path}: reading a frame: {e}"))
}
