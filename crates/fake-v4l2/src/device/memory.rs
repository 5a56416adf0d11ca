//! The buffers' memory (a memfd per allocation, mapped by the frame
//! thread and by user code through `mmap`) and the user mappings, tracked
//! so V4L2_BUF_FLAG_MAPPED follows `munmap`.

use std::collections::HashMap;
use std::ffi::{c_int, c_long};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::sys::{self, EINVAL, EIO, ENODEV};

use super::queue::PAGE_SIZE;
use super::{Device, Errno, file};

/// The buffers' memory: one memfd (mmap offsets are offsets into it) and
/// this library's own mapping of it, which the frame thread writes.
pub(super) struct Mem {
    fd: c_int,
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is only touched under the device's state mutex.
unsafe impl Send for Mem {}

impl Mem {
    pub(super) fn new(len: usize) -> Result<Self, Errno> {
        // SAFETY: plain system calls on a fresh memfd; results checked.
        unsafe {
            let fd = sys::memfd_create(c"fake-v4l2".as_ptr(), sys::MFD_CLOEXEC);
            if fd < 0 {
                return Err(EIO);
            }
            if sys::ftruncate(fd, len as i64) != 0 {
                sys::real_close(fd);
                return Err(EIO);
            }
            let base = sys::real_mmap(
                std::ptr::null_mut(),
                len,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_SHARED,
                fd,
                0,
            );
            if base == sys::MAP_FAILED {
                sys::real_close(fd);
                return Err(EIO);
            }
            Ok(Self {
                fd,
                base: base.cast(),
                len,
            })
        }
    }

    pub(super) fn slice(&mut self, offset: u32, length: u32) -> &mut [u8] {
        let end = (offset as usize + length as usize).min(self.len);
        // SAFETY: base..base+len is our live mapping; &mut self makes this the
        // only slice of it.
        unsafe {
            std::slice::from_raw_parts_mut(self.base.add(offset as usize), end - offset as usize)
        }
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: our own mapping and memfd; user mappings keep the pages.
        unsafe {
            sys::real_munmap(self.base.cast(), self.len);
        }
        sys::real_close(self.fd);
    }
}

/// Mappings user code made of buffers, so munmap can clear
/// V4L2_BUF_FLAG_MAPPED. Addresses are kept in atomics so the munmap hook
/// (called for every munmap of the process) needs no lock to say "not ours".
const MAX_MAPPINGS: usize = 256;

static MAPPED_ADDR: [AtomicUsize; MAX_MAPPINGS] = [const { AtomicUsize::new(0) }; MAX_MAPPINGS];

struct Mapping {
    device: Arc<Device>,
    alloc_gen: u64,
    index: usize,
}

fn mappings() -> &'static Mutex<HashMap<usize, Mapping>> {
    static MAPPINGS: OnceLock<Mutex<HashMap<usize, Mapping>>> = OnceLock::new();
    MAPPINGS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `mmap` of an emulated node's buffer (`vb2_mmap`): the offset must be a
/// buffer's, the mapping shared and no longer than the buffer.
pub fn mmap(len: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) -> Result<usize, Errno> {
    let (dev, _) = file(fd).ok_or(EINVAL)?;
    dev.refresh();
    let st = dev.lock();
    if st.gone {
        return Err(ENODEV);
    }
    if flags & sys::MAP_SHARED == 0 || prot & sys::PROT_READ == 0 {
        return Err(EINVAL);
    }
    let index = st
        .bufs
        .iter()
        .position(|b| i64::from(b.offset) == offset)
        .ok_or(EINVAL)?;
    let b = &st.bufs[index];
    if len > b.length.div_ceil(PAGE_SIZE) as usize * PAGE_SIZE as usize {
        return Err(EINVAL);
    }
    let memfd = st.mem.as_ref().ok_or(EINVAL)?.fd;
    let alloc_gen = st.alloc_gen;
    drop(st);
    // SAFETY: a fresh shared mapping of our memfd at a buffer's offset.
    let addr = unsafe {
        sys::real_mmap(
            std::ptr::null_mut(),
            len,
            prot,
            flags,
            memfd,
            offset as c_long,
        )
    };
    if addr == sys::MAP_FAILED {
        return Err(EIO);
    }
    let addr = addr as usize;
    let mut st = dev.lock();
    if st.alloc_gen == alloc_gen {
        st.bufs[index].mapped += 1;
    }
    drop(st);
    if let Some(slot) = MAPPED_ADDR.iter().find(|s| {
        s.compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }) {
        let _ = slot;
        mappings().lock().unwrap_or_else(|e| e.into_inner()).insert(
            addr,
            Mapping {
                device: dev,
                alloc_gen,
                index,
            },
        );
    }
    Ok(addr)
}

/// Called before every `munmap` of the process.
pub fn unmapping(addr: usize) {
    let Some(slot) = MAPPED_ADDR
        .iter()
        .find(|s| addr != 0 && s.load(Ordering::Acquire) == addr)
    else {
        return;
    };
    let removed = mappings()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&addr);
    slot.store(0, Ordering::Release);
    if let Some(m) = removed {
        let mut st = m.device.lock();
        if st.alloc_gen == m.alloc_gen
            && let Some(b) = st.bufs.get_mut(m.index)
        {
            b.mapped = b.mapped.saturating_sub(1);
        }
    }
}
