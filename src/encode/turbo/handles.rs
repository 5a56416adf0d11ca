//! Compressor and decompressor instances: the per-picture calls.

use std::ffi::{c_int, c_ulong, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::encode::markers::frame_size;

use super::{
    TJFLAG_FASTDCT, TJFLAG_NOREALLOC, TJFLAG_STOPONWARNING, TJPF_RGB, TJSAMP_420, TurboError,
    TurboLib,
};

/// Packed RGB dimensions as C ints, refusing what JPEG cannot hold.
pub(super) fn dims(width: u32, height: u32) -> Result<(c_int, c_int), TurboError> {
    if width == 0 || height == 0 || width > 65_535 || height > 65_535 {
        return Err(TurboError(format!("picture {width}x{height} out of range")));
    }
    // Both fit: at most 65535.
    Ok((
        c_int::try_from(width).unwrap_or(c_int::MAX),
        c_int::try_from(height).unwrap_or(c_int::MAX),
    ))
}

pub(super) fn rgb_len(width: u32, height: u32) -> usize {
    width as usize * height as usize * 3
}

/// A TurboJPEG compressor: packed RGB in, 4:2:0 baseline JPEG out, into an
/// output buffer it keeps (sized once per picture size for the worst case;
/// zero-filled by `calloc`, so only the pages written become resident).
pub struct Compressor {
    lib: Arc<TurboLib>,
    handle: NonNull<c_void>,
    out: Vec<u8>,
    out_for: (u32, u32),
}

// SAFETY: a TurboJPEG instance has no thread affinity; it may move between
// threads as long as one thread uses it at a time, which `&mut self` ensures.
unsafe impl Send for Compressor {}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("out_for", &self.out_for)
            .finish_non_exhaustive()
    }
}

impl Compressor {
    /// # Errors
    /// libjpeg-turbo could not allocate an instance.
    pub fn new(lib: Arc<TurboLib>) -> Result<Self, TurboError> {
        // SAFETY: no arguments; returns a new instance or NULL.
        let handle = unsafe { (lib.init_compress)() };
        let Some(handle) = NonNull::new(handle) else {
            return Err(lib.error(std::ptr::null_mut()));
        };
        Ok(Self {
            lib,
            handle,
            out: Vec::new(),
            out_for: (0, 0),
        })
    }

    /// Compress the packed RGB picture in `rgb` (at least `width * height *
    /// 3` bytes) at `quality` (1-100); the JPEG is valid until the next call.
    ///
    /// # Errors
    /// A size out of range, a short buffer, or a libjpeg-turbo failure.
    pub fn compress_rgb(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        quality: u8,
    ) -> Result<&[u8], TurboError> {
        let (w, h) = dims(width, height)?;
        if rgb.len() < rgb_len(width, height) {
            return Err(TurboError(format!(
                "buffer of {} bytes is short for {width}x{height} RGB",
                rgb.len()
            )));
        }
        self.size_output(width, height)?;
        let mut out_ptr = self.out.as_mut_ptr();
        let mut out_len = c_ulong::try_from(self.out.len()).unwrap_or(0);
        // pitch: w * 3 fits (w <= 65535).
        let pitch = w * 3;
        // SAFETY: the handle is a live compressor used by this thread only;
        // `rgb` holds `pitch * h` readable bytes (checked above); `out_ptr`
        // points to `out_len` writable bytes, the worst case for this size
        // (tjBufSize), and TJFLAG_NOREALLOC forbids the library to
        // reallocate or free it: it writes at most `out_len` bytes there
        // and stores the JPEG's length in `out_len`.
        let rc = unsafe {
            (self.lib.compress2)(
                self.handle.as_ptr(),
                rgb.as_ptr(),
                w,
                pitch,
                h,
                TJPF_RGB,
                &raw mut out_ptr,
                &raw mut out_len,
                TJSAMP_420,
                c_int::from(quality.clamp(1, 100)),
                TJFLAG_NOREALLOC,
            )
        };
        self.finish(rc, out_ptr, out_len)
    }

