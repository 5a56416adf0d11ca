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
