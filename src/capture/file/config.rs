//! The `--file` checks made while the configuration is validated, before
//! anything starts.

use std::path::PathBuf;

use super::probe::{ProbeError, probe};

/// Why `--file` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileOptionError {
    #[error("required with --source file (a recording: MJPEG file, saved /stream, or folder)")]
    Missing,
    #[error("{0}")]
    Probe(#[from] ProbeError),
}

/// With the file source: `--file` given and holding a JPEG; returns it and
/// its picture size. Without: `--file` is ignored (with a warning).
///
/// # Errors
/// No `--file`, or a recording that cannot be played.
pub fn check(
    file_source: bool,
    file: Option<PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<(Option<PathBuf>, Option<(u32, u32)>), FileOptionError> {
    match (file_source, file) {
        (false, None) => Ok((None, None)),
        (false, Some(path)) => {
            warnings.push(format!(
                "--file {} is ignored: it is read only with --source file",
                path.display()
            ));
            Ok((None, None))
        }
        (true, None) => Err(FileOptionError::Missing),
        (true, Some(path)) => {
            let recording = probe(&path)?;
            Ok((Some(path), Some((recording.width, recording.height))))
        }
    }
}

/// The picture size: the recording's when there is one (a `--width` /
/// `--height` that disagrees gets one warning), else the one asked for.
pub fn size(
    recorded: Option<(u32, u32)>,
    width: u32,
    height: u32,
    asked: bool,
    warnings: &mut Vec<String>,
) -> (u32, u32) {
    match recorded {
        Some((w, h)) => {
            if asked && (w, h) != (width, height) {
                warnings.push(format!(
                    "--width/--height {width}x{height} ignored: the recording's pictures are {w}x{h}"
                ));
            }
            (w, h)
        }
        None => (width, height),
    }
}
