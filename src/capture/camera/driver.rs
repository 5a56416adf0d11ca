//! Calls into the V4L2 library that may fail or panic on odd driver data.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};

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
