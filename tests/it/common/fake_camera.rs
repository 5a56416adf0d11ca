//! Emulated V4L2 cameras for end-to-end tests: the `fake-v4l2` library
//! (`crates/fake-v4l2`), built once per test process with `rustc`, loaded
//! into the real binary with `LD_PRELOAD`, and a folder of node files that
//! plugs, configures and unplugs `/dev/videoN` (see the crate's `config`
//! module for the keys).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// The library's source, built as one crate root (no Cargo: a nested
/// `cargo` would wait for the build lock the test run holds).
const CRATE_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/fake-v4l2/src");

/// Extra `rustc` arguments for the library, split at spaces: for a binary
/// built for another processor, its target and linker
/// (`--target aarch64-unknown-linux-gnu -C linker=aarch64-linux-gnu-gcc`).
pub const RUSTC_ARGS_VAR: &str = "FAKE_V4L2_RUSTC_ARGS";

/// The newest modification time of the library's source files.
fn newest_source(dir: &Path) -> SystemTime {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            if meta.is_dir() {
                Some(newest_source(&e.path()))
            } else {
                meta.modified().ok()
            }
        })
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The path of `libfake_v4l2.so`, built if missing or older than its
/// sources. Built under a temporary name and renamed, so test processes
/// running at once never load a half-written file.
pub fn library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let lib = dir.join("libfake_v4l2.so");
        let fresh = std::fs::metadata(&lib)
            .and_then(|m| m.modified())
            .is_ok_and(|built| built >= newest_source(Path::new(CRATE_SRC)));
        if fresh {
            return lib;
        }
        let tmp = dir.join(format!("libfake_v4l2.so.{}.tmp", std::process::id()));
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
        let cross = std::env::var(RUSTC_ARGS_VAR).unwrap_or_default();
        let out = Command::new(&rustc)
            .args(cross.split_whitespace())
            .args([
                "--edition",
                "2024",
                "--crate-type",
                "cdylib",
                "--crate-name",
                "fake_v4l2",
                "-C",
                "opt-level=2",
            ])
            .arg(Path::new(CRATE_SRC).join("lib.rs"))
            .arg("-o")
            .arg(&tmp)
            .output()
            .unwrap_or_else(|e| panic!("running {rustc}: {e}"));
        assert!(
            out.status.success(),
            "building fake-v4l2 failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&tmp, &lib).expect("renaming the built library");
        lib
    })
}

/// A set of emulated camera nodes: `plug`, `set`, `unplug` edit the node
/// files the library reads; `env` is what the binary needs to see them.
#[derive(Debug)]
pub struct FakeCameras {
    dir: PathBuf,
    nodes: PathBuf,
    state: PathBuf,
    library: String,
    nodes_env: String,
    state_env: String,
}

impl FakeCameras {
    /// An empty set (no camera plugged) in a fresh folder for test `name`.
    pub fn new(name: &str) -> Self {
        let dir = super::temp_dir(&format!("fake-v4l2-{name}"));
        let nodes = dir.join("dev");
        std::fs::create_dir_all(&nodes).expect("nodes folder");
        let state = dir.join("state");
        std::fs::create_dir_all(&state).expect("state folder");
        Self {
            library: library().to_str().expect("UTF-8 path").to_owned(),
            nodes_env: nodes.to_str().expect("UTF-8 path").to_owned(),
            state_env: state.to_str().expect("UTF-8 path").to_owned(),
            dir,
            nodes,
            state,
        }
    }

    fn node(&self, n: u32) -> PathBuf {
        self.nodes.join(format!("video{n}"))
    }

    /// Plugs `/dev/video{n}` with these settings (a new device instance).
    pub fn plug(&self, n: u32, config: &str) {
        use std::io::Write as _;
        assert!(!config.trim().is_empty(), "a node file is never empty");
        // Created in place, as udev creates a node (IN_CREATE); the library
        // takes an empty file for one still being written.
        let mut file = std::fs::File::create_new(self.node(n))
            .unwrap_or_else(|e| panic!("plugging video{n}: {e}"));
        file.write_all(config.as_bytes()).expect("node file");
    }

