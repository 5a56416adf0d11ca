//! libjpeg-turbo, loaded at run time from the system's `libturbojpeg.so.0`
//! (package `libturbojpeg0` on Debian, Ubuntu and Raspberry Pi OS).
//!
//! The only module of the crate with `unsafe`: every foreign call is wrapped
//! here in a safe method, with the contract that makes it sound written
//! beside it. The rest of the program sees [`TurboLib`], [`Compressor`] and
//! [`Decompressor`], which check every size before calling in.
//!
//! Contracts common to every call (from `turbojpeg.h`, TurboJPEG API 2.0+):
//! - a `tjhandle` is used by one thread at a time (the wrappers take
//!   `&mut self`), and only until `tjDestroy`, which runs once, in `Drop`;
//! - the library stays loaded while any handle lives: each wrapper holds an
//!   `Arc<TurboLib>`, which owns the `libloading::Library`;
//! - `c_int` arguments are checked to fit before the call, and every buffer
//!   passed in is at least as long as the call may read or write.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_uchar, c_ulong, c_void};
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

mod decompress;
mod handles;
#[cfg(test)]
pub(crate) mod tests;

pub use decompress::{Decompressor, Header};
pub use handles::Compressor;

/// The library's file name on Linux (ABI version 0, stable since 2011).
pub const DEFAULT_LIBRARY: &str = "libturbojpeg.so.0";

/// The package that provides it on Debian-based systems.
pub const PACKAGE: &str = "libturbojpeg0";

/// `TJSAMP_420` in `enum TJSAMP`.
const TJSAMP_420: c_int = 2;
/// `TJPF_RGB` in `enum TJPF`: packed RGB, 3 bytes per pixel.
const TJPF_RGB: c_int = 0;
/// `TJFLAG_NOREALLOC`: never reallocate (or free) the caller's JPEG buffer.
const TJFLAG_NOREALLOC: c_int = 1024;
/// `TJFLAG_FASTDCT`: the fast (less exact) inverse DCT.
const TJFLAG_FASTDCT: c_int = 2048;
/// `TJFLAG_STOPONWARNING`: treat a warning (damaged data) as an error and
/// stop there (libjpeg-turbo 2.0 and later).
const TJFLAG_STOPONWARNING: c_int = 8192;
/// `TJERR_WARNING` from `tjGetErrorCode`: the picture was produced anyway.
const TJERR_WARNING: c_int = 0;

/// `tjscalingfactor`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct ScalingFactor {
    num: c_int,
    denom: c_int,
}

type Handle = *mut c_void;

/// Why the library could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("cannot load {name}: {reason}")]
    Open { name: String, reason: String },
    #[error("{name} has no {symbol} (libjpeg-turbo 2.0 or later is needed): {reason}")]
    Symbol {
        name: String,
        symbol: &'static str,
        reason: String,
    },
}

/// A libjpeg-turbo call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("libjpeg-turbo: {0}")]
pub struct TurboError(pub String);

/// The loaded library: its entry points, resolved once (parameters named
/// as in `turbojpeg.h`).
pub struct TurboLib {
    name: String,
    init_compress: unsafe extern "C" fn() -> Handle,
    compress2: unsafe extern "C" fn(
        handle: Handle,
        src_buf: *const c_uchar,
        width: c_int,
        pitch: c_int,
        height: c_int,
        pixel_format: c_int,
        jpeg_buf: *mut *mut c_uchar,
        jpeg_size: *mut c_ulong,
        jpeg_subsamp: c_int,
        jpeg_qual: c_int,
        flags: c_int,
    ) -> c_int,
    buf_size: unsafe extern "C" fn(width: c_int, height: c_int, jpeg_subsamp: c_int) -> c_ulong,
    compress_from_yuv_planes: unsafe extern "C" fn(
        handle: Handle,
        src_planes: *const *const c_uchar,
        width: c_int,
        strides: *const c_int,
        height: c_int,
        subsamp: c_int,
        jpeg_buf: *mut *mut c_uchar,
        jpeg_size: *mut c_ulong,
        jpeg_qual: c_int,
        flags: c_int,
    ) -> c_int,
    init_decompress: unsafe extern "C" fn() -> Handle,
    decompress_header3: unsafe extern "C" fn(
        handle: Handle,
        jpeg_buf: *const c_uchar,
        jpeg_size: c_ulong,
        width: *mut c_int,
        height: *mut c_int,
        jpeg_subsamp: *mut c_int,
        jpeg_colorspace: *mut c_int,
    ) -> c_int,
    decompress2: unsafe extern "C" fn(
        handle: Handle,
        jpeg_buf: *const c_uchar,
        jpeg_size: c_ulong,
        dst_buf: *mut c_uchar,
        width: c_int,
        pitch: c_int,
        height: c_int,
        pixel_format: c_int,
        flags: c_int,
    ) -> c_int,
    destroy: unsafe extern "C" fn(handle: Handle) -> c_int,
    error_str2: unsafe extern "C" fn(handle: Handle) -> *mut c_char,
    error_code: unsafe extern "C" fn(handle: Handle) -> c_int,
    /// Reducing scale denominators the decoder offers with numerator 1
    /// (2, 4, 8 in every release), largest reduction first.
    reductions: Vec<u32>,
    /// Keeps the code above mapped; declared last, so dropped last.
    _library: libloading::Library,
}

impl std::fmt::Debug for TurboLib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurboLib")
            .field("name", &self.name)
            .field("reductions", &self.reductions)
            .finish_non_exhaustive()
    }
}

