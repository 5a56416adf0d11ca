//! Where snapshots go and how much of the disk they may take: the newest
//! `keep` files `snapshot-*.jpg` in the directory are kept (older ones are
//! removed after each save), and a snapshot is refused with a clear error
//! when less than `min_free_bytes` would stay free.

use std::path::{Path, PathBuf};

/// Snapshots kept in the directory.
pub const DEFAULT_KEEP: usize = 100;
/// Free space a snapshot must leave on its file system.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

/// Where snapshots go and their bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// `.` (the working directory) unless `--snapshot-dir` says otherwise.
    pub dir: PathBuf,
    pub keep: usize,
    pub min_free_bytes: u64,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("."),
            keep: DEFAULT_KEEP,
            min_free_bytes: DEFAULT_MIN_FREE_BYTES,
        }
    }
}

/// Bytes free for an unprivileged writer on the file system of `dir`.
///
/// # Errors
/// The file system cannot be asked.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let s = rustix::fs::statvfs(dir).map_err(std::io::Error::from)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

/// Whether `name` is a file this service saved (`snapshot-<ms>-<seq>.jpg`).
fn is_snapshot(name: &str) -> bool {
    name.starts_with("snapshot-") && name.ends_with(".jpg")
}

/// Remove the oldest snapshots of `dir` beyond the newest `keep`; returns
/// how many were removed. Oldest by name: the name starts with the capture
/// time in milliseconds (13 digits until the year 2286), then the frame
/// number.
///
/// # Errors
/// The directory cannot be listed.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_snapshot(n))
        .collect();
    if names.len() <= keep {
        return Ok(0);
    }
    names.sort_by_key(|n| snapshot_key(n));
    let excess = names.len() - keep;
    let mut removed = 0;
    for name in names.iter().take(excess) {
        if std::fs::remove_file(dir.join(name)).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// (capture ms, frame number) of a snapshot name, for ordering.
fn snapshot_key(name: &str) -> (u128, u64) {
    let middle = name
        .strip_prefix("snapshot-")
        .and_then(|n| n.strip_suffix(".jpg"))
        .unwrap_or("");
    let (ms, seq) = middle.split_once('-').unwrap_or((middle, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_nothing_else_is_touched() {
        let dir = std::env::temp_dir().join(format!("tars-snapshots-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        for i in 0..12u64 {
            let name = format!("snapshot-{}-{i}.jpg", 1_700_000_000_000u64 + i * 7);
            std::fs::write(dir.join(name), b"x").expect("write");
        }
        std::fs::write(dir.join("notes.txt"), b"mine").expect("write");
        assert_eq!(prune(&dir, 5).expect("pruned"), 7);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        left.sort();
        assert_eq!(left.len(), 6, "{left:?}");
        assert!(left.contains(&"notes.txt".to_owned()));
        assert!(left.contains(&format!("snapshot-{}-11.jpg", 1_700_000_000_077u64)));
        assert!(!left.contains(&format!("snapshot-{}-6.jpg", 1_700_000_000_042u64)));
        assert!(free_bytes(&dir).expect("statvfs") > 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
