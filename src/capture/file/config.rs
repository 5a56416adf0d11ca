//! The `--file` check made once the configuration is validated, before
//! anything starts: the recording is probed here, on the capture side, so
//! the configuration never calls capture.

use super::probe::probe;
use crate::config::{Config, ConfigError, SourceKind};

/// With the file source: the recording must be playable, and its first
/// picture's size becomes the configured size (a `--width` / `--height`
/// that disagrees gets one warning). Other sources pass unchanged. Pass it
/// to [`crate::config::resolve`].
///
/// # Errors
/// A recording that cannot be played, as a `--file` error.
pub fn settle(mut config: Config) -> Result<Config, ConfigError> {
    let Some(path) = config
        .file
        .as_ref()
        .filter(|_| config.source == SourceKind::File)
    else {
        return Ok(config);
    };
    let recording = probe(path).map_err(|e| ConfigError::new("--file", e.to_string()))?;
    let (w, h) = (recording.width, recording.height);
    if config.size_given && (w, h) != (config.width, config.height) {
        config.warnings.push(format!(
            "--width/--height {}x{} ignored: the recording's pictures are {w}x{h}",
            config.width, config.height
        ));
    }
    (config.width, config.height) = (w, h);
    Ok(config)
}
