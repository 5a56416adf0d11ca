//! An emulated V4L2 camera for tests, loaded with `LD_PRELOAD`: the real
//! program's camera code (`open`, `ioctl`, `mmap`, `poll`, `close` on
//! `/dev/videoN`, listing `/dev`, watching `/dev` with inotify) runs
//! unchanged on a machine without a camera.
//!
//! Configured through a folder named by `FAKE_V4L2_DIR`: `/dev/videoN`
//! exists while the file `$FAKE_V4L2_DIR/videoN` does, and that file's
//! `key=value` lines choose the driver and faults (see [`config`]).
//! Without `FAKE_V4L2_DIR` every call passes through untouched.
//!
//! Modules: [`sys`] the C library functions used and the real ones
//! interposed; [`uapi`] the V4L2 structs and constants from
//! `videodev2.h`; [`config`] the node files; [`controls`] the drivers'
//! controls; [`profile`] what each driver
//! offers and how it rounds; [`device`] the node state machine, buffer
//! queue and frame thread; [`frames`] frame content and faults.
//!
//! Built on x86_64, aarch64 and 32-bit ARM Linux, where integer and
//! pointer variadic arguments are passed like fixed ones, so the variadic
//! C functions (`open`, `ioctl`, `syscall`) are defined with fixed
//! parameters.
//!
//! Build: `rustc --edition 2024 --crate-type cdylib -C opt-level=2
//! crates/fake-v4l2/src/lib.rs -o libfake_v4l2.so` (no dependencies).

#![allow(clippy::missing_safety_doc)]

pub mod config;
pub mod controls;
pub mod device;
pub mod frames;
pub mod profile;
pub mod sys;
pub mod uapi;

use std::ffi::{CStr, c_char, c_int, c_long, c_uint, c_ulong, c_void};

use sys::{
    CloseFn, InotifyAddWatchFn, IoctlFn, Mmap64Fn, Open2Fn, OpenAtFn, OpenFn, OpendirFn, PollFd,
    PollFn, Real, SyscallFn,
};

/// The path's bytes, if not null.
///
/// # Safety
/// `path` is null or a NUL-terminated string.
unsafe fn path_bytes<'a>(path: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: per the function's contract.
    (!path.is_null()).then(|| unsafe { CStr::from_ptr(path) }.to_bytes())
}

/// Opens an emulated node if `path` is `/dev/videoN` and emulation is on.
///
/// # Safety
/// `path` is null or a NUL-terminated string.
unsafe fn open_fake(path: *const c_char, flags: c_int) -> Option<c_int> {
    config::dir()?;
    // SAFETY: per the function's contract.
    let index = config::video_index(unsafe { path_bytes(path) }?)?;
    Some(match device::open(index, flags) {
        Ok(fd) => fd,
        Err(errno) => {
            sys::set_errno(errno);
            -1
        }
    })
}

/// The fake folder's path as a C string when `path` is `/dev` and emulation is on.
///
/// # Safety
/// `path` is null or a NUL-terminated string.
unsafe fn dev_dir_replacement(path: *const c_char) -> Option<std::ffi::CString> {
    let dir = config::dir()?;
    // SAFETY: per the function's contract.
    if !config::is_dev_dir(unsafe { path_bytes(path) }?) {
        return None;
    }
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()
}

