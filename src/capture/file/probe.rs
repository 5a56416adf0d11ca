//! The check made before anything starts: is there a picture to play, and
//! how large is it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::folder::FolderFrames;
use super::stream::StreamFrames;
use super::{FrameFault, MAX_FRAME};
use crate::capture::jpeg_check;

/// How far into a recording the first JPEG must be.
pub const PROBE_BYTES: u64 = 8 * 1024 * 1024;

/// How a recording is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One file: raw MJPEG or a saved multipart stream.
    Stream,
    /// A folder of `*.jpg` / `*.jpeg` files.
    Folder,
}

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    pub layout: Layout,
    /// Size of the first picture, from its JPEG header.
    pub width: u32,
    pub height: u32,
}

/// Why a recording cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("no JPEG in the first 8 MiB of {path}")]
    NoJpeg { path: String },
    #[error("no *.jpg or *.jpeg file in the folder {path}")]
    EmptyFolder { path: String },
}

/// Look at `path`: a file with a JPEG in its first 8 MiB, or a folder whose
/// pictures hold one in their first 8 MiB.
///
/// # Errors
/// Missing or unreadable path, or no JPEG where one is expected.
pub fn probe(path: &Path) -> Result<Recording, ProbeError> {
    let shown = path.display().to_string();
    let unreadable = |reason: String| ProbeError::Unreadable {
        path: shown.clone(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    let (layout, size) = if meta.is_dir() {
        (Layout::Folder, probe_folder(path, &shown)?)
    } else {
        let file = File::open(path).map_err(|e| unreadable(e.to_string()))?;
        (Layout::Stream, probe_stream(file, &shown)?)
    };
    match size {
        Some((width, height)) => Ok(Recording {
            layout,
            width,
            height,
        }),
        None if layout == Layout::Folder
            && super::folder::list(path).is_ok_and(|f| f.is_empty()) =>
        {
            Err(ProbeError::EmptyFolder { path: shown })
        }
        None => Err(ProbeError::NoJpeg { path: shown }),
    }
}

/// Size of the first valid JPEG in the first `PROBE_BYTES` of `input`
/// (the recording `shown`).
fn probe_stream(input: impl Read, shown: &str) -> Result<Option<(u32, u32)>, ProbeError> {
    let mut frames = StreamFrames::new(input.take(PROBE_BYTES), MAX_FRAME);
    loop {
        match frames.next_frame() {
            Ok(Some(jpeg)) => {
                if let Ok(size) = jpeg_check::validate(&jpeg) {
                    return Ok(Some(size));
                }
            }
            Ok(None) => return Ok(None),
            Err(FrameFault::Read(reason)) => {
                return Err(ProbeError::Unreadable {
                    path: shown.to_owned(),
                    reason,
                });
            }
            Err(_) => {}
        }
    }
}

/// Size of the first valid picture in the folder, reading at most
/// `PROBE_BYTES` of its files.
fn probe_folder(dir: &Path, shown: &str) -> Result<Option<(u32, u32)>, ProbeError> {
    let mut frames = FolderFrames::open(dir, 0, MAX_FRAME).map_err(|e| ProbeError::Unreadable {
        path: shown.to_owned(),
        reason: e.to_string(),
    })?;
    let mut budget = PROBE_BYTES;
    while budget > 0 {
        match frames.next_frame() {
            Ok(Some(jpeg)) => {
                if let Ok(size) = jpeg_check::validate(&jpeg) {
                    return Ok(Some(size));
                }
                budget = budget.saturating_sub(jpeg.len() as u64);
            }
            Ok(None) => return Ok(None),
            Err(_) => budget = budget.saturating_sub(1),
        }
    }
    Ok(None)
}
