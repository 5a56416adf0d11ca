//! Raw V4L2 bindings, generated once by bindgen 0.65.1 from
//! `<linux/videodev2.h>` (see `README.md` and `generate.sh`) and committed, so
//! that building needs no libclang. One file per target architecture: the
//! V4L2 structs are the same on x86_64 and aarch64, but the glibc types that
//! come along (`__nlink_t`, `__blksize_t`, …) are not, and on 32-bit ARM the
//! `timeval` in `v4l2_buffer` makes the structs themselves differ.
#![allow(clippy::all)]
#![allow(deref_nullptr)]
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]
#![allow(non_upper_case_globals)]

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
include!("../bindings/x86_64.rs");

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
include!("../bindings/aarch64.rs");

#[cfg(all(target_os = "linux", target_arch = "arm", target_pointer_width = "32"))]
include!("../bindings/arm.rs");

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm")
)))]
compile_error!(
    "v4l2-sys-mit (vendored): no pre-generated V4L2 bindings for this target. \
     Run vendor/v4l2-sys-mit/generate.sh for it (needs libclang and the target's \
     C headers), or remove the [patch.crates-io] entry to use upstream's bindgen build."
);