fn real<F: Copy>(r: &Real) -> F {
    assert_eq!(size_of::<F>(), size_of::<usize>());
    // SAFETY: F is a function pointer type matching the C function.
    unsafe { std::mem::transmute_copy(&r.get()) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller passes a C string, as open(2) requires.
    if let Some(fd) = unsafe { open_fake(path, flags) } {
        return fd;
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<OpenFn>(&sys::REAL_OPEN)(path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: as open.
    if let Some(fd) = unsafe { open_fake(path, flags) } {
        return fd;
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<OpenFn>(&sys::REAL_OPEN64)(path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn __open_2(path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: as open.
    if let Some(fd) = unsafe { open_fake(path, flags) } {
        return fd;
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<Open2Fn>(&sys::REAL_OPEN_2)(path, flags) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn __open64_2(path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: as open.
    if let Some(fd) = unsafe { open_fake(path, flags) } {
        return fd;
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<Open2Fn>(&sys::REAL_OPEN64_2)(path, flags) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: as open; only absolute paths are emulated.
    if let Some(fd) = unsafe { open_fake(path, flags) } {
        return fd;
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<OpenAtFn>(&sys::REAL_OPENAT)(dirfd, path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat64(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: as open; only absolute paths are emulated.
    if let Some(fd) = unsafe { open_fake(path, flags) } {
        return fd;
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<OpenAtFn>(&sys::REAL_OPENAT64)(dirfd, path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    if device::is_fake(fd) {
        device::close(fd);
    }
    // SAFETY: forwarding the caller's argument.
    unsafe { real::<CloseFn>(&sys::REAL_CLOSE)(fd) }
}

fn ioctl_result(r: Result<c_int, c_int>) -> c_int {
    r.unwrap_or_else(|errno| {
        sys::set_errno(errno);
        -1
    })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    if device::is_fake(fd) {
        // SAFETY: the caller passes the request's struct, as ioctl(2) requires.
        return ioctl_result(unsafe { device::ioctl(fd, request, arg) });
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<IoctlFn>(&sys::REAL_IOCTL)(fd, request, arg) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn syscall(
    number: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
    a6: c_long,
) -> c_long {
    if number == sys::SYS_IOCTL && device::is_fake(a1 as c_int) {
        // SAFETY: as ioctl.
        let r = unsafe { device::ioctl(a1 as c_int, a2 as c_ulong, a3 as *mut c_void) };
        return c_long::from(ioctl_result(r));
    }
    // SAFETY: forwarding the caller's arguments (unused ones are ignored).
    unsafe { real::<SyscallFn>(&sys::REAL_SYSCALL)(number, a1, a2, a3, a4, a5, a6) }
}

fn mmap_fake(len: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) -> *mut c_void {
    match device::mmap(len, prot, flags, fd, offset) {
        Ok(addr) => addr as *mut c_void,
        Err(errno) => {
            sys::set_errno(errno);
            sys::MAP_FAILED
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: c_long,
) -> *mut c_void {
    if fd >= 0 && device::is_fake(fd) {
        #[allow(clippy::useless_conversion, reason = "off_t is 32 bits on 32-bit ARM")]
        return mmap_fake(len, prot, flags, fd, i64::from(offset));
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { sys::real_mmap(addr, len, prot, flags, fd, offset) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap64(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: i64,
) -> *mut c_void {
    if fd >= 0 && device::is_fake(fd) {
        return mmap_fake(len, prot, flags, fd, offset);
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<Mmap64Fn>(&sys::REAL_MMAP64)(addr, len, prot, flags, fd, offset) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn munmap(addr: *mut c_void, len: usize) -> c_int {
    device::unmapping(addr as usize);
    // SAFETY: forwarding the caller's arguments.
    unsafe { sys::real_munmap(addr, len) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int {
    if !fds.is_null() && nfds > 0 {
        // SAFETY: the caller passes nfds pollfd structs, as poll(2) requires.
        let set = unsafe { std::slice::from_raw_parts_mut(fds, nfds as usize) };
        if set.iter().any(|p| device::is_fake(p.fd)) {
            return device::poll(set, timeout);
        }
    }
    // SAFETY: forwarding the caller's arguments.
    unsafe { real::<PollFn>(&sys::REAL_POLL)(fds, nfds, timeout) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn opendir(path: *const c_char) -> *mut c_void {
    // SAFETY: the caller passes a C string.
    let replaced = unsafe { dev_dir_replacement(path) };
    let path = replaced.as_deref().map_or(path, CStr::as_ptr);
    // SAFETY: forwarding a valid C string.
    unsafe { real::<OpendirFn>(&sys::REAL_OPENDIR)(path) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn inotify_add_watch(fd: c_int, path: *const c_char, mask: u32) -> c_int {
    // SAFETY: the caller passes a C string.
    let replaced = unsafe { dev_dir_replacement(path) };
    let path = replaced.as_deref().map_or(path, CStr::as_ptr);
    // SAFETY: forwarding a valid C string.
    unsafe { real::<InotifyAddWatchFn>(&sys::REAL_INOTIFY_ADD_WATCH)(fd, path, mask) }
}
