//! The emulated nodes: `$FAKE_V4L2_DIR/videoN` files, one per plugged
//! `/dev/videoN`, their `key=value` settings, and which plug-in ("device
//! instance") a file is.
//!
//! A node is plugged while its file exists. Deleting the file is an unplug;
//! creating it again is a new device instance (the kernel registers a new
//! `video_device`), so descriptors opened on the old one stay dead. An
//! instance is told apart by the file's inode and birth time, and by
//! whether this library ever saw the file missing in between (file systems
//! reuse inode numbers).
//!
//! A node file is never empty: an empty file is one being written (its
//! previous settings hold, or, when just created, the node is not there
//! yet), so a test can create or rewrite it with a plain `write`.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::UNIX_EPOCH;

/// Which real driver a node answers as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileKind {
    /// A USB webcam's capture node (uvcvideo).
    Uvc,
    /// The metadata node uvcvideo registers beside the capture node.
    UvcMeta,
    /// The Raspberry Pi camera through the legacy bcm2835-v4l2 driver.
    Bcm2835,
}

/// Where an ioctl answers EBUSY (`busy=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusyAt {
    SFmt,
    ReqBufs,
    StreamOn,
}

/// The settings of one node file.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub profile: ProfileKind,
    pub card: Option<String>,
    pub bus: Option<String>,
    /// JPEG files the MJPG stream cycles through, sorted by name.
    pub frames: Option<PathBuf>,
    /// Offer only these formats (fourcc codes), in the profile's order: a
    /// test knob, no driver does this.
    pub formats: Option<Vec<u32>>,
    pub stall_after: Option<u64>,
    pub stall: bool,
    pub busy: Vec<BusyAt>,
    pub eacces: bool,
    pub error_every: u64,
    pub truncate_every: u64,
    pub pad: bool,
    pub damage_every: u64,
    pub stale_tail: bool,
    /// Writing this control (v4l2-ctl name) fails with this errno, as a
    /// device or firmware refusing it (`control_fail=NAME:ERRNO,…`).
    pub control_fail: Vec<(String, i32)>,
    /// Controls grabbed, as a driver grabs some while streaming
    /// (`controls_grabbed=NAME,…`).
    pub controls_grabbed: Vec<String>,
    /// Bytes per second the bus can carry for this camera: STREAMON of a
    /// mode that needs more (`sizeimage` × frame rate) fails with ENOSPC,
    /// as an xHCI host refuses the bandwidth uvcvideo asks when it selects
    /// the streaming interface's alternate setting (`bandwidth=BYTES`).
    pub bandwidth: Option<u64>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            profile: ProfileKind::Uvc,
            card: None,
            bus: None,
            frames: None,
            formats: None,
            stall_after: None,
            stall: false,
            busy: Vec::new(),
            eacces: false,
            error_every: 0,
            truncate_every: 0,
            pad: false,
            damage_every: 0,
            stale_tail: false,
            control_fail: Vec::new(),
            controls_grabbed: Vec::new(),
            bandwidth: None,
        }
    }
}

impl NodeConfig {
    /// Parses `key=value` lines; unknown keys and bad values are reported on
    /// stderr and ignored.
    pub fn parse(text: &str) -> Self {
        let mut c = Self::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                eprintln!("fake-v4l2: ignoring line {line:?}");
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let number = || value.parse::<u64>().unwrap_or(0);
            let flag = value == "1" || value == "true" || value == "yes";
            match key {
                "profile" => {
                    c.profile = match value {
                        "uvc" => ProfileKind::Uvc,
                        "uvc-meta" => ProfileKind::UvcMeta,
                        "bcm2835" => ProfileKind::Bcm2835,
                        other => {
                            eprintln!("fake-v4l2: unknown profile {other:?}, using uvc");
                            ProfileKind::Uvc
                        }
                    }
                }
                "card" => c.card = Some(value.to_owned()),
                "bus" => c.bus = Some(value.to_owned()),
                "frames" => c.frames = Some(PathBuf::from(value)),
                "formats" => {
                    c.formats = Some(
                        value
                            .split(',')
                            .filter_map(|f| {
                                let b = f.trim().as_bytes();
                                (b.len() == 4)
                                    .then(|| crate::uapi::fourcc(&[b[0], b[1], b[2], b[3]]))
                            })
                            .collect(),
                    )
                }
                "stall_after" => c.stall_after = value.parse().ok(),
                "stall" => c.stall = flag,
                "busy" => {
                    for at in value.split(',') {
                        match at.trim() {
                            "s_fmt" => c.busy.push(BusyAt::SFmt),
                            "reqbufs" => c.busy.push(BusyAt::ReqBufs),
                            "streamon" => c.busy.push(BusyAt::StreamOn),
                            "" => {}
                            other => eprintln!("fake-v4l2: unknown busy point {other:?}"),
                        }
                    }
                }
                "eacces" => c.eacces = flag,
                "error_every" => c.error_every = number(),
                "truncate_every" => c.truncate_every = number(),
                "pad" => c.pad = flag,
                "damage_every" => c.damage_every = number(),
                "stale_tail" => c.stale_tail = flag,
                "control_fail" => {
                    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let parsed = item.split_once(':').and_then(|(name, errno)| {
                            Some((
                                name.trim().to_owned(),
                                crate::controls::errno_by_name(errno.trim())?,
                            ))
                        });
                        match parsed {
                            Some(fail) => c.control_fail.push(fail),
                            None => eprintln!("fake-v4l2: bad control_fail {item:?} (NAME:ERRNO)"),
                        }
                    }
                }
                "controls_grabbed" => c.controls_grabbed.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                ),
                "bandwidth" => c.bandwidth = value.parse().ok(),
                other => eprintln!("fake-v4l2: unknown key {other:?}"),
            }
        }
        c
    }

    pub fn busy_at(&self, at: BusyAt) -> bool {
        self.busy.contains(&at)
    }
}

