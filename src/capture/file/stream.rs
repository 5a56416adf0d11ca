//! JPEG frames out of a byte stream, read in chunks: raw MJPEG (images back
//! to back) or a saved multipart stream (part headers between the images).
//!
//! Only the frame being cut out is held in memory, never the file. Part
//! headers with a `Content-Length` right before an image give its length;
//! otherwise the image's structure says where it ends (see [`super::scan`]).

use std::io::{self, Read};

use bytes::Bytes;

use super::FrameFault;
use super::scan::{self, SOI, Step, Walk};

/// Bytes asked of the input per read.
const CHUNK: usize = 256 * 1024;

/// Bytes of skipped data kept for the part headers of the next image.
const KEEP_JUNK: usize = 1024;

/// Frames from a reader, in order.
#[derive(Debug)]
pub struct StreamFrames<R> {
    input: R,
    buf: Vec<u8>,
    /// First byte of `buf` not handed out or skipped yet.
    start: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    eof: bool,
    max_frame: usize,
}

impl<R: Read> StreamFrames<R> {
    /// Frames from `input`; an image longer than `max_frame` bytes is refused.
    pub fn new(input: R, max_frame: usize) -> Self {
        Self {
            input,
            buf: Vec::new(),
            start: 0,
            base: 0,
            eof: false,
            max_frame: max_frame.max(SOI.len()),
        }
    }

    /// Like `new`, for an input already advanced to `offset` (so `position`
    /// keeps counting from the start of the file).
    pub fn starting_at(input: R, offset: u64, max_frame: usize) -> Self {
        let mut frames = Self::new(input, max_frame);
        frames.base = offset;
        frames
    }

    /// Input offset of the first byte not consumed yet: where to resume.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The next image's bytes; `Ok(None)` at the end of the input.
    ///
    /// # Errors
    /// A fault in this frame (it is skipped; the next call goes on after it),
    /// or a read error.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameFault> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(at) = scan::find_soi(pending) {
                let declared = scan::part_length(&pending[..at]);
                self.start += at;
                return self.cut(declared).map(Some);
            }
            if self.eof {
                // Data after the last image (a trailing boundary, padding).
                self.start = self.buf.len();
                return Ok(None);
            }
            // Keep the tail: part headers, or an SOI split across reads.
            self.start = self.buf.len().saturating_sub(KEEP_JUNK).max(self.start);
            self.fill()?;
        }
    }

    /// Cut the image starting at `start`, `declared` bytes long when its
    /// part headers say so.
    fn cut(&mut self, declared: Option<usize>) -> Result<Bytes, FrameFault> {
        if let Some(len) = declared.filter(|&n| n >= SOI.len() && n <= self.max_frame) {
            while self.buf.len() - self.start < len {
                if self.eof {
                    return Err(self.truncated());
                }
                self.fill()?;
            }
            return Ok(self.take(len));
        }
        let mut walk = Walk::new();
        loop {
            match walk.advance(&self.buf[self.start..]) {
                Step::Complete { len } if len > self.max_frame => {
                    self.start += len;
                    return Err(FrameFault::TooLarge {
                        max: self.max_frame,
                    });
                }
                Step::Complete { len } => return Ok(self.take(len)),
                Step::Broken { resume, reason } => {
                    self.start += resume;
                    return Err(FrameFault::Corrupt(reason));
                }
                Step::NeedMore if walk.walked() > self.max_frame => {
                    self.start += SOI.len() - 1;
                    return Err(FrameFault::TooLarge {
                        max: self.max_frame,
                    });
                }
                Step::NeedMore if self.eof => return Err(self.truncated()),
                Step::NeedMore => self.fill()?,
            }
        }
    }

    fn take(&mut self, len: usize) -> Bytes {
        let frame = Bytes::copy_from_slice(&self.buf[self.start..self.start + len]);
        self.start += len;
        frame
    }

    /// The input ended inside a frame: drop what there is of it.
    fn truncated(&mut self) -> FrameFault {
        let bytes = self.buf.len() - self.start;
        self.start = self.buf.len();
        FrameFault::Truncated { bytes }
    }

    /// Read one more chunk, dropping what was consumed first.
    fn fill(&mut self) -> Result<(), FrameFault> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let read = loop {
            match self.input.read(&mut self.buf[old..]) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        match read {
            Ok(n) => {
                self.buf.truncate(old + n);
                self.eof = n == 0;
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(old);
                Err(FrameFault::Read(e.to_string()))
            }
        }
    }
}
