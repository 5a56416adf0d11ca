//! The frame thread of a streaming node: a frame every interval into the
//! oldest queued buffer, as the driver's completion handler and
//! `vb2_buffer_done` would.

use std::time::{Duration, Instant};

use super::{BufState, Device, RECHECK, State};
use crate::config::{NodeConfig, ProfileKind};
use crate::frames::{self, JpegCycle};
use crate::sys;
use crate::uapi::*;

/// The frame thread of one stream: a frame every interval into the next
/// queued buffer, until STREAMOFF, close or unplug.
pub(super) fn run_stream(dev: &Device, generation: u64) {
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
    } else if frames::is_nv12(mode.fourcc) {
        let stride = (mode.bytesperline as usize).max(mode.width as usize);
        let used = frames::write_nv12_bars(data, mode.width as usize, mode.height as usize, stride);
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
