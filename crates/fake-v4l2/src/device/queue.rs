//! The buffer queue ioctls, as `videobuf2-v4l2.c` and `videobuf2-core.c`
//! answer them.

use std::ffi::c_int;
use std::time::Duration;

use crate::config::{BusyAt, ProfileKind};
use crate::sys::{EAGAIN, EBUSY, EINVAL, EIO, ENOSPC};
use crate::uapi::*;

use super::ioctl::check_type;
use super::memory::Mem;
use super::stream::run_stream;
use super::{Buf, BufState, Device, Errno, RECHECK, State, file, free_buffers, stop_streaming};

pub(super) const PAGE_SIZE: u32 = 4096;

const MAX_BUFFERS: u32 = 32;

/// Whether `fd` may use the queue: uvcvideo wants the privileged file
/// (`uvc_has_privileges`, EBUSY even when no file holds them), videobuf2
/// refuses only when another file owns the queue (`vb2_queue_is_busy`).
pub(super) fn check_owner(dev: &Device, st: &State, fd: c_int) -> Result<(), Errno> {
    match st.owner {
        Some(owner) if owner == fd => Ok(()),
        None if !dev.privileges() => Ok(()),
        _ => Err(EBUSY),
    }
}

/// `uvc_acquire_privileges`: the first file to change the node holds it
/// until it frees its buffers or closes; others get EBUSY. Other drivers
/// have no such rule.
pub(super) fn acquire(dev: &Device, st: &mut State, fd: c_int) -> Result<(), Errno> {
    if !dev.privileges() {
        return Ok(());
    }
    match st.owner {
        Some(owner) if owner != fd => Err(EBUSY),
        _ => {
            st.owner = Some(fd);
            Ok(())
        }
    }
}

pub(super) fn reqbufs(dev: &Device, fd: c_int, r: &mut RequestBuffers) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    if dev.privileges() {
        acquire(dev, &mut st, fd)?;
    } else {
        check_owner(dev, &st, fd)?;
    }
    if r.memory != MEMORY_MMAP {
        return Err(EINVAL);
    }
    check_type(dev, r.type_)?;
    r.capabilities = BUF_CAP_SUPPORTS_MMAP
        | BUF_CAP_SUPPORTS_USERPTR
        | BUF_CAP_SUPPORTS_DMABUF
        | BUF_CAP_SUPPORTS_ORPHANED_BUFS;
    r.flags = 0;
    if st.config.busy_at(BusyAt::ReqBufs) {
        return Err(EBUSY);
    }
    if st.streaming {
        return Err(EBUSY);
    }
    free_buffers(&mut st);
    if r.count == 0 {
        st.owner = None;
        return Ok(0);
    }
    let count = r.count.clamp(1, MAX_BUFFERS);
    let length = dev.profile.buffer_size(&st.mode);
    let stride = length.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let mem = Mem::new(stride as usize * count as usize)?;
    st.bufs = (0..count)
        .map(|i| Buf {
            state: BufState::Dequeued,
            offset: i * stride,
            length,
            bytesused: 0,
            error: false,
            sequence: 0,
            timestamp: Timeval::default(),
            mapped: 0,
            prev_used: 0,
        })
        .collect();
    st.mem = Some(mem);
    st.owner = Some(fd);
    r.count = count;
    Ok(0)
}

fn fill(dev: &Device, b: &Buf, index: u32, out: &mut Buffer) {
    let mut flags = dev.profile.timestamp_flags();
    if b.mapped > 0 {
        flags |= BUF_FLAG_MAPPED;
    }
    match b.state {
        BufState::Queued => flags |= BUF_FLAG_QUEUED,
        BufState::Done => {
            flags |= BUF_FLAG_DONE;
            if b.error {
                flags |= BUF_FLAG_ERROR;
            }
        }
        BufState::Dequeued => {}
    }
    *out = Buffer {
        index,
        type_: dev.profile.buf_type(),
        bytesused: b.bytesused,
        flags,
        field: FIELD_NONE,
        timestamp: b.timestamp,
        timecode: Timecode::default(),
        sequence: b.sequence,
        memory: MEMORY_MMAP,
        m: BufferM { offset: b.offset },
        length: b.length,
        reserved2: 0,
        request_fd: 0,
    };
}