/// Look up `symbol` as a function pointer of type `T`.
///
/// # Safety
/// `T` must be the `unsafe extern "C" fn` type that `turbojpeg.h` declares
/// for `symbol`, and the pointer must not be called after `library` is
/// unloaded (the caller stores both in one `TurboLib`).
unsafe fn symbol<T: Copy>(
    library: &libloading::Library,
    name: &str,
    symbol: &'static str,
) -> Result<T, LoadError> {
    let mut c_name = symbol.as_bytes().to_vec();
    c_name.push(0);
    // SAFETY: the caller guarantees `T` matches the C declaration; the
    // symbol is copied out of the borrow, its validity tied to `library` by
    // the caller.
    unsafe { library.get::<T>(&c_name) }
        .map(|s| *s)
        .map_err(|e| LoadError::Symbol {
            name: name.to_owned(),
            symbol,
            reason: e.to_string(),
        })
}

impl TurboLib {
    /// Load libjpeg-turbo's TurboJPEG library from `name` (a file name the
    /// dynamic loader searches for, or a path).
    ///
    /// # Errors
    /// The library is missing, or lacks a TurboJPEG 2.0 entry point.
    pub fn open(name: &str) -> Result<Arc<Self>, LoadError> {
        // SAFETY: loading runs the library's initialisers. libturbojpeg has
        // no constructors with side effects beyond libc's; a different
        // library under this name is the system's configuration.
        let library = unsafe { libloading::Library::new(name) }.map_err(|e| LoadError::Open {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        // SAFETY (each `symbol` call): the type is the declaration in
        // turbojpeg.h (2.0+), transcribed with `c_int`, `c_ulong` and raw
        // pointers; the pointers are stored beside `library` in `Self` and
        // only called through `&self`, so the library outlives every call.
        let lib = unsafe {
            Self {
                name: name.to_owned(),
                init_compress: symbol(&library, name, "tjInitCompress")?,
                compress2: symbol(&library, name, "tjCompress2")?,
                buf_size: symbol(&library, name, "tjBufSize")?,
                compress_from_yuv_planes: symbol(&library, name, "tjCompressFromYUVPlanes")?,
                init_decompress: symbol(&library, name, "tjInitDecompress")?,
                decompress_header3: symbol(&library, name, "tjDecompressHeader3")?,
                decompress2: symbol(&library, name, "tjDecompress2")?,
                destroy: symbol(&library, name, "tjDestroy")?,
                error_str2: symbol(&library, name, "tjGetErrorStr2")?,
                error_code: symbol(&library, name, "tjGetErrorCode")?,
                reductions: Vec::new(),
                _library: library,
            }
        };
        let factors: unsafe extern "C" fn(*mut c_int) -> *mut ScalingFactor =
            // SAFETY: `tjscalingfactor *tjGetScalingFactors(int *)`.
            unsafe { symbol(&lib._library, name, "tjGetScalingFactors")? };
        let mut n: c_int = 0;
        // SAFETY: writes the count to `n` and returns a pointer to a static
        // array of `n` factors owned by the library (never freed), or NULL.
        let list = unsafe { factors(&raw mut n) };
        let reductions = match (NonNull::new(list), usize::try_from(n)) {
            (Some(list), Ok(n)) => {
                // SAFETY: `list` points to `n` initialised `tjscalingfactor`s
                // that live as long as the library (held by `lib`).
                let all = unsafe { std::slice::from_raw_parts(list.as_ptr(), n) };
                let mut d: Vec<u32> = all
                    .iter()
                    .filter(|f| f.num == 1 && matches!(f.denom, 2 | 4 | 8))
                    .filter_map(|f| u32::try_from(f.denom).ok())
                    .collect();
                d.sort_unstable_by(|a, b| b.cmp(a));
                d
            }
            _ => Vec::new(),
        };
        Ok(Arc::new(Self { reductions, ..lib }))
    }

    /// The system's library ([`DEFAULT_LIBRARY`]), loaded once per process.
    ///
    /// # Errors
    /// It is not installed (or too old); the error is the same every call.
    pub fn system() -> Result<Arc<Self>, LoadError> {
        static SYSTEM: OnceLock<Result<Arc<TurboLib>, LoadError>> = OnceLock::new();
        SYSTEM.get_or_init(|| Self::open(DEFAULT_LIBRARY)).clone()
    }

    /// The name it was loaded from.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Scale denominators (numerator 1) the decoder offers, largest first.
    #[must_use]
    pub fn reductions(&self) -> &[u32] {
        &self.reductions
    }

    /// The error of the last call on `handle` (NULL: of a global function).
    fn error(&self, handle: Handle) -> TurboError {
        // SAFETY: `handle` is live or NULL; the result is a NUL-terminated
        // string owned by the handle (or thread-local), valid until the next
        // call on it, and copied at once.
        let text = unsafe { (self.error_str2)(handle) };
        if text.is_null() {
            return TurboError("unknown error".into());
        }
        // SAFETY: non-NULL and NUL-terminated, per the contract above.
        let text = unsafe { CStr::from_ptr(text) };
        TurboError(text.to_string_lossy().into_owned())
    }

    /// True when the last failure on `handle` was only a warning (the
    /// picture was produced in full).
    fn warning_only(&self, handle: Handle) -> bool {
        // SAFETY: `handle` is a live instance.
        unsafe { (self.error_code)(handle) == TJERR_WARNING }
    }
}
