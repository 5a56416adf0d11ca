//! Watching `/dev` for camera nodes, so that a camera that comes back is
//! opened as soon as its node appears (or udev changes its permissions),
//! not at the next step of the backoff, and finding it when it came back
//! under another node.

use std::io;

use inotify::{Inotify, WatchMask};
use v4l::capability::Flags as CapFlags;
use v4l::prelude::Device;

use super::driver::guard;

/// Where device nodes live.
const DEV: &str = "/dev";

/// An inotify watch on `/dev`; never blocks.
pub(super) struct DevWatch {
    inotify: Inotify,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for DevWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevWatch").finish_non_exhaustive()
    }
}

impl DevWatch {
    /// A watch for nodes created, moved in or changed (udev sets a new
    /// node's group and mode just after creating it).
    pub(super) fn new() -> io::Result<Self> {
        let inotify = Inotify::init()?;
        inotify.watches().add(
            DEV,
            WatchMask::CREATE | WatchMask::MOVED_TO | WatchMask::ATTRIB,
        )?;
        Ok(Self {
            inotify,
            buffer: vec![0; 4096],
        })
    }

    /// True when a `videoN` node appeared or changed since the last call.
    ///
    /// # Errors
    /// The watch broke (the caller drops it).
    pub(super) fn video_node_changed(&mut self) -> io::Result<bool> {
        let mut seen = false;
        loop {
            match self.inotify.read_events(&mut self.buffer) {
                Ok(events) => {
                    let mut any = false;
                    for event in events {
                        any = true;
                        seen |= event
                            .name
                            .and_then(|n| n.to_str())
                            .is_some_and(is_video_node);
                    }
                    if !any {
                        return Ok(seen);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(seen),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Which camera was opened: a camera that comes back under another node
/// (its old one still held open when it was replugged) is found by these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    pub(super) card: String,
    pub(super) bus: String,
}

/// A capture node at another `/dev/videoN` than `asked` with the camera's
/// name and bus: the camera came back there.
pub(super) fn find_moved(id: &Identity, asked: &str) -> Option<(Device, String)> {
    super::list::video_nodes().into_iter().find_map(|index| {
        let path = format!("/dev/video{index}");
        if path == asked {
            return None;
        }
        let device = Device::with_path(&path).ok()?;
        let caps = guard("querying the device", || device.query_caps()).ok()?;
        let same = caps.card == id.card
            && caps.bus == id.bus
            && caps.capabilities.contains(CapFlags::VIDEO_CAPTURE);
        same.then(|| {
            tracing::info!("{} is back as {path}", id.card);
            (device, path)
        })
    })
}

/// `videoN`, the name of a V4L2 video node.
pub(super) fn is_video_node(name: &str) -> bool {
    video_index(name).is_some()
}

/// N of `videoN`.
pub(super) fn video_index(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("video")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_node_names() {
        assert_eq!(video_index("video0"), Some(0));
        assert_eq!(video_index("video12"), Some(12));
        for name in [
            "video",
            "video-front",
            "videox",
            "vide0",
            "media0",
            "video1a",
        ] {
            assert_eq!(video_index(name), None, "{name}");
        }
    }

    #[test]
    fn a_watch_on_dev_reads_nothing_when_nothing_happens() {
        // Containers may forbid inotify; where it works, an idle /dev gives
        // no video event and reading never blocks.
        if let Ok(mut watch) = DevWatch::new() {
            let started = std::time::Instant::now();
            let _ = watch.video_node_changed();
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }
}
