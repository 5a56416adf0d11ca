//! Configuration: command line, environment and an optional TOML file.
//!
//! Precedence is flag > environment > file > default. Everything is parsed
//! and checked here, once, before anything starts: the [`Config`] holds
//! parsed values (the device, the broker URL, the fail schedule,
//! durations), and a bad value ends the program with status 2 and one line
//! that names where it came from and what is allowed.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

pub mod control_value;
mod file;
mod options;
mod origin;
pub mod schedule;
mod validate;
mod values;

pub use control_value::ControlValue;
pub use file::{FileError, FileKey, FileLayer, parse_file, read_file};
pub use options::{HttpCredentials, Options};
pub use origin::Origins;
pub use schedule::{Fault, Schedule, ScheduleError, Step};
pub use validate::validate;
pub use values::{ConfigError, Device, DurationValue, ValueError};

use tars_mqtt::BrokerUrl;

/// Exit status for bad input (options, environment, config file).
pub const EXIT_USAGE: u8 = 2;

/// Frame source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Camera,
    TestPattern,
    /// A recording (`--file`).
    File,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Camera => "camera",
            Self::TestPattern => "test-pattern",
            Self::File => "file",
        })
    }
}

/// Where the MQTT broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerChoice {
    /// An external broker at this URL.
    External(BrokerUrl),
    /// The broker inside this process (`--demo`): on this port (0: any
    /// free one), or `None` for 1883, a free port when 1883 is taken.
    Embedded(Option<u16>),
}

/// The validated configuration the service runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub source: SourceKind,
    /// The recording for `SourceKind::File` (checked to hold a JPEG by
    /// `capture::file::settle`, which also sets `width` and `height`).
    pub file: Option<std::path::PathBuf>,
    /// Play the recording again at its end.
    pub loop_playback: bool,
    pub device: Device,
    pub width: u32,
    pub height: u32,
    /// `--width` or `--height` was given: a recording's own size that
    /// differs is then used with a warning.
    pub size_given: bool,
    pub fps: f64,
    pub quality: u8,
    pub mqtt_rate_hz: f64,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
    pub broker: BrokerChoice,
    pub client_id: String,
    pub frame_topic: String,
    /// Control requests arrive here; `None` = off.
    pub control_topic: Option<String>,
    /// Home Assistant discovery prefix when discovery is on.
    pub ha_prefix: Option<String>,
    pub service_name: String,
    pub heartbeat_interval: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub http_host: IpAddr,
    pub http_port: u16,
    pub max_clients: u32,
    pub max_connections: u32,
    pub client_timeout: Duration,
    /// Extra host names answered without authentication (lower case).
    pub http_allowed_hosts: Vec<String>,
    /// HTTP authentication (secrets print as `***`).
    pub http_auth: crate::http::AuthConfig,
    pub preview_fps: f64,
    /// Camera controls set at every open, in order (file first, then flags).
    pub controls: Vec<(String, ControlValue)>,
    /// The config file given (`--config`), where `{"save": true}` writes.
    pub config_file: Option<std::path::PathBuf>,
    /// Where snapshots are saved (an existing folder).
    pub snapshot_dir: std::path::PathBuf,
    pub no_tui: bool,
    pub demo: bool,
    pub log_level: String,
    /// Headless status line period; zero: none.
    pub status_interval: Duration,
    /// The JPEG codec (`--encoder`), its library already loaded.
    pub encoder: crate::encode::Codec,
    pub fail_schedule: Option<Schedule>,
    /// Warnings found while validating (e.g. rate capped), logged at start.
    pub warnings: Vec<String>,
}

/// Merge the layers (flags and environment come from clap already merged:
/// clap prefers the flag over the variable) with the file and defaults,
/// validate, then `settle`: the checks that belong to the parts that use a
/// value (the capture side probes the `--file` recording), so this module
/// calls none of them. `origins` says which options came from the
/// environment; the error names the variable or file key the bad value
/// came from.
///
/// # Errors
/// The first bad value, naming where it came from.
pub fn resolve(
    cli_and_env: Options,
    mut origins: Origins,
    settle: impl FnOnce(Config) -> Result<Config, ConfigError>,
) -> Result<Config, ConfigError> {
    let options = match &cli_and_env.config {
        Some(path) => {
            let file = read_file(path)?;
            origins.add_file(file.path, &file.keys);
            cli_and_env.or(file.options)
        }
        None => cli_and_env,
    };
    validate(options)
        .and_then(settle)
        .map_err(|e| origins.relabel(e))
}

#[cfg(test)]
mod docs_tests;
#[cfg(test)]
mod tests;
