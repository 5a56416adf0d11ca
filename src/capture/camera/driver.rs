//! Calls into the V4L2 library that may fail or panic on odd driver data,
//! and starting and dropping a stream.

use std::io;
use std::time::Duration;

use std::panic::{AssertUnwindSafe, catch_unwind};
use v4l::buffer::Type;
use v4l::prelude::{Device, MmapStream};

/// A V4L2 call that failed, or panicked inside the library.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{what}: driver returned data the V4L2 library cannot read ({message})")]
    Panicked { what: String, message: String },
}

/// Runs a `v4l` call `what`, turning both its error and a panic inside the
/// library into a [`DriverError`] that names the call.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> io::Result<T>) -> Result<T, DriverError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(DriverError::Io {
            what: what.to_owned(),
            source,
        }),
        Err(panic) => Err(DriverError::Panicked {
            what: what.to_owned(),
            message: panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        }),
    }
}

/// Drops a stream (STREAMOFF, unmap, free buffers), which `v4l` does in a
/// `Drop` that panics on any error but "device gone".
pub(super) fn drop_stream(stream: MmapStream<'static>) {
    if let Err(e) = guard("stopping the stream", || {
        drop(stream);
        Ok(())
    }) {
        tracing::warn!("{e}");
    }
}

/// A stream of the camera's buffers that waits at most `timeout_ms` for a
/// frame.
pub(super) fn new_stream(device: &Device, timeout_ms: u64) -> io::Result<MmapStream<'static>> {
    let mut stream = MmapStream::with_buffers(device, Type::VideoCapture, super::BUFFER_COUNT)?;
    stream.set_timeout(Duration::from_millis(timeout_ms.min(i32::MAX as u64)));
    Ok(stream)
}

/// `struct v4l2_ext_controls` as `<linux/videodev2.h>` lays it out (the
/// `v4l` crate keeps its own copy private).
#[repr(C)]
struct ExtControls {
    which: u32,
    count: u32,
    error_idx: u32,
    request_fd: i32,
    reserved: [u32; 1],
    controls: *mut v4l::v4l_sys::v4l2_ext_control,
}

/// The current value of an integer-menu control (its item's index), which
/// `v4l`'s `Device::control` refuses to read: one `VIDIOC_G_EXT_CTRLS`.
///
/// # Errors
/// The driver refused the read.
#[expect(
    unsafe_code,
    reason = "one ioctl with the kernel's structs; the v4l crate has no call for this type"
)]
pub(super) fn integer_menu_value(device: &Device, id: u32) -> io::Result<i64> {
    // SAFETY: v4l2_ext_control is plain data (integers and a union of an
    // integer and pointers) for which all-zero is the C callers' memset.
    let mut control: v4l::v4l_sys::v4l2_ext_control = unsafe { std::mem::zeroed() };
    control.id = id;
    let mut controls = ExtControls {
        which: 0,
        count: 1,
        error_idx: 0,
        request_fd: 0,
        reserved: [0],
        controls: &raw mut control,
    };
    // SAFETY: VIDIOC_G_EXT_CTRLS takes a v4l2_ext_controls, laid out as
    // `ExtControls`, whose `controls` points at one live v4l2_ext_control;
    // the driver writes only into those two for the call's length.
    unsafe {
        v4l::v4l2::ioctl(
            device.handle().fd(),
            v4l::v4l2::vidioc::VIDIOC_G_EXT_CTRLS,
            (&raw mut controls).cast::<std::ffi::c_void>(),
        )?;
    }
    // SAFETY: an integer-menu control's value is the 32-bit `value` member
    // (its payload is not a pointer: `size` stays 0).
    Ok(i64::from(unsafe { control.__bindgen_anon_1.value }))
}
