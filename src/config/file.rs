//! The optional TOML file (`--config`).

use std::path::{Path, PathBuf};

use super::options::{HttpCredentials, Options};
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
    use serde::Deserialize as _;
    use toml::de::{DeTable, Deserializer};

    let located = |e: toml::de::Error| FileError::new(text, e.span(), e.message());
    let table = DeTable::parse(text).map_err(located)?;
    let known = known_keys();
    let is_known = |key: &str| known.iter().any(|k| k == key);
    if let Some(key) = table.get_ref().keys().find(|k| !is_known(k.get_ref())) {
        let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        let message = format!(
            "unknown field `{}`, expected one of {}",
            key.get_ref(),
            expected.join(", ")
        );
        return Err(FileError::new(text, Some(key.span()), &message));
    }
    // Each struct takes its own keys from the same table; every value keeps
    // its place in `text` for the errors.
    let mut options = Options::deserialize(Deserializer::from(table.clone())).map_err(located)?;
    options.credentials =
        HttpCredentials::deserialize(Deserializer::from(table)).map_err(located)?;
    Ok(options)
}

/// The keys a file may set, in the options' order: each option's long name
/// with `_` for `-`, but `config` (a file names no other file).
fn known_keys() -> Vec<String> {
    use clap::Args as _;

    let options = Options::augment_args(clap::Command::new("tars-camera"));
    options
        .get_arguments()
        .filter_map(clap::Arg::get_long)
        .filter(|long| *long != "config")
        .map(|long| long.replace('-', "_"))
        .chain(["controls".to_owned()])
        .collect()
}

impl FileError {
    /// `message` about `text`, placed by the line and column where `span`
    /// starts.
    fn new(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> Self {
        let place = span.map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before
                .rfind('\n')
                .map_or(before.len(), |i| before.len() - i - 1)
                + 1;
            format!("line {line}, column {col}: ")
        });
        Self {
            place: place.unwrap_or_default(),
            message: message.to_owned(),
        }
    }
}
