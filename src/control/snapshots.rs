//! Where snapshots go: `--snapshot-dir`, at most [`KEEP`] of them (the
//! oldest are removed), never written when the disk is nearly full.

use std::path::{Path, PathBuf};

use super::request::SnapshotError;
use crate::frame::Frame;

/// Snapshots kept in the folder; older ones are removed after each save.
pub const KEEP: usize = 100;
/// Free space a snapshot must leave on its disk.
pub const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

/// The snapshot folder and its bounds.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    keep: usize,
    min_free: u64,
}

impl Default for SnapshotStore {
    /// The working directory.
    fn default() -> Self {
        Self::new(PathBuf::from("."))
    }
}

impl SnapshotStore {
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            keep: KEEP,
            min_free: MIN_FREE_BYTES,
        }
    }

    /// The same folder with other bounds (tests).
    #[must_use]
    pub fn with_bounds(mut self, keep: usize, min_free: u64) -> Self {
        self.keep = keep.max(1);
        self.min_free = min_free;
        self
    }

    /// Write `frame` as `snapshot-<unix ms>-<seq>.jpg`, then remove the
    /// oldest snapshots beyond the bound; returns the path written.
    ///
    /// # Errors
    /// The disk is nearly full, or the file cannot be written.
    pub async fn save(&self, frame: &Frame) -> Result<String, SnapshotError> {
        let ms = frame
            .captured_wall
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let dir = std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone());
        let path = dir.join(format!("snapshot-{ms:013}-{}.jpg", frame.seq));
        let shown = path.display().to_string();
        let needed = self.min_free.saturating_add(frame.jpeg.len() as u64);
        match free_bytes(&dir) {
            Ok(free) if free < needed => {
                return Err(SnapshotError::DiskFull {
                    dir: dir.display().to_string(),
                    free_mb: free / (1024 * 1024),
                });
            }
            Ok(_) => {}
            Err(e) => {
                return Err(SnapshotError::Write {
                    path: shown,
                    reason: e.to_string(),
                });
            }
        }
        if let Err(e) = tokio::fs::write(&path, &frame.jpeg).await {
            // A partial file (disk filled meanwhile) is not left behind.
            let _ = tokio::fs::remove_file(&path).await;
            return Err(SnapshotError::Write {
                path: shown,
                reason: e.to_string(),
            });
        }
        let keep = self.keep;
        let pruned = tokio::task::spawn_blocking(move || prune(&dir, keep)).await;
        if let Ok(Err(e)) = pruned {
            tracing::warn!("removing old snapshots: {e}");
        }
        Ok(shown)
    }
}

/// Bytes an unprivileged user may still write on the disk holding `dir`.
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let st = rustix::fs::statvfs(dir)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Remove the oldest `snapshot-*.jpg` in `dir` beyond the newest `keep`
/// (names sort by time: the milliseconds are zero-padded).
fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snapshot-") && n.ends_with(".jpg"))
        })
        .collect();
    if names.len() <= keep {
        return Ok(());
    }
    names.sort();
    for old in &names[..names.len() - keep] {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> Frame {
        let mut f = Frame::captured_now(seq, vec![0xFF, 0xD8, 0xFF, 0xD9].into(), (1, 1), 80);
        f.captured_wall = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_000 + seq);
        f
    }

    fn dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tars-snapshots-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[tokio::test]
    async fn only_the_newest_are_kept() {
        let dir = dir("keep");
        std::fs::write(dir.join("other.jpg"), b"not ours").expect("write");
        let store = SnapshotStore::new(dir.clone()).with_bounds(3, 0);
        for seq in 1..=5 {
            let path = store.save(&frame(seq)).await.expect("saved");
            assert!(path.ends_with(&format!("-{seq}.jpg")), "{path}");
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "other.jpg",
                "snapshot-0000000001003-3.jpg",
                "snapshot-0000000001004-4.jpg",
                "snapshot-0000000001005-5.jpg"
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_nearly_full_disk_is_refused_with_a_clear_error() {
        let dir = dir("full");
        let store = SnapshotStore::new(dir.clone()).with_bounds(3, u64::MAX / 2);
        let err = store.save(&frame(1)).await.expect_err("refused");
        assert!(matches!(err, SnapshotError::DiskFull { .. }), "{err}");
        assert!(err.to_string().contains("disk nearly full"), "{err}");
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_missing_folder_is_an_error_naming_the_path() {
        let store = SnapshotStore::new(PathBuf::from("/nonexistent/tars-snapshots"));
        let err = store.save(&frame(1)).await.expect_err("refused");
        assert!(
            err.to_string().contains("/nonexistent/tars-snapshots"),
            "{err}"
        );
    }
}
