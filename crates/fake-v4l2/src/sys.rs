//! The few C library functions this library calls, declared by hand (no
//! dependencies), and the real versions of the functions it interposes,
//! found with `dlsym(RTLD_NEXT, …)`.

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ENOENT: c_int = 2;
pub const EIO: c_int = 5;
pub const EBADF: c_int = 9;
pub const EAGAIN: c_int = 11;
pub const EACCES: c_int = 13;
pub const EFAULT: c_int = 14;
pub const EBUSY: c_int = 16;
pub const ENOSPC: c_int = 28;
pub const ENODEV: c_int = 19;
pub const EINVAL: c_int = 22;
pub const ENOTTY: c_int = 25;
pub const ERANGE: c_int = 34;

pub const O_NONBLOCK: c_int = 0o4000;
pub const EFD_CLOEXEC: c_int = 0o2000000;
pub const MFD_CLOEXEC: c_uint = 1;

pub const PROT_READ: c_int = 1;
pub const PROT_WRITE: c_int = 2;
pub const MAP_SHARED: c_int = 1;
pub const MAP_FAILED: *mut c_void = !0usize as *mut c_void;

pub const POLLIN: i16 = 0x001;
pub const POLLPRI: i16 = 0x002;
pub const POLLERR: i16 = 0x008;
pub const POLLHUP: i16 = 0x010;
pub const POLLNVAL: i16 = 0x020;
pub const POLLRDNORM: i16 = 0x040;

pub const CLOCK_MONOTONIC: c_int = 1;

#[cfg(target_arch = "x86_64")]
pub const SYS_IOCTL: c_long = 16;
#[cfg(target_arch = "aarch64")]
pub const SYS_IOCTL: c_long = 29;
#[cfg(target_arch = "arm")]
pub const SYS_IOCTL: c_long = 54;

#[repr(C)]
pub struct PollFd {
    pub fd: c_int,
    pub events: i16,
    pub revents: i16,
}

#[repr(C)]
pub struct Timespec {
    pub tv_sec: c_long,
    pub tv_nsec: c_long,
}

pub const RTLD_NEXT: *mut c_void = !0usize as *mut c_void;

unsafe extern "C" {
    pub fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    pub fn __errno_location() -> *mut c_int;
    pub fn eventfd(initval: c_uint, flags: c_int) -> c_int;
    pub fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
    // ftruncate64: a 64-bit length on every target (plain ftruncate takes
    // a 32-bit off_t on 32-bit ARM).
    #[link_name = "ftruncate64"]
    pub fn ftruncate(fd: c_int, length: i64) -> c_int;
    pub fn clock_gettime(clock: c_int, tp: *mut Timespec) -> c_int;
}

/// Sets `errno`.
pub fn set_errno(code: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *__errno_location() = code };
}

/// The monotonic clock, as the kernel stamps buffers with it.
pub fn monotonic() -> Timespec {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    ts
}

/// A real C function looked up once with `dlsym(RTLD_NEXT, name)`.
pub struct Real {
    name: &'static [u8],
    addr: AtomicUsize,
}

impl Real {
    /// `name` must end with a NUL byte.
    pub const fn new(name: &'static [u8]) -> Self {
        Self {
            name,
            addr: AtomicUsize::new(0),
        }
    }

    /// The address of the next definition after this library's.
    pub fn get(&self) -> usize {
        let cached = self.addr.load(Ordering::Relaxed);
        if cached != 0 {
            return cached;
        }
        // SAFETY: the name is a NUL-terminated constant.
        let found = unsafe { dlsym(RTLD_NEXT, self.name.as_ptr().cast()) } as usize;
        assert!(found != 0, "fake-v4l2: no real {:?}", self.name);
        self.addr.store(found, Ordering::Relaxed);
        found
    }
}

pub static REAL_OPEN: Real = Real::new(b"open\0");
pub static REAL_OPEN64: Real = Real::new(b"open64\0");
pub static REAL_OPEN_2: Real = Real::new(b"__open_2\0");
pub static REAL_OPEN64_2: Real = Real::new(b"__open64_2\0");
pub static REAL_OPENAT: Real = Real::new(b"openat\0");
pub static REAL_OPENAT64: Real = Real::new(b"openat64\0");
pub static REAL_CLOSE: Real = Real::new(b"close\0");
pub static REAL_IOCTL: Real = Real::new(b"ioctl\0");
pub static REAL_SYSCALL: Real = Real::new(b"syscall\0");
pub static REAL_MMAP: Real = Real::new(b"mmap\0");
pub static REAL_MMAP64: Real = Real::new(b"mmap64\0");
pub static REAL_MUNMAP: Real = Real::new(b"munmap\0");
pub static REAL_POLL: Real = Real::new(b"poll\0");
pub static REAL_OPENDIR: Real = Real::new(b"opendir\0");
pub static REAL_INOTIFY_ADD_WATCH: Real = Real::new(b"inotify_add_watch\0");

pub type OpenFn = unsafe extern "C" fn(*const c_char, c_int, c_uint) -> c_int;
pub type Open2Fn = unsafe extern "C" fn(*const c_char, c_int) -> c_int;
pub type OpenAtFn = unsafe extern "C" fn(c_int, *const c_char, c_int, c_uint) -> c_int;
pub type CloseFn = unsafe extern "C" fn(c_int) -> c_int;
pub type IoctlFn = unsafe extern "C" fn(c_int, c_ulong, *mut c_void) -> c_int;
pub type SyscallFn =
    unsafe extern "C" fn(c_long, c_long, c_long, c_long, c_long, c_long, c_long) -> c_long;
pub type MmapFn =
    unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, c_int, c_long) -> *mut c_void;
pub type Mmap64Fn =
    unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, c_int, i64) -> *mut c_void;
pub type MunmapFn = unsafe extern "C" fn(*mut c_void, usize) -> c_int;
pub type PollFn = unsafe extern "C" fn(*mut PollFd, c_ulong, c_int) -> c_int;
pub type OpendirFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;
pub type InotifyAddWatchFn = unsafe extern "C" fn(c_int, *const c_char, u32) -> c_int;

/// Calls the real `poll`.
pub fn real_poll(fds: &mut [PollFd], timeout_ms: c_int) -> c_int {
    // SAFETY: REAL_POLL is libc's poll; `fds` is a valid slice.
    unsafe {
        let f: PollFn = std::mem::transmute(REAL_POLL.get());
        f(fds.as_mut_ptr(), fds.len() as c_ulong, timeout_ms)
    }
}

/// Calls the real `close`.
pub fn real_close(fd: c_int) -> c_int {
    // SAFETY: REAL_CLOSE is libc's close.
    unsafe {
        let f: CloseFn = std::mem::transmute(REAL_CLOSE.get());
        f(fd)
    }
}

/// Calls the real `mmap`.
///
/// # Safety
/// As `mmap(2)`.
pub unsafe fn real_mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: c_long,
) -> *mut c_void {
    // SAFETY: REAL_MMAP is libc's mmap; the caller keeps mmap's contract.
    unsafe {
        let f: MmapFn = std::mem::transmute(REAL_MMAP.get());
        f(addr, len, prot, flags, fd, offset)
    }
}

/// Calls the real `munmap`.
///
/// # Safety
/// As `munmap(2)`.
pub unsafe fn real_munmap(addr: *mut c_void, len: usize) -> c_int {
    // SAFETY: REAL_MUNMAP is libc's munmap; the caller keeps its contract.
    unsafe {
        let f: MunmapFn = std::mem::transmute(REAL_MUNMAP.get());
        f(addr, len)
    }
}