    /// Changes the settings of a plugged node in place (same instance: an
    /// open stream sees the change within a frame).
    pub fn set(&self, n: u32, config: &str) {
        let path = self.node(n);
        assert!(path.exists(), "video{n} is not plugged");
        assert!(!config.trim().is_empty(), "a node file is never empty");
        std::fs::write(&path, config).expect("node file");
    }

    /// Unplugs `/dev/video{n}`: open descriptors on it answer ENODEV for good.
    pub fn unplug(&self, n: u32) {
        std::fs::remove_file(self.node(n)).expect("unplugging");
    }

    /// `LD_PRELOAD`, `FAKE_V4L2_DIR` and `FAKE_V4L2_STATE_DIR` for the
    /// binary under test.
    pub fn env(&self) -> [(&str, &str); 3] {
        [
            ("LD_PRELOAD", self.library.as_str()),
            ("FAKE_V4L2_DIR", self.nodes_env.as_str()),
            ("FAKE_V4L2_STATE_DIR", self.state_env.as_str()),
        ]
    }

    /// What `/dev/video{n}` was last set to (`fourcc`, `width`, `height`,
    /// `bytesperline`, `interval` as `num/den` seconds, `streaming`), as
    /// `v4l2-ctl --get-fmt-video --get-parm` would show it, and each control
    /// by its `v4l2-ctl` name (`brightness`, `exposure_time_absolute`);
    /// `None` before any S_FMT, S_PARM, STREAMON or control write.
    pub fn device_state(&self, n: u32, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.state.join(format!("video{n}"))).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    }

    /// Writes `frames` as `000.jpg`, `001.jpg`, … into a fresh folder
    /// `name`; returns it, for `frames=`.
    pub fn frames(&self, name: &str, frames: &[Vec<u8>]) -> PathBuf {
        let dir = self.dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("frames folder");
        for (i, jpeg) in frames.iter().enumerate() {
            std::fs::write(dir.join(format!("{i:03}.jpg")), jpeg).expect("frame");
        }
        dir
    }
}

/// `count` JPEGs of `width`x`height` as a UVC webcam sends them: baseline
/// 4:2:2, an `AVI1` APP0 instead of JFIF, no Huffman tables (MJPEG implies
/// the standard ones of ITU T.81 Annex K.3, which the encoder uses), one
/// scan, ending at EOI; each a different picture, and of different lengths
/// (the first the busiest, so a smaller one written over it would leave a
/// tail).
pub fn webcam_jpegs(count: usize, width: usize, height: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let noise_bits = (count - i) as u32 * 2;
            let rgb = super::rgb_picture(width, height, 7 + i as u32, |x, y, noise| {
                let n = (noise & ((1 << noise_bits) - 1)) as u8;
                [
                    ((x * 255 / width) as u8).wrapping_add(n),
                    ((y * 255 / height) as u8).wrapping_add(n),
                    (i as u8).wrapping_mul(40).wrapping_add(n),
                ]
            });
            let mut jpeg = Vec::new();
            let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 80);
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_1);
            encoder
                .encode(
                    &rgb,
                    width as u16,
                    height as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .expect("encoding a test frame");
            as_uvc_sends_it(&jpeg)
        })
        .collect()
}

/// The APP0 segment UVC cameras put first (AVI1, from the AVI MJPEG format).
const AVI1_APP0: [u8; 16] = [
    0xFF, 0xE0, 0x00, 0x0E, b'A', b'V', b'I', b'1', 0, 0, 0, 0, 0, 0, 0, 0,
];

/// `jpeg` with its APP0 replaced by AVI1 and its DHT segments left out.
fn as_uvc_sends_it(jpeg: &[u8]) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let mut out = vec![0xFF, 0xD8];
    let mut at = 2;
    loop {
        let marker = jpeg[at + 1];
        if marker == 0xDA {
            // SOS: the scan and EOI follow as they are.
            out.extend_from_slice(&jpeg[at..]);
            return out;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        let segment = &jpeg[at..at + 2 + len];
        match marker {
            0xE0 => out.extend_from_slice(&AVI1_APP0),
            0xC4 => {}
            _ => out.extend_from_slice(segment),
        }
        at += 2 + len;
    }
}