    /// Compress a 4:2:0 picture given as three planes (`y`: `width` x
    /// `height`; `u`, `v`: `ceil(width / 2)` x `ceil(height / 2)`, rows
    /// packed) at `quality`, with no colour conversion or downsampling in
    /// the library; the JPEG is valid until the next call.
    ///
    /// # Errors
    /// A size out of range, a short plane, or a libjpeg-turbo failure.
    pub fn compress_yuv420(
        &mut self,
        planes: [&[u8]; 3],
        width: u32,
        height: u32,
        quality: u8,
    ) -> Result<&[u8], TurboError> {
        let (w, h) = dims(width, height)?;
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        let need = [
            width as usize * height as usize,
            cw as usize * ch as usize,
            cw as usize * ch as usize,
        ];
        if planes.iter().zip(need).any(|(p, n)| p.len() < n) {
            return Err(TurboError(format!(
                "planes of {:?} bytes are short for {width}x{height} 4:2:0",
                planes.map(<[u8]>::len)
            )));
        }
        self.size_output(width, height)?;
        let mut out_ptr = self.out.as_mut_ptr();
        let mut out_len = c_ulong::try_from(self.out.len()).unwrap_or(0);
        let src = planes.map(<[u8]>::as_ptr);
        // cw <= 32768: fits.
        let cw = c_int::try_from(cw).unwrap_or(c_int::MAX);
        let strides = [w, cw, cw];
        // SAFETY: the handle is a live compressor used by this thread only;
        // `src` holds three plane pointers and `strides` three row lengths,
        // each plane at least `stride * plane height` bytes for 4:2:0 at
        // w x h (checked above: tjPlaneWidth/Height are w, h and
        // ceil(w/2), ceil(h/2)); the output is as in `compress_rgb`: the
        // worst case for this size, never reallocated (TJFLAG_NOREALLOC).
        let rc = unsafe {
            (self.lib.compress_from_yuv_planes)(
                self.handle.as_ptr(),
                src.as_ptr(),
                w,
                strides.as_ptr(),
                h,
                TJSAMP_420,
                &raw mut out_ptr,
                &raw mut out_len,
                c_int::from(quality.clamp(1, 100)),
                TJFLAG_NOREALLOC,
            )
        };
        self.finish(rc, out_ptr, out_len)
    }

    /// The output buffer sized for the worst case at `width` x `height`.
    fn size_output(&mut self, width: u32, height: u32) -> Result<(), TurboError> {
        if self.out_for == (width, height) {
            return Ok(());
        }
        let (w, h) = dims(width, height)?;
        // SAFETY: pure function of its arguments (w, h in range).
        let worst = unsafe { (self.lib.buf_size)(w, h, TJSAMP_420) };
        let worst = usize::try_from(worst)
            .ok()
            .filter(|&n| n > 0 && n != usize::MAX)
            .ok_or_else(|| self.lib.error(std::ptr::null_mut()))?;
        self.out = vec![0; worst];
        self.out_for = (width, height);
        Ok(())
    }

    /// The JPEG a compress call wrote, or its error.
    fn finish(
        &mut self,
        rc: c_int,
        out_ptr: *mut u8,
        out_len: c_ulong,
    ) -> Result<&[u8], TurboError> {
        if rc != 0 {
            return Err(self.lib.error(self.handle.as_ptr()));
        }
        let len = usize::try_from(out_len).unwrap_or(usize::MAX);
        if out_ptr != self.out.as_mut_ptr() || len > self.out.len() {
            return Err(TurboError("output buffer was replaced".into()));
        }
        Ok(&self.out[..len])
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: the handle is live and never used again.
        unsafe { (self.lib.destroy)(self.handle.as_ptr()) };
    }
}

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
