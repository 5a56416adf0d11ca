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
//! EXPBUF, read(), control events, the metadata stream's content (the
//! metadata node accepts buffers and never fills them), multi-planar.
//!
//! Here: the node state shared by the files open on it, and open/close;
//! [`ioctl`] the entry point and the format, enumeration and parameter
//! ioctls; `ctrl` the control ioctls; `queue` the buffer ioctls; `stream` the frame thread;
//! `memory` the buffers' memory and user mappings; `poll` poll.

mod ctrl;
mod ioctl;
mod memory;
mod poll;
mod queue;
mod stream;

pub use ioctl::ioctl;
pub use memory::{mmap, unmapping};
pub use poll::poll;

use memory::Mem;

use std::collections::{HashMap, VecDeque};
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::config::{self, Instance, NodeConfig, ProfileKind};
use crate::controls::Controls;
use crate::profile::{Mode, Profile};
use crate::sys::{self, EIO};
use crate::uapi::*;

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

/// The per-node state, shared by every file open on the same instance.
struct State {
    config: NodeConfig,
    gone: bool,
    mode: Mode,
    interval: Fract,
    /// The file that owns the queue (videobuf2) or holds uvcvideo's
    /// privileges.
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
    /// The driver's control values (per device instance, shared by its files).
    controls: Controls,
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

    /// Whether the driver has uvcvideo's per-file privileges.
    fn privileges(&self) -> bool {
        self.profile.kind == ProfileKind::Uvc
    }

    /// Writes what the driver is set to, as `v4l2-ctl --get-fmt-video
    /// --get-parm` would show it, to `$FAKE_V4L2_STATE_DIR/videoN` (when
    /// that is set): `fourcc`, `width`, `height`, `bytesperline`,
    /// `interval` (seconds per frame as a fraction), `streaming`, then each
    /// control's value as `name=value` (`v4l2-ctl --list-ctrls` names).
    /// Written aside and renamed, so a reader never sees half of it.
    fn publish_state(&self, st: &State) {
        let Some(dir) = std::env::var_os("FAKE_V4L2_STATE_DIR") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        let m = &st.mode;
        let fourcc: String = m
            .fourcc
            .to_le_bytes()
            .iter()
            .map(|&b| char::from(b))
            .collect();
        let text = format!(
            "fourcc={fourcc}\nwidth={}\nheight={}\nbytesperline={}\ninterval={}/{}\nstreaming={}\n",
            m.width,
            m.height,
            m.bytesperline,
            st.interval.numerator,
            st.interval.denominator,
            u8::from(st.streaming),
        ) + &st.controls.state_lines();
        let path = dir.join(format!("video{}", self.index));
        let aside = dir.join(format!(".video{}.{}", self.index, std::process::id()));
        if std::fs::write(&aside, text).is_ok() {
            let _ = std::fs::rename(&aside, &path);
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
                        controls: Controls::new(node.config.profile),
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
