//! The decompressor instance: JPEG in, packed RGB out, and the strict
//! check of a camera's JPEG.

use std::ffi::{c_int, c_ulong, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::encode::markers::frame_size;

use super::handles::{dims, rgb_len};
use super::{TJFLAG_FASTDCT, TJFLAG_STOPONWARNING, TJPF_RGB, TurboError, TurboLib};

/// Size and subsampling of a JPEG, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
}

/// A TurboJPEG decompressor: JPEG in, packed RGB out, optionally reduced
/// 1/2, 1/4 or 1/8 inside the IDCT (far cheaper than a full decode).
pub struct Decompressor {
    lib: Arc<TurboLib>,
    handle: NonNull<c_void>,
}

// SAFETY: as for `Compressor`: no thread affinity, one user at a time.
unsafe impl Send for Decompressor {}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor").finish_non_exhaustive()
    }
}

fn jpeg_len(jpeg: &[u8]) -> Result<c_ulong, TurboError> {
    c_ulong::try_from(jpeg.len()).map_err(|_| TurboError("JPEG too large".into()))
}

impl Decompressor {
    /// # Errors
    /// libjpeg-turbo could not allocate an instance.
    pub fn new(lib: Arc<TurboLib>) -> Result<Self, TurboError> {
        // SAFETY: no arguments; returns a new instance or NULL.
        let handle = unsafe { (lib.init_decompress)() };
        let Some(handle) = NonNull::new(handle) else {
            return Err(lib.error(std::ptr::null_mut()));
        };
        Ok(Self { lib, handle })
    }

    /// The library this decompressor uses.
    #[must_use]
    pub fn lib(&self) -> &TurboLib {
        &self.lib
    }

    /// Read the picture size from the JPEG header.
    ///
    /// # Errors
    /// Not a JPEG libjpeg-turbo understands.
    pub fn header(&mut self, jpeg: &[u8]) -> Result<Header, TurboError> {
        let len = jpeg_len(jpeg)?;
        let (mut w, mut h, mut subsamp, mut colorspace): (c_int, c_int, c_int, c_int) =
            (0, 0, 0, 0);
        // SAFETY: live decompressor used by this thread only; `jpeg` is
        // `len` readable bytes; the four out-pointers are valid `int`s.
        let rc = unsafe {
            (self.lib.decompress_header3)(
                self.handle.as_ptr(),
                jpeg.as_ptr(),
                len,
                &raw mut w,
                &raw mut h,
                &raw mut subsamp,
                &raw mut colorspace,
            )
        };
        if rc != 0 {
            return Err(self.lib.error(self.handle.as_ptr()));
        }
        // libjpeg-turbo 3.x answers 0 for a stream with no frame header and
        // leaves the previous picture's size in the handle: the size counts
        // only when the JPEG's own frame header says the same.
        let Some((sof_w, sof_h)) = frame_size(jpeg) else {
            return Err(TurboError("no frame header (not a JPEG)".into()));
        };
        match (u32::try_from(w), u32::try_from(h)) {
            (Ok(width @ 1..), Ok(height @ 1..)) if (width, height) == (sof_w, sof_h) => {
                Ok(Header { width, height })
            }
            _ => Err(TurboError(format!(
                "header read as {w}x{h} but the frame header says {sof_w}x{sof_h}"
            ))),
        }
    }

    /// Decompress `jpeg` (whose header is `header`) into packed RGB in `out`,
    /// reduced by `1 / denom` (1, or one of [`TurboLib::reductions`]);
    /// returns the output size. A picture decoded in full despite a warning
    /// (e.g. extra bytes after the scan) counts as decoded.
    ///
    /// # Errors
    /// Corrupt data, or a reduction the library does not offer.
    pub fn decompress_rgb(
        &mut self,
        jpeg: &[u8],
        header: Header,
        denom: u32,
        out: &mut Vec<u8>,
    ) -> Result<(u32, u32), TurboError> {
        self.decompress(jpeg, header, denom, 0, out)
            .or_else(|e| match e {
                Failure::Warning(_, size) => Ok(size),
                Failure::Error(e) => Err(e),
            })
    }