/// One plug-in of a node: the kernel's `video_device` registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance {
    ino: u64,
    birth_ns: u128,
    /// How often the file had been seen missing when this was read.
    unplugs_seen: u64,
}

/// A plugged node: which instance, and its settings now.
#[derive(Clone, Debug)]
pub struct Node {
    pub index: u32,
    pub instance: Instance,
    pub config: NodeConfig,
}

/// The folder of node files, or `None` (the library passes everything through).
pub fn dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::var_os("FAKE_V4L2_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    })
    .as_deref()
}

/// N of a `/dev/videoN` path.
pub fn video_index(path: &[u8]) -> Option<u32> {
    let digits = path.strip_prefix(b"/dev/video")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 6 {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Whether `path` names the `/dev` folder itself.
pub fn is_dev_dir(path: &[u8]) -> bool {
    path == b"/dev" || path == b"/dev/"
}

struct Seen {
    unplugs: u64,
    /// The last non-empty settings of the instance (a file being rewritten
    /// can be read empty for a moment).
    last: Option<(Instance, NodeConfig)>,
}

fn seen() -> &'static Mutex<HashMap<u32, Seen>> {
    static SEEN: OnceLock<Mutex<HashMap<u32, Seen>>> = OnceLock::new();
    SEEN.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The node `/dev/video{index}` as it is now, or `None` when unplugged.
pub fn read_node(index: u32) -> Option<Node> {
    let path = dir()?.join(format!("video{index}"));
    let read = std::fs::File::open(&path).and_then(|mut f| {
        let meta = f.metadata()?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        Ok((meta, text))
    });
    let mut seen = seen().lock().unwrap_or_else(|e| e.into_inner());
    let entry = seen.entry(index).or_insert(Seen {
        unplugs: 0,
        last: None,
    });
    let Ok((meta, text)) = read else {
        if entry.last.take().is_some() {
            entry.unplugs += 1;
        }
        return None;
    };
    let birth_ns = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let instance = Instance {
        ino: meta.ino(),
        birth_ns,
        unplugs_seen: entry.unplugs,
    };
    let same_file =
        |last: &Instance| last.ino == instance.ino && last.birth_ns == instance.birth_ns;
    if text.trim().is_empty() {
        // Being written: the settings before the rewrite, or, for a file
        // just created, not plugged yet.
        return entry
            .last
            .as_ref()
            .filter(|(last, _)| same_file(last))
            .map(|(last, config)| Node {
                index,
                instance: *last,
                config: config.clone(),
            });
    }
    let config = NodeConfig::parse(&text);
    if entry
        .last
        .as_ref()
        .is_some_and(|(last, _)| *last != instance)
    {
        // Replaced while this library was not looking: a new instance.
        entry.unplugs += 1;
    }
    let instance = Instance {
        unplugs_seen: entry.unplugs,
        ..instance
    };
    entry.last = Some((instance, config.clone()));
    Some(Node {
        index,
        instance,
        config,
    })
}

/// The settings of `instance` now, or `None` once it is unplugged.
pub fn current(index: u32, instance: Instance) -> Option<NodeConfig> {
    read_node(index)
        .filter(|n| n.instance == instance)
        .map(|n| n.config)
}
