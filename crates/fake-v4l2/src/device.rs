//! One emulated video node: its format state, its videobuf2-like buffer
//! queue and the ioctls on it, following `v4l2-ioctl.c`,
//! `videobuf2-v4l2.c` / `videobuf2-core.c` and `v4l2-dev.c`:
//!
//! - after an unplug (`video_unregister_device`) every ioctl answers
//!   ENODEV and poll answers POLLERR | POLLHUP (| POLLPRI), for good;
//! - the queue belongs to the file that called REQBUFS first
//!   (`vb2_queue_is_busy`: EBUSY for others) until REQBUFS(0) or close;
//! - REQBUFS while streaming is EBUSY, REQBUFS(0) frees (mapped buffers are
//!   orphaned, as V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS says), counts are
//!   clamped to 1..=32;
//! - QBUF of a buffer not dequeued is EINVAL, DQBUF when not streaming is
//!   EINVAL, a non-blocking DQBUF with nothing done is EAGAIN, STREAMON
//!   without buffers is EINVAL and when streaming already succeeds;
//! - poll: POLLERR when not streaming or no buffer is queued or done,
//!   POLLIN | POLLRDNORM when a buffer is done.
//!
//! Not emulated: USERPTR and DMABUF memory, CREATE_BUFS, PREPARE_BUF,
//! EXPBUF, read(), controls, events, the metadata stream's content (the
//! metadata node accepts buffers and never fills them), multi-planar.

