//! Recorded footage played as a camera: a raw MJPEG file, a multipart
//! stream saved from `/stream` (this service's, ustreamer's,
//! mjpg-streamer's), or a folder of JPEG files in name order.
//!
//! It behaves as a UVC camera sending MJPEG: each frame is the recording's
//! own JPEG (passed through untouched unless a rotation, flip or quality
//! change asks for a re-encode), a damaged frame is a capture failure and is
//! skipped, and the capture thread paces it at `--fps`. At the end it starts
//! again, or with looping off it goes away as an unplugged camera does: the
//! read fails as "disconnected" and every later open fails.
//!
//! The file is read in chunks and only the current frame is held, so a
//! recording of any length plays in a few megabytes.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{CaptureError, FrameSource, SourceFrame, SourceInfo, jpeg_check};

pub mod config;
mod folder;
mod probe;
pub mod scan;
mod stream;

pub use config::settle;
pub use folder::FolderFrames;
pub use probe::{Layout, PROBE_BYTES, ProbeError, Recording, probe};
pub use stream::StreamFrames;

/// Largest frame accepted (a 8192x8192 JPEG at high quality fits).
pub const MAX_FRAME: usize = 32 * 1024 * 1024;

/// Why one frame of a recording could not be cut out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameFault {
    #[error("damaged JPEG in the recording: {0}")]
    Corrupt(&'static str),
    #[error("recording ends inside a frame ({bytes} bytes dropped)")]
    Truncated { bytes: usize },
    #[error("frame larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("reading the recording: {0}")]
    Read(String),
}

/// The open recording.
#[derive(Debug)]
enum Frames {
    Stream(StreamFrames<File>),
    Folder(FolderFrames),
}

impl Frames {
    fn next_frame(&mut self) -> Result<Option<bytes::Bytes>, FrameFault> {
        match self {
            Self::Stream(s) => s.next_frame(),
            Self::Folder(f) => f.next_frame(),
        }
    }

    /// Where the next frame is: a byte offset, or a file index.
    fn position(&self) -> u64 {
        match self {
            Self::Stream(s) => s.position(),
            Self::Folder(f) => f.position(),
        }
    }
}

/// A recording as a [`FrameSource`].
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    looping: bool,
    fps: f64,
    frames: Option<Frames>,
    /// Where to resume after a close (the capture thread re-opens a source
    /// after repeated failures; a camera resumes "now", so does this).
    resume_at: u64,
    /// Frames delivered since the recording last started over.
    frames_this_pass: u64,
    /// Played to the end with looping off: gone for good.
    ended: bool,
}

impl FileSource {
    /// The recording at `path`, nothing opened yet. `fps` is only reported:
    /// the capture thread paces the frames.
    pub fn new(path: impl Into<PathBuf>, looping: bool, fps: f64) -> Self {
        Self {
            path: path.into(),
            looping,
            fps,
            frames: None,
            resume_at: 0,
            frames_this_pass: 0,
            ended: false,
        }
    }

    fn open_error(&self, reason: impl Into<String>) -> CaptureError {
        CaptureError::Open {
            device: self.path.display().to_string(),
            reason: reason.into(),
        }
    }

    /// Open the recording, positioned at `at`.
    fn open_frames(path: &Path, layout: Layout, at: u64) -> std::io::Result<Frames> {
        Ok(match layout {
            Layout::Stream => {
                let mut file = File::open(path)?;
                file.seek(SeekFrom::Start(at))?;
                Frames::Stream(StreamFrames::starting_at(file, at, MAX_FRAME))
            }
            Layout::Folder => Frames::Folder(FolderFrames::open(
                path,
                usize::try_from(at).unwrap_or(usize::MAX),
                MAX_FRAME,
            )?),
        })
    }

    /// The recording ended: start over, or go away.
    fn at_end(&mut self) -> Result<(), CaptureError> {
        if !self.looping {
            self.ended = true;
            self.close();
            return Err(CaptureError::Disconnected(format!(
                "{}: end of the recording (looping is off)",
                self.path.display()
            )));
        }
        if self.frames_this_pass == 0 {
            // A whole pass without a frame (the file changed since it was
            // checked): fail instead of spinning.
            self.close();
            return Err(CaptureError::Disconnected(format!(
                "{}: no playable frame in the whole recording",
                self.path.display()
            )));
        }
        self.frames_this_pass = 0;
        let restarted = match self.frames.as_mut() {
            Some(Frames::Folder(f)) => f.rewind().map(|()| None),
            Some(Frames::Stream(_)) => Self::open_frames(&self.path, Layout::Stream, 0).map(Some),
            None => Ok(None),
        };
        match restarted {
            Ok(Some(frames)) => self.frames = Some(frames),
            Ok(None) => {}
            Err(e) => {
                self.close();
                return Err(CaptureError::Disconnected(format!(
                    "{}: {e}",
                    self.path.display()
                )));
            }
        }
        tracing::debug!("{}: playing again from the start", self.path.display());
        Ok(())
    }
}

impl FrameSource for FileSource {
    fn backend(&self) -> &'static str {
        "file"
    }

    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        self.frames = None;
        if self.ended {
            return Err(CaptureError::Finished(format!(
                "{} (looping is off)",
                self.path.display()
            )));
        }
        let recording = probe(&self.path).map_err(|e| self.open_error(e.to_string()))?;
        let frames = Self::open_frames(&self.path, recording.layout, self.resume_at)
            .map_err(|e| self.open_error(e.to_string()))?;
        self.frames = Some(frames);
        Ok(SourceInfo {
            device: self.path.display().to_string(),
            width: recording.width,
            height: recording.height,
            fps: self.fps,
            pixel_format: "MJPEG".to_owned(),
            self_paced: false,
        })
    }

    fn next_frame(&mut self, _rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        // At most one restart per call: the second end in a row is an
        // empty pass, which `at_end` refuses.
        for _ in 0..2 {
            let Some(frames) = self.frames.as_mut() else {
                return Err(CaptureError::Other(format!(
                    "{} is not open",
                    self.path.display()
                )));
            };
            let next = frames.next_frame();
            self.resume_at = frames.position();
            match next {
                Ok(Some(data)) => {
                    let (width, height) = jpeg_check::validate(&data)?;
                    self.frames_this_pass += 1;
                    return Ok(SourceFrame::Jpeg {
                        width,
                        height,
                        data,
                    });
                }
                Ok(None) => {
                    self.resume_at = 0;
                    self.at_end()?;
                }
                Err(fault) => return Err(CaptureError::Corrupt(fault.to_string())),
            }
        }
        Err(CaptureError::Disconnected(format!(
            "{}: no playable frame in the whole recording",
            self.path.display()
        )))
    }

    fn close(&mut self) {
        self.frames = None;
    }
}

#[cfg(test)]
mod tests;
