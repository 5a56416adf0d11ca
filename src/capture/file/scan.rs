//! Where one JPEG ends inside a byte stream, found by walking its structure.
//!
//! The walk follows the segment lengths up to the scan, so thumbnails inside
//! APP segments (EXIF) never end a frame early, then steps through the
//! entropy-coded data, where `FF 00` is a stuffed byte and `FF D0..D7` are
//! restart markers. Any other marker after a scan (progressive JPEGs have
//! many scans) goes back to segment mode; `FF D9` ends the image. A new
//! `FF D8` before that means the frame was cut short (a recording that lost
//! bytes) and the next image starts there.
//!
//! The walk can stop for more data and resume where it stopped, so a frame
//! read in pieces is walked once.

/// Start-of-image as it begins every JPEG: SOI and the next marker's 0xFF.
pub const SOI: [u8; 3] = [0xFF, 0xD8, 0xFF];

/// Where a walk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Walk {
    /// Next byte to look at, from the frame's first byte.
    pos: usize,
    /// Inside entropy-coded data (after SOS).
    in_scan: bool,
}

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The image is `len` bytes long (up to and including EOI).
    Complete { len: usize },
    /// The data ends before the image does; walk again with more.
    NeedMore,
    /// Not a whole image: `reason`. The next image may start at `resume`
    /// (from the frame's first byte; at least 2).
    Broken { resume: usize, reason: &'static str },
}

impl Walk {
    /// A walk of a frame that starts with SOI.
    #[must_use]
    pub fn new() -> Self {
        Self {
            pos: 2,
            in_scan: false,
        }
    }

    /// Bytes walked so far.
    #[must_use]
    pub fn walked(&self) -> usize {
        self.pos
    }

    /// Continue over `frame` (the frame's bytes so far, from its SOI).
    pub fn advance(&mut self, frame: &[u8]) -> Step {
        loop {
            let step = if self.in_scan {
                self.scan(frame)
            } else {
                self.segment(frame)
            };
            if let Some(step) = step {
                return step;
            }
        }
    }

    /// One marker segment; `None` to go on.
    fn segment(&mut self, frame: &[u8]) -> Option<Step> {
        let mut at = self.pos;
        let Some(&first) = frame.get(at) else {
            return Some(Step::NeedMore);
        };
        if first != 0xFF {
            return Some(broken(at, "expected a marker"));
        }
        // Fill bytes: any number of 0xFF before the marker code.
        while frame.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = frame.get(at) else {
            return Some(Step::NeedMore);
        };
        match marker {
            0xD9 => return Some(Step::Complete { len: at + 1 }),
            0xD8 => return Some(broken(at - 1, "a new image starts inside this one")),
            0x01 | 0xD0..=0xD7 => {
                self.pos = at + 1;
                return None;
            }
            0x00 => return Some(broken(at, "expected a marker")),
            _ => {}
        }
        let Some(len) = frame.get(at + 1..at + 3) else {
            return Some(Step::NeedMore);
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            return Some(broken(at, "segment length below 2"));
        }
        let end = at + 1 + len;
        if end > frame.len() {
            return Some(Step::NeedMore);
        }
        self.pos = end;
        self.in_scan = marker == 0xDA;
        None
    }

    /// Entropy-coded data up to the next real marker; `None` to go on.
    fn scan(&mut self, frame: &[u8]) -> Option<Step> {
        let Some(rest) = frame.get(self.pos..) else {
            return Some(Step::NeedMore);
        };
        let Some(ff) = rest.iter().position(|&b| b == 0xFF) else {
            self.pos = frame.len();
            return Some(Step::NeedMore);
        };
        let at = self.pos + ff;
        let Some(&code) = frame.get(at + 1) else {
            self.pos = at;
            return Some(Step::NeedMore);
        };
        match code {
            // Stuffed byte, restart marker, or a fill byte before a marker.
            0x00 | 0xD0..=0xD7 => self.pos = at + 2,
            0xFF => self.pos = at + 1,
            0xD9 => return Some(Step::Complete { len: at + 2 }),
            0xD8 => return Some(broken(at, "a new image starts inside this one")),
            _ => {
                self.pos = at;
                self.in_scan = false;
            }
        }
        None
    }
}

fn broken(at: usize, reason: &'static str) -> Step {
    Step::Broken {
        resume: at.max(2),
        reason,
    }
}

/// Offset of the next SOI in `data`.
#[must_use]
pub fn find_soi(data: &[u8]) -> Option<usize> {
    data.windows(SOI.len()).position(|w| w == SOI)
}

/// The `Content-Length` of a multipart part whose headers end `junk` (the
/// bytes skipped before an SOI): the headers must end with the blank line
/// right before the image.
#[must_use]
pub fn part_length(junk: &[u8]) -> Option<usize> {
    let head = junk
        .strip_suffix(b"\r\n\r\n")
        .or_else(|| junk.strip_suffix(b"\n\n"))?;
    // Only this part's headers: after the last blank line before them, and
    // never more than a header block's worth.
    let head = &head[head.len().saturating_sub(MAX_PART_HEAD)..];
    let lf = head.windows(2).rposition(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = head
        .windows(4)
        .rposition(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let start = lf.max(crlf).unwrap_or(0);
    let text = String::from_utf8_lossy(&head[start..]);
    text.lines().rev().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            value.trim().parse().ok()
        } else {
            None
        }
    })
}

/// Bytes of part headers looked at before an image.
const MAX_PART_HEAD: usize = 1024;

#[cfg(test)]
mod tests;