use std::collections::{HashMap, VecDeque};
use std::ffi::{c_int, c_long, c_ulong, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{self, BusyAt, Instance, NodeConfig, ProfileKind};
use crate::frames::{self, JpegCycle};
use crate::profile::{FrameIntervals, FrameSizes, Mode, Profile, compressed, description};
use crate::sys::{self, EAGAIN, EBUSY, EINVAL, EIO, ENODEV, ENOTTY};
use crate::uapi::*;

const PAGE_SIZE: u32 = 4096;
const MAX_BUFFERS: u32 = 32;
/// LINUX_VERSION_CODE of the kernel the emulated drivers are from (6.1).
const KERNEL_VERSION: u32 = (6 << 16) | (1 << 8);
/// How often a waiter looks at the node file while nothing happens.
const RECHECK: Duration = Duration::from_millis(50);

/// An errno.
pub type Errno = c_int;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BufState {
    Dequeued,
    Queued,
    Done,
}

struct Buf {
    state: BufState,
    offset: u32,
    length: u32,
    bytesused: u32,
    error: bool,
    sequence: u32,
    timestamp: Timeval,
    mapped: u32,
    /// Bytes the previous frame in this buffer used.
    prev_used: usize,
}

/// The buffers' memory: one memfd (mmap offsets are offsets into it) and
/// this library's own mapping of it, which the frame thread writes.
struct Mem {
    fd: c_int,
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is only touched under the device's state mutex.
unsafe impl Send for Mem {}

impl Mem {
    fn new(len: usize) -> Result<Self, Errno> {
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

    fn slice(&mut self, offset: u32, length: u32) -> &mut [u8] {
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

/// The per-node state, shared by every file open on the same instance.
struct State {
    config: NodeConfig,
    gone: bool,
    mode: Mode,
    interval: Fract,
    /// The fd whose file owns the queue.
    owner: Option<c_int>,
    bufs: Vec<Buf>,
    mem: Option<Mem>,
    /// Bumped at each REQBUFS, so stale munmaps do not touch new buffers.
    alloc_gen: u64,
    streaming: bool,
    /// Bumped at each STREAMON/STREAMOFF: the frame thread of an old
    /// stream sees it and ends.
    stream_gen: u64,
    sequence: u32,
    done: VecDeque<usize>,
    /// Frames this instance delivered (for `stall_after`).
    delivered: u64,
    /// Frames produced, delivered or dropped (for `*_every`).
    frame_no: u64,
}

/// One plug-in of a node.
pub struct Device {
    index: u32,
    instance: Instance,
    profile: Profile,
    state: Mutex<State>,
    cond: Condvar,
}

impl Device {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the node file: new settings, or the unplug.
    fn refresh(&self) {
        let now = config::current(self.index, self.instance);
        let mut st = self.lock();
        match now {
            Some(config) => st.config = config,
            None => {
                if !st.gone {
                    st.gone = true;
                    st.streaming = false;
                    st.stream_gen += 1;
                    self.cond.notify_all();
                }
            }
        }
    }

    fn poll_mask(st: &State, events: i16) -> i16 {
        let ready = if st.gone {
            sys::POLLERR | sys::POLLHUP | sys::POLLPRI
        } else if !st.streaming || st.bufs.iter().all(|b| b.state == BufState::Dequeued) {
            sys::POLLERR
        } else if !st.done.is_empty() {
            sys::POLLIN | sys::POLLRDNORM
        } else {
            0
        };
        ready & (events | sys::POLLERR | sys::POLLHUP | sys::POLLNVAL)
    }
}

struct OpenFile {
    device: Arc<Device>,
    nonblock: bool,
}

const MAX_FD: usize = 4096;
static FAKE_FD: [AtomicBool; MAX_FD] = [const { AtomicBool::new(false) }; MAX_FD];

/// Whether `fd` is an emulated node (lock-free: called on every mmap,
/// syscall and close of the process).
pub fn is_fake(fd: c_int) -> bool {
    usize::try_from(fd)
        .ok()
        .and_then(|i| FAKE_FD.get(i))
        .is_some_and(|b| b.load(Ordering::Acquire))
}

fn files() -> &'static Mutex<HashMap<c_int, OpenFile>> {
    static FILES: OnceLock<Mutex<HashMap<c_int, OpenFile>>> = OnceLock::new();
    FILES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Every node instance opened so far: a node keeps its format between opens.
type Registry = HashMap<(u32, Instance), Arc<Device>>;

fn devices() -> &'static Mutex<Registry> {
    static DEVICES: OnceLock<Mutex<Registry>> = OnceLock::new();
    DEVICES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn file(fd: c_int) -> Option<(Arc<Device>, bool)> {
    let files = files().lock().unwrap_or_else(|e| e.into_inner());
    files.get(&fd).map(|f| (f.device.clone(), f.nonblock))
}

/// `open("/dev/video{index}")`: a real fd (an eventfd) standing for the node.
pub fn open(index: u32, flags: c_int) -> Result<c_int, Errno> {
    let node = config::read_node(index).ok_or(sys::ENOENT)?;
    if node.config.eacces {
        return Err(sys::EACCES);
    }
    let device = {
        let mut devices = devices().lock().unwrap_or_else(|e| e.into_inner());
        devices
            .entry((index, node.instance))
            .or_insert_with(|| {
                let profile = Profile::new(node.config.profile);
                let mode = profile.default_mode(&node.config);
                let interval = profile.default_interval(&mode);
                Arc::new(Device {
                    index,
                    instance: node.instance,
                    profile,
                    state: Mutex::new(State {
                        config: node.config.clone(),
                        gone: false,
                        mode,
                        interval,
                        owner: None,
                        bufs: Vec::new(),
                        mem: None,
                        alloc_gen: 0,
                        streaming: false,
                        stream_gen: 0,
                        sequence: 0,
                        done: VecDeque::new(),
                        delivered: 0,
                        frame_no: 0,
                    }),
                    cond: Condvar::new(),
                })
            })
            .clone()
    };
    // SAFETY: eventfd has no memory arguments.
    let fd = unsafe { sys::eventfd(0, sys::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(EIO);
    }
    if fd as usize >= MAX_FD {
        sys::real_close(fd);
        return Err(sys::EACCES);
    }
    files().lock().unwrap_or_else(|e| e.into_inner()).insert(
        fd,
        OpenFile {
            device,
            nonblock: flags & sys::O_NONBLOCK != 0,
        },
    );
    FAKE_FD[fd as usize].store(true, Ordering::Release);
    Ok(fd)
}

/// `close(fd)` of an emulated node: the file's queue is released
/// (`vb2_fop_release`).
pub fn close(fd: c_int) {
    FAKE_FD[fd as usize].store(false, Ordering::Release);
    let removed = files()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&fd);
    if let Some(f) = removed {
        let mut st = f.device.lock();
        if st.owner == Some(fd) {
            stop_streaming(&mut st);
            free_buffers(&mut st);
            st.owner = None;
            f.device.cond.notify_all();
        }
    }
}

fn stop_streaming(st: &mut State) {
    st.streaming = false;
    st.stream_gen += 1;
    st.done.clear();
    for b in &mut st.bufs {
        b.state = BufState::Dequeued;
    }
}

fn free_buffers(st: &mut State) {
    st.bufs.clear();
    st.done.clear();
    st.mem = None;
    st.alloc_gen += 1;
}

/// An ioctl on an emulated node; `Ok` is the return value.
///
/// # Safety
/// `arg` must point to the struct the request's size says, as the kernel
/// requires of callers.
pub unsafe fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> Result<c_int, Errno> {
    let Some((dev, nonblock)) = file(fd) else {
        return Err(sys::EBADF);
    };
    dev.refresh();
    if dev.lock().gone {
        return Err(ENODEV);
    }
    if arg.is_null() {
        return Err(sys::EFAULT);
    }
    let request = request as u32;
    // SAFETY: the caller passes a pointer to the request's struct.
    unsafe {
        match request {
            VIDIOC_QUERYCAP => querycap(&dev, &mut *arg.cast()),
            VIDIOC_ENUM_FMT => enum_fmt(&dev, &mut *arg.cast()),
            VIDIOC_G_FMT => g_fmt(&dev, &mut *arg.cast()),
            VIDIOC_S_FMT => s_fmt(&dev, &mut *arg.cast(), true),
            VIDIOC_TRY_FMT => s_fmt(&dev, &mut *arg.cast(), false),
            VIDIOC_ENUM_FRAMESIZES => enum_framesizes(&dev, &mut *arg.cast()),
            VIDIOC_ENUM_FRAMEINTERVALS => enum_frameintervals(&dev, &mut *arg.cast()),
            VIDIOC_G_PARM => parm(&dev, &mut *arg.cast(), false),
            VIDIOC_S_PARM => parm(&dev, &mut *arg.cast(), true),
            VIDIOC_REQBUFS => reqbufs(&dev, fd, &mut *arg.cast()),
            VIDIOC_QUERYBUF => querybuf(&dev, &mut *arg.cast()),
            VIDIOC_QBUF => qbuf(&dev, fd, &mut *arg.cast()),
            VIDIOC_DQBUF => dqbuf(&dev, fd, nonblock, &mut *arg.cast()),
            VIDIOC_STREAMON => streamon(&dev, fd, *arg.cast::<u32>()),
            VIDIOC_STREAMOFF => streamoff(&dev, fd, *arg.cast::<u32>()),
            VIDIOC_ENUMINPUT => enum_input(&dev, &mut *arg.cast()),
            VIDIOC_G_INPUT => input(&dev, &mut *arg.cast(), false),
            VIDIOC_S_INPUT => input(&dev, &mut *arg.cast(), true),
            _ => Err(ENOTTY),
        }
    }
}

fn querycap(dev: &Device, cap: &mut Capability) -> Result<c_int, Errno> {
    let st = dev.lock();
    let id = dev.profile.identity(&st.config);
    set_str(&mut cap.driver, id.driver);
    set_str(&mut cap.card, &id.card);
    set_str(&mut cap.bus_info, &id.bus);
    cap.version = KERNEL_VERSION;
    cap.capabilities = id.capabilities;
    cap.device_caps = id.device_caps;
    cap.reserved = [0; 3];
    Ok(0)
}

fn check_type(dev: &Device, type_: u32) -> Result<(), Errno> {
    if type_ == dev.profile.buf_type() {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

fn enum_fmt(dev: &Device, d: &mut FmtDesc) -> Result<c_int, Errno> {
    check_type(dev, d.type_)?;
    let st = dev.lock();
    let formats = dev.profile.formats(&st.config);
    let f = formats.get(d.index as usize).ok_or(EINVAL)?;
    d.pixelformat = f.fourcc;
    d.flags = if compressed(f.fourcc) {
        FMT_FLAG_COMPRESSED
    } else {
        0
    };
    set_str(&mut d.description, description(f.fourcc));
    d.mbus_code = 0;
    d.reserved = [0; 3];
    Ok(0)
}

fn pix_of(mode: &Mode) -> PixFormat {
    PixFormat {
        width: mode.width,
        height: mode.height,
        pixelformat: mode.fourcc,
        field: FIELD_NONE,
        bytesperline: mode.bytesperline,
        sizeimage: mode.sizeimage,
        colorspace: mode.colorspace,
        ..PixFormat::default()
    }
}

fn g_fmt(dev: &Device, f: &mut Format) -> Result<c_int, Errno> {
    check_type(dev, f.type_)?;
    let st = dev.lock();
    f.fmt.raw_data = [0; 200];
    if dev.profile.kind == ProfileKind::UvcMeta {
        f.fmt.meta = MetaFormat {
            dataformat: META_FMT_UVC,
            buffersize: crate::profile::UVC_META_BUFFER_SIZE,
        };
    } else {
        f.fmt.pix = pix_of(&st.mode);
    }
    Ok(0)
}

fn s_fmt(dev: &Device, f: &mut Format, set: bool) -> Result<c_int, Errno> {
    check_type(dev, f.type_)?;
    let mut st = dev.lock();
    if dev.profile.kind == ProfileKind::UvcMeta {
        // SAFETY: a META_CAPTURE format carries the meta member.
        let wanted = unsafe { f.fmt.meta };
        f.fmt.meta = MetaFormat {
            dataformat: META_FMT_UVC,
            buffersize: wanted.buffersize.max(crate::profile::UVC_META_BUFFER_SIZE),
        };
        if set && !st.bufs.is_empty() {
            return Err(EBUSY);
        }
        return Ok(0);
    }
    // SAFETY: a VIDEO_CAPTURE format carries the pix member.
    let mut pix = unsafe { f.fmt.pix };
    let mode = dev.profile.try_fmt(&st.config, &mut pix);
    f.fmt.pix = pix;
    if !set {
        return Ok(0);
    }
    if st.config.busy_at(BusyAt::SFmt) || !st.bufs.is_empty() {
        return Err(EBUSY);
    }
    st.mode = mode;
    if dev.profile.kind != ProfileKind::Bcm2835 {
        st.interval = dev.profile.default_interval(&mode);
    }
    Ok(0)
}

fn enum_framesizes(dev: &Device, s: &mut FrmSizeEnum) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    let st = dev.lock();
    if !dev
        .profile
        .formats(&st.config)
        .iter()
        .any(|f| f.fourcc == s.pixel_format)
    {
        return Err(EINVAL);
    }
    match dev.profile.frame_sizes(s.pixel_format) {
        FrameSizes::Discrete(sizes) => {
            let &(width, height) = sizes.get(s.index as usize).ok_or(EINVAL)?;
            s.type_ = FRMSIZE_TYPE_DISCRETE;
            s.u.stepwise = FrmSizeStepwise::default();
            s.u.discrete = FrmSizeDiscrete { width, height };
        }
        FrameSizes::Stepwise(step) => {
            if s.index != 0 {
                return Err(EINVAL);
            }
            s.type_ = FRMSIZE_TYPE_STEPWISE;
            s.u.stepwise = step;
        }
    }
    s.reserved = [0; 2];
    Ok(0)
}

fn enum_frameintervals(dev: &Device, iv: &mut FrmIvalEnum) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    let st = dev.lock();
    if !dev
        .profile
        .formats(&st.config)
        .iter()
        .any(|f| f.fourcc == iv.pixel_format)
    {
        return Err(EINVAL);
    }
    match dev
        .profile
        .frame_intervals(iv.pixel_format, iv.width, iv.height)
        .ok_or(EINVAL)?
    {
        FrameIntervals::Discrete(list) => {
            let &f = list.get(iv.index as usize).ok_or(EINVAL)?;
            iv.type_ = FRMIVAL_TYPE_DISCRETE;
            iv.u.stepwise = FrmIvalStepwise::default();
            iv.u.discrete = f;
        }
        FrameIntervals::Continuous(range) => {
            if iv.index != 0 {
                return Err(EINVAL);
            }
            iv.type_ = FRMIVAL_TYPE_CONTINUOUS;
            iv.u.stepwise = range;
        }
    }
    iv.reserved = [0; 2];
    Ok(0)
}

fn parm(dev: &Device, p: &mut StreamParm, set: bool) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    if p.type_ != BUF_TYPE_VIDEO_CAPTURE {
        return Err(EINVAL);
    }
    let mut st = dev.lock();
    if set {
        // SAFETY: a VIDEO_CAPTURE streamparm carries the capture member.
        let wanted = unsafe { p.parm.capture.timeperframe };
        if dev.profile.kind != ProfileKind::Bcm2835 && st.streaming {
            return Err(EBUSY);
        }
        st.interval = dev.profile.choose_interval(&st.mode, wanted);
    }
    p.parm.raw_data = [0; 200];
    p.parm.capture = CaptureParm {
        capability: CAP_TIMEPERFRAME,
        timeperframe: st.interval,
        readbuffers: u32::from(dev.profile.kind == ProfileKind::Bcm2835),
        ..CaptureParm::default()
    };
    Ok(0)
}

fn check_owner(st: &State, fd: c_int) -> Result<(), Errno> {
    match st.owner {
        Some(owner) if owner != fd => Err(EBUSY),
        _ => Ok(()),
    }
}

fn reqbufs(dev: &Device, fd: c_int, r: &mut RequestBuffers) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    check_owner(&st, fd)?;
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

fn querybuf(dev: &Device, out: &mut Buffer) -> Result<c_int, Errno> {
    check_type(dev, out.type_)?;
    let st = dev.lock();
    let b = st.bufs.get(out.index as usize).ok_or(EINVAL)?;
    fill(dev, b, out.index, out);
    Ok(0)
}

fn qbuf(dev: &Device, fd: c_int, out: &mut Buffer) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    check_owner(&st, fd)?;
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

fn dqbuf(dev: &Device, fd: c_int, nonblock: bool, out: &mut Buffer) -> Result<c_int, Errno> {
    {
        let st = dev.lock();
        check_owner(&st, fd)?;
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

fn streamon(dev: &Device, fd: c_int, type_: u32) -> Result<c_int, Errno> {
    let generation = {
        let mut st = dev.lock();
        check_owner(&st, fd)?;
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
        st.streaming = true;
        st.stream_gen += 1;
        st.sequence = 0;
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

fn streamoff(dev: &Device, fd: c_int, type_: u32) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    check_owner(&st, fd)?;
    check_type(dev, type_)?;
    stop_streaming(&mut st);
    dev.cond.notify_all();
    Ok(0)
}

fn enum_input(dev: &Device, inp: &mut Input) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    if inp.index != 0 {
        return Err(EINVAL);
    }
    let name = if dev.profile.kind == ProfileKind::Bcm2835 {
        "Camera 0"
    } else {
        "Camera 1"
    };
    set_str(&mut inp.name, name);
    inp.type_ = INPUT_TYPE_CAMERA;
    inp.audioset = 0;
    inp.tuner = 0;
    inp.std = 0;
    inp.status = 0;
    inp.capabilities = 0;
    inp.reserved = [0; 3];
    Ok(0)
}

fn input(dev: &Device, i: &mut c_int, set: bool) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    if set && *i != 0 {
        return Err(EINVAL);
    }
    *i = 0;
    Ok(0)
}

/// The frame thread of one stream: a frame every interval into the next
/// queued buffer, until STREAMOFF, close or unplug.
fn run_stream(dev: &Device, generation: u64) {
    let mut jpegs = JpegCycle::default();
    let mut next = Instant::now() + interval_of(&dev.lock());
    loop {
        {
            let mut st = dev.lock();
            loop {
                if st.stream_gen != generation || !st.streaming || st.gone {
                    return;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                st = dev
                    .cond
                    .wait_timeout(st, (next - now).min(RECHECK))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        dev.refresh();
        let mut st = dev.lock();
        if st.stream_gen != generation || st.gone {
            return;
        }
        if frames::is_jpeg(st.mode.fourcc) {
            jpegs.load(st.config.frames.as_deref());
        }
        produce(dev, &mut st, &jpegs);
        dev.cond.notify_all();
        let interval = interval_of(&st);
        drop(st);
        next += interval;
        let now = Instant::now();
        if next + Duration::from_secs(1) < now {
            next = now + interval;
        }
    }
}

fn interval_of(st: &State) -> Duration {
    let Fract {
        numerator,
        denominator,
    } = st.interval;
    if numerator == 0 || denominator == 0 {
        return Duration::from_millis(33);
    }
    Duration::from_nanos(u64::from(numerator) * 1_000_000_000 / u64::from(denominator))
}

fn stalled(config: &NodeConfig, delivered: u64) -> bool {
    config.stall || config.stall_after.is_some_and(|n| delivered >= n)
}

/// One frame time: fill the oldest queued buffer, as the driver's
/// completion handler and `vb2_buffer_done` would.
fn produce(dev: &Device, st: &mut State, jpegs: &JpegCycle) {
    if stalled(&st.config, st.delivered) || dev.profile.kind == ProfileKind::UvcMeta {
        return;
    }
    st.frame_no += 1;
    let frame_no = st.frame_no;
    let sequence = st.sequence;
    st.sequence = st.sequence.wrapping_add(1);
    let Some(index) = st.bufs.iter().position(|b| b.state == BufState::Queued) else {
        return; // no buffer: the frame is dropped, the sequence has a gap
    };
    let mode = st.mode;
    let config = st.config.clone();
    let (offset, length, prev_used) = {
        let b = &st.bufs[index];
        (b.offset, b.length, b.prev_used)
    };
    let Some(mem) = st.mem.as_mut() else { return };
    let data = mem.slice(offset, length);
    let (bytesused, error) = if frames::is_jpeg(mode.fourcc) {
        let Some(jpeg) = jpegs.get(st.delivered) else {
            return;
        };
        let w = frames::write_jpeg(data, prev_used, jpeg, frame_no, &config);
        (w.bytesused, w.error)
    } else if frames::is_yuyv(mode.fourcc) {
        let stride = if mode.bytesperline == 0 {
            mode.width as usize * 2
        } else {
            mode.bytesperline as usize
        };
        let used = frames::write_yuyv_bars(data, mode.width as usize, mode.height as usize, stride);
        (used, false)
    } else {
        (mode.sizeimage.min(length) as usize, false)
    };
    let error = error || frames::every(config.error_every, frame_no);
    let ts = sys::monotonic();
    let b = &mut st.bufs[index];
    b.state = BufState::Done;
    b.bytesused = bytesused as u32;
    b.prev_used = bytesused;
    b.error = error;
    b.sequence = sequence;
    b.timestamp = Timeval {
        tv_sec: ts.tv_sec,
        tv_usec: ts.tv_nsec / 1000,
    };
    st.done.push_back(index);
    st.delivered += 1;
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

/// `poll` over a set holding at least one emulated node: a real bounded
/// wait (the node's condition variable, or the real poll for the other
/// descriptors in short slices), never a spin.
pub fn poll(fds: &mut [sys::PollFd], timeout_ms: c_int) -> c_int {
    let deadline =
        (timeout_ms >= 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
    let fake: Vec<(usize, Option<Arc<Device>>)> = fds
        .iter()
        .enumerate()
        .filter(|(_, p)| is_fake(p.fd))
        .map(|(i, p)| (i, file(p.fd).map(|(d, _)| d)))
        .collect();
    let real: Vec<usize> = (0..fds.len()).filter(|&i| !is_fake(fds[i].fd)).collect();
    loop {
        let mut ready = 0;
        for (i, dev) in &fake {
            let p = &mut fds[*i];
            p.revents = match dev {
                Some(dev) => {
                    dev.refresh();
                    Device::poll_mask(&dev.lock(), p.events)
                }
                None => sys::POLLNVAL,
            };
            if p.revents != 0 {
                ready += 1;
            }
        }
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let slice = remaining.map_or(RECHECK, |r| r.min(RECHECK));
        if !real.is_empty() {
            let mut sub: Vec<sys::PollFd> = real
                .iter()
                .map(|&i| sys::PollFd {
                    fd: fds[i].fd,
                    events: fds[i].events,
                    revents: 0,
                })
                .collect();
            let wait = if ready > 0 {
                0
            } else {
                slice.min(Duration::from_millis(10)).as_millis() as c_int
            };
            let n = sys::real_poll(&mut sub, wait);
            if n < 0 {
                return n;
            }
            for (k, &i) in real.iter().enumerate() {
                fds[i].revents = sub[k].revents;
                if sub[k].revents != 0 {
                    ready += 1;
                }
            }
            if ready > 0 || remaining.is_some_and(|r| r.is_zero()) {
                return ready;
            }
            continue;
        }
        if ready > 0 || remaining.is_some_and(|r| r.is_zero()) {
            return ready;
        }
        // Only emulated nodes: sleep on the first one's condition variable.
        if let Some((i, Some(dev))) = fake.first() {
            let st = dev.lock();
            if Device::poll_mask(&st, fds[*i].events) == 0 {
                let _ = dev.cond.wait_timeout(st, slice);
            }
        } else {
            std::thread::sleep(slice);
        }
    }
}
