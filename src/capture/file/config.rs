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

/// A recording checked to be playable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub path: PathBuf,
    /// Size of its first picture.
    pub size: (u32, u32),
}

/// With the file source: `--file` given and holding a JPEG. Without: `None`
/// (a `--file` given anyway is ignored, with a warning).
///
/// # Errors
/// No `--file`, or a recording that cannot be played.
pub fn check(
    file_source: bool,
    file: Option<PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<Option<Checked>, FileOptionError> {
    match (file_source, file) {
        (false, None) => Ok(None),
        (false, Some(path)) => {
            warnings.push(format!(
                "--file {} is ignored: it is read only with --source file",
                path.display()
            ));
            Ok(None)
        }
        (true, None) => Err(FileOptionError::Missing),
        (true, Some(path)) => {
            let recording = probe(&path)?;
            Ok(Some(Checked {
                path,
                size: (recording.width, recording.height),
            }))
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
