//! `poll` on emulated nodes (`vb2_core_poll`, and `v4l2_poll` after an
//! unplug).

use std::ffi::c_int;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Device, RECHECK, file, is_fake};
use crate::sys;

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
