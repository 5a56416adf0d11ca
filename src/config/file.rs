//! The optional TOML file (`--config`).

use std::path::{Path, PathBuf};

use super::options::Options;
use super::values::ConfigError;

/// A file that does not parse: where (line, column) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}{message}")]
pub struct FileError {
    place: String,
    message: String,
}

/// The options a file sets, and which keys it set (to name them in errors).
#[derive(Debug, Clone, Default)]
pub struct FileLayer {
    pub path: PathBuf,
    pub options: Options,
    pub keys: Vec<String>,
}

/// Read a TOML config file; errors carry line and column.
///
/// # Errors
/// Unreadable file, TOML syntax error, unknown key or wrong type.
pub fn read_file(path: &Path) -> Result<FileLayer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
    })?;
    let options = parse_file(&text)
        .map_err(|m| ConfigError::new("--config", format!("{}: {m}", path.display())))?;
    let keys = toml::from_str::<toml::Table>(&text)
        .map(|table| table.keys().cloned().collect())
        .unwrap_or_default();
    Ok(FileLayer {
        path: path.to_owned(),
        options,
        keys,
    })
}

/// Parse config file text.
///
/// # Errors
/// TOML syntax error, unknown key or wrong type, with its position.
pub fn parse_file(text: &str) -> Result<Options, FileError> {
    toml::from_str::<Options>(text).map_err(|e| {
        let place = e.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before
                .rfind('\n')
                .map_or(before.len(), |i| before.len() - i - 1)
                + 1;
            format!("line {line}, column {col}: ")
        });
        FileError {
            place: place.unwrap_or_default(),
            message: e.message().to_owned(),
        }
    })
}
