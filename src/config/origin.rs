//! Where each option's value came from, so that an error names the place the
//! user must fix: the flag, the environment variable with its value, or the
//! key of the config file.

use std::path::PathBuf;

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::file::FileKey;
use super::values::ConfigError;

/// Options whose values are or may hold secrets (a broker URL carries its
/// password): an error names their variable only.
const SECRETS: [&str; 3] = ["http-auth", "http-token", "mqtt-url"];

/// How one option was set (an option not listed came from its default).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// The command line: errors name the flag, as validation does.
    Flag,
    /// The environment variable `var`, holding `value`.
    Env { var: String, value: String },
    /// The key `key` of the config file, at `place` (`line 1, column 1`).
    File { key: String, place: String },
}

/// The origin of every option set outside the command line.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// `(long flag without dashes, origin)`.
    set: Vec<(String, Origin)>,
    file: Option<PathBuf>,
}

impl Origins {
    /// The options that clap read from the command line or the environment.
    #[must_use]
    pub fn from_matches(command: &clap::Command, matches: &ArgMatches) -> Self {
        let mut set = Vec::new();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            match matches.value_source(arg.get_id().as_str()) {
                Some(ValueSource::CommandLine) => {
                    set.push((long.to_owned(), Origin::Flag));
                    continue;
                }
                Some(ValueSource::EnvVariable) => {}
                _ => continue,
            }
            let Some(var) = arg.get_env() else { continue };
            let var = var.to_string_lossy().into_owned();
            let value = std::env::var_os(&var)
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_default();
            set.push((long.to_owned(), Origin::Env { var, value }));
        }
        Self { set, file: None }
    }

    /// Record the keys a config file set, for options not set above it.
    pub fn add_file(&mut self, path: PathBuf, keys: &[FileKey]) {
        for key in keys {
            let long = key.name.replace('_', "-");
            if !self.set.iter().any(|(l, _)| *l == long) {
                let origin = Origin::File {
                    key: key.name.clone(),
                    place: key.place.clone(),
                };
                self.set.push((long, origin));
            }
        }
        self.file = Some(path);
    }

    /// Rename the error's place from the flag to where the value came from:
    /// `CAMERA_QUALITY=0: must be 1 to 100 (got 0)`,
    /// `camera.toml: line 3, column 1: quality: must be 1 to 100 (got 0)`
    /// (the file's errors all read `FILE: PLACE: KEY: what`).
    #[must_use]
    pub fn relabel(&self, mut error: ConfigError) -> ConfigError {
        let Some(long) = error.option.strip_prefix("--") else {
            return error;
        };
        match self.set.iter().find(|(l, _)| l == long).map(|(_, o)| o) {
            // A secret is named, never shown.
            Some(Origin::Env { var, .. }) if SECRETS.contains(&long) => {
                error.option.clone_from(var)
            }
            Some(Origin::Env { var, value }) => error.option = format!("{var}={value}"),
            Some(Origin::File { key, place }) => {
                let file = self
                    .file
                    .as_ref()
                    .map_or_else(String::new, |p| format!("{}: ", p.display()));
                error.option = format!("{file}{place}: {key}");
            }
            Some(Origin::Flag) | None => {}
        }
        error
    }
}
