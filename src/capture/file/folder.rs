//! A folder of `*.jpg` / `*.jpeg` files played in name order, one image a file.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::FrameFault;

/// The pictures of `dir`, sorted by file name.
///
/// # Errors
/// The folder cannot be listed.
pub fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if is_picture(&path) && entry.file_type().is_ok_and(|t| !t.is_dir()) {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// `.jpg` or `.jpeg`, in any case.
fn is_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
}

/// Frames from a folder, from file `next` on.
#[derive(Debug)]
pub struct FolderFrames {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    max_frame: usize,
}

impl FolderFrames {
    /// The folder's pictures from the `next`-th on (listed now).
    ///
    /// # Errors
    /// The folder cannot be listed.
    pub fn open(dir: &Path, next: usize, max_frame: usize) -> io::Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            files: list(dir)?,
            next,
            max_frame,
        })
    }

    /// Index of the next file: where to resume.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.next as u64
    }

    /// Back to the first file, listing the folder again (it may have changed).
    ///
    /// # Errors
    /// The folder cannot be listed any more.
    pub fn rewind(&mut self) -> io::Result<()> {
        self.files = list(&self.dir)?;
        self.next = 0;
        Ok(())
    }

    /// The next file's bytes; `Ok(None)` after the last file.
    ///
    /// # Errors
    /// This file cannot be read or is too large (it is skipped).
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameFault> {
        let Some(path) = self.files.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = fs::File::open(path).map_err(|e| FrameFault::Read(format!("{name}: {e}")))?;
        // One byte over the limit tells a too-large file from one just at it.
        let limit = self.max_frame as u64 + 1;
        let mut data = Vec::new();
        file.take(limit)
            .read_to_end(&mut data)
            .map_err(|e| FrameFault::Read(format!("{name}: {e}")))?;
        if data.len() > self.max_frame {
            return Err(FrameFault::TooLarge {
                max: self.max_frame,
            });
        }
        Ok(Some(Bytes::from(data)))
    }
}
