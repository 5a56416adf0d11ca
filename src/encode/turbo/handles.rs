//! The compressor instance: packed RGB or YUV planes in, JPEG out.

use std::ffi::{c_int, c_ulong, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use super::{TJFLAG_NOREALLOC, TJPF_RGB, TJSAMP_420, TurboError, TurboLib};

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