    /// Whether `jpeg` (whose header is `header`) decodes without a single
    /// error or warning: its whole
    /// entropy-coded data is read (which is what finds damage), at the
    /// largest reduction (so little is written), with the fast inverse DCT,
    /// stopping at the first warning. `out` is scratch space.
    ///
    /// # Errors
    /// What libjpeg-turbo found wrong.
    pub fn check(
        &mut self,
        jpeg: &[u8],
        header: Header,
        out: &mut Vec<u8>,
    ) -> Result<(), TurboError> {
        let denom = self.lib.reductions.first().copied().unwrap_or(1);
        match self.decompress(
            jpeg,
            header,
            denom,
            TJFLAG_FASTDCT | TJFLAG_STOPONWARNING,
            out,
        ) {
            Ok(_) => Ok(()),
            Err(Failure::Warning(e, _) | Failure::Error(e)) => Err(e),
        }
    }

    fn decompress(
        &mut self,
        jpeg: &[u8],
        header: Header,
        denom: u32,
        flags: c_int,
        out: &mut Vec<u8>,
    ) -> Result<(u32, u32), Failure> {
        if denom != 1 && !self.lib.reductions.contains(&denom) {
            return Err(Failure::Error(TurboError(format!("no 1/{denom} scaling"))));
        }
        let len = jpeg_len(jpeg).map_err(Failure::Error)?;
        // TJSCALED: ceil(dimension / denom).
        let (sw, sh) = (header.width.div_ceil(denom), header.height.div_ceil(denom));
        let (w, h) = dims(sw, sh).map_err(Failure::Error)?;
        out.resize(rgb_len(sw, sh), 0);
        let pitch = w * 3;
        let last_row = rgb_len(sw, sh - 1)..out.len();
        mark_unwritten(&mut out[last_row.clone()]);
        // SAFETY: live decompressor used by this thread only; `jpeg` is
        // `len` readable bytes; `out` holds `pitch * h` writable bytes. The
        // library writes the largest scaled picture that fits in `w` x `h`
        // with rows `pitch` apart: with (w, h) = TJSCALED(size, 1/denom) for
        // a factor it offers, exactly `h` rows of `w` pixels, inside `out`.
        let rc = unsafe {
            (self.lib.decompress2)(
                self.handle.as_ptr(),
                jpeg.as_ptr(),
                len,
                out.as_mut_ptr(),
                w,
                pitch,
                h,
                TJPF_RGB,
                flags,
            )
        };
        if rc == 0 {
            return Ok((sw, sh));
        }
        let error = self.lib.error(self.handle.as_ptr());
        // A warning earlier in the same call makes libjpeg-turbo class a
        // later fatal error as a warning too: only a picture written down to
        // its last row was produced.
        if self.lib.warning_only(self.handle.as_ptr()) && !is_unwritten(&out[last_row]) {
            Err(Failure::Warning(error, (sw, sh)))
        } else {
            Err(Failure::Error(error))
        }
    }
}

/// Fill `row` with a pattern a decode all but never writes: a ramp through
/// every byte value at full rate, which the smooth output of the inverse DCT
/// and 4:2:0 chroma does not reproduce across a row.
fn mark_unwritten(row: &mut [u8]) {
    for (i, b) in row.iter_mut().enumerate() {
        *b = unwritten_byte(i);
    }
}

fn is_unwritten(row: &[u8]) -> bool {
    row.iter().enumerate().all(|(i, &b)| b == unwritten_byte(i))
}

fn unwritten_byte(i: usize) -> u8 {
    // Truncation intended: the pattern repeats every 256 bytes.
    (i.wrapping_mul(151).wrapping_add(89) & 0xFF) as u8
}

/// How a decompression failed: a warning (the picture may be whole), or
/// an error.
enum Failure {
    Warning(TurboError, (u32, u32)),
    Error(TurboError),
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the handle is live and never used again.
        unsafe { (self.lib.destroy)(self.handle.as_ptr()) };
    }
}
