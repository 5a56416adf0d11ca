//! The optional TOML file (`--config`).

use std::path::{Path, PathBuf};

use super::options::{HttpCredentials, Options};
use super::values::ConfigError;

/// A file that does not parse: where (line, column), the key when one is
/// at fault, and what: `line 1, column 11: quality: invalid type: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}{key}{message}")]
pub struct FileError {
    place: String,
    /// `quality: `, or empty.
    key: String,
    message: String,
}

/// A key a file set, and where (`line 1, column 1`), to name it in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey {
    pub name: String,
    pub place: String,
}

/// The options a file sets, and which keys it set (to name them in errors).
#[derive(Debug, Clone, Default)]
pub struct FileLayer {
    pub path: PathBuf,
    pub options: Options,
    pub keys: Vec<FileKey>,
}

/// Read a TOML config file; errors carry line and column.
///
/// # Errors
/// Unreadable file, TOML syntax error, unknown key or wrong type.
pub fn read_file(path: &Path) -> Result<FileLayer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
    })?;
    let options = parse_file(&text).map_err(|e| {
        let (place, message) = e.split();
        let at = if place.is_empty() {
            path.display().to_string()
        } else {
            format!("{}: {place}", path.display())
        };
        ConfigError::new(&at, message)
    })?;
    let keys = toml::de::DeTable::parse(&text)
        .map(|table| {
            let keys = table.get_ref().keys();
            keys.map(|k| FileKey {
                name: k.get_ref().to_string(),
                place: place(&text, k.span().start),
            })
            .collect()
        })
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

    let syntax = |e: toml::de::Error| FileError::new(text, e.span(), None, e.message());
    let table = DeTable::parse(text).map_err(syntax)?;
    let known = known_keys();
    let is_known = |key: &str| known.iter().any(|k| k == key);
    if let Some(key) = table.get_ref().keys().find(|k| !is_known(k.get_ref())) {
        let message = unknown_key(key.get_ref(), &known);
        return Err(FileError::new(text, Some(key.span()), None, &message));
    }
    // A bad value is named by its key: the top-level key whose value holds
    // the place serde reports.
    let keys: Vec<(String, std::ops::Range<usize>)> = table
        .get_ref()
        .iter()
        .map(|(k, v)| (k.get_ref().to_string(), v.span()))
        .collect();
    let bad_value = |e: toml::de::Error| {
        let key = e.span().and_then(|at| {
            keys.iter()
                .find(|(_, value)| value.contains(&at.start))
                .map(|(k, _)| k.as_str())
        });
        FileError::new(text, e.span(), key, e.message())
    };
    // Each struct takes its own keys from the same table; every value keeps
    // its place in `text` for the errors.
    let mut options = Options::deserialize(Deserializer::from(table.clone())).map_err(bad_value)?;
    options.credentials =
        HttpCredentials::deserialize(Deserializer::from(table)).map_err(bad_value)?;
    Ok(options)
}

/// How strings must resemble to be suggested (Jaro similarity, as clap
/// suggests flags).
const SIMILAR: f64 = 0.7;

/// An unknown key, with the most similar known one when there is one.
fn unknown_key(key: &str, known: &[String]) -> String {
    let nearest = known
        .iter()
        .map(|k| (strsim::jaro(key, k), k))
        .filter(|(similarity, _)| *similarity > SIMILAR)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, k)) => format!("unknown key `{key}`; did you mean `{k}`?"),
        None => {
            format!("unknown key `{key}` (a key is an option's long name with _ for -: see --help)")
        }
    }
}

/// `line L, column C` of the byte offset `at` in `text`.
fn place(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    format!("line {line}, column {col}")
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
    /// `message` about `text` (and `key`, when one is at fault), placed by
    /// the line and column where `span` starts.
    fn new(
        text: &str,
        span: Option<std::ops::Range<usize>>,
        key: Option<&str>,
        message: &str,
    ) -> Self {
        Self {
            place: span.map_or_else(String::new, |s| format!("{}: ", place(text, s.start))),
            key: key.map_or_else(String::new, |k| format!("{k}: ")),
            message: message.to_owned(),
        }
    }

    /// The place and key (`line 1, column 11: quality`), and the message.
    fn split(self) -> (String, String) {
        let head = format!("{}{}", self.place, self.key);
        (head.trim_end_matches(": ").to_owned(), self.message)
    }
}