pub(super) fn querybuf(dev: &Device, fd: c_int, out: &mut Buffer) -> Result<c_int, Errno> {
    let st = dev.lock();
    if dev.privileges() {
        check_owner(dev, &st, fd)?;
    }
    check_type(dev, out.type_)?;
    let b = st.bufs.get(out.index as usize).ok_or(EINVAL)?;
    fill(dev, b, out.index, out);
    Ok(0)
}

pub(super) fn qbuf(dev: &Device, fd: c_int, out: &mut Buffer) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    check_owner(dev, &st, fd)?;
    check_type(dev, out.type_)?;
    if out.memory != MEMORY_MMAP {
        return Err(EINVAL);
    }
    let index = out.index;
    let b = st.bufs.get_mut(index as usize).ok_or(EINVAL)?;
    if b.state != BufState::Dequeued {
        return Err(EINVAL);
    }
    b.state = BufState::Queued;
    b.error = false;
    let b = &st.bufs[index as usize];
    fill(dev, b, index, out);
    dev.cond.notify_all();
    Ok(0)
}

pub(super) fn dqbuf(
    dev: &Device,
    fd: c_int,
    nonblock: bool,
    out: &mut Buffer,
) -> Result<c_int, Errno> {
    {
        let st = dev.lock();
        check_owner(dev, &st, fd)?;
    }
    check_type(dev, out.type_)?;
    if out.memory != MEMORY_MMAP {
        return Err(EINVAL);
    }
    loop {
        let mut st = dev.lock();
        if st.gone {
            return Err(EIO);
        }
        if !st.streaming {
            return Err(EINVAL);
        }
        if let Some(index) = st.done.pop_front() {
            fill(dev, &st.bufs[index], index as u32, out);
            st.bufs[index].state = BufState::Dequeued;
            return Ok(0);
        }
        if nonblock {
            return Err(EAGAIN);
        }
        let (st, _) = dev
            .cond
            .wait_timeout(st, RECHECK)
            .unwrap_or_else(|e| e.into_inner());
        drop(st);
        dev.refresh();
    }
}

pub(super) fn streamon(dev: &Device, fd: c_int, type_: u32) -> Result<c_int, Errno> {
    let generation = {
        let mut st = dev.lock();
        check_owner(dev, &st, fd)?;
        check_type(dev, type_)?;
        if st.config.busy_at(BusyAt::StreamOn) {
            return Err(EBUSY);
        }
        if st.bufs.is_empty() {
            return Err(EINVAL);
        }
        if st.streaming {
            return Ok(0);
        }
        if let Some(limit) = st.config.bandwidth {
            // sizeimage × frames per second (the interval is seconds per frame).
            let rate = u64::from(st.mode.sizeimage) * u64::from(st.interval.denominator)
                / u64::from(st.interval.numerator.max(1));
            if rate > limit {
                return Err(ENOSPC);
            }
        }
        st.streaming = true;
        st.stream_gen += 1;
        st.sequence = 0;
        dev.publish_state(&st);
        st.stream_gen
    };
    if dev.profile.kind == ProfileKind::Bcm2835 {
        // start_streaming: "wait for a few frames for AGC to settle down".
        std::thread::sleep(Duration::from_millis(300));
    }
    let device = file(fd).map(|(d, _)| d).ok_or(EINVAL)?;
    std::thread::Builder::new()
        .name("fake-v4l2".into())
        .spawn(move || run_stream(&device, generation))
        .map_err(|_| EIO)?;
    Ok(0)
}

pub(super) fn streamoff(dev: &Device, fd: c_int, type_: u32) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    check_owner(dev, &st, fd)?;
    check_type(dev, type_)?;
    stop_streaming(&mut st);
    dev.publish_state(&st);
    dev.cond.notify_all();
    Ok(0)
}
