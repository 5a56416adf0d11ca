//! Merged options → a [`Config`] of parsed values, or the first bad value.

use std::net::IpAddr;
use std::time::Duration;

use super::control_value::{ControlValue, parse_assignment};
use super::options::{HttpCredentials, Options};
use super::values::{ConfigError, Device};
use super::{Config, SourceKind};

mod mqtt;
use mqtt::{broker, control_topic, ha_prefix, mqtt_rate, reconnect};

/// An integer option within `lo..=hi` (`unit` names what it counts).
fn int_in<T: TryFrom<i64>>(
    option: &str,
    v: Option<i64>,
    default: T,
    (lo, hi): (i64, i64),
    unit: &str,
) -> Result<T, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if (lo..=hi).contains(&n) => {
            T::try_from(n).map_err(|_| ConfigError::new(option, format!("{n} does not fit")))
        }
        Some(n) => Err(ConfigError::new(
            option,
            format!("must be {lo} to {hi}{unit} (got {n})"),
        )),
    }
}

/// A number option above 0 and at most `hi`.
fn positive_at_most(
    option: &str,
    v: Option<f64>,
    default: f64,
    hi: f64,
) -> Result<f64, ConfigError> {
    let x = v.unwrap_or(default);
    if x > 0.0 && x <= hi {
        Ok(x)
    } else {
        Err(ConfigError::new(
            option,
            format!("must be above 0 and at most {hi} (got {x})"),
        ))
    }
}

/// A duration option of at least `min`.
fn duration(
    option: &str,
    v: Option<super::DurationValue>,
    default: Duration,
    min: Duration,
) -> Result<Duration, ConfigError> {
    let d = v.map_or(default, |d| d.0);
    if d < min {
        return Err(ConfigError::new(
            option,
            format!("must be at least {min:?} (got {d:?})"),
        ));
    }
    Ok(d)
}

fn non_empty(option: &str, v: Option<String>, default: &str) -> Result<String, ConfigError> {
    let s = v.unwrap_or_else(|| default.to_owned());
    if s.trim().is_empty() {
        return Err(ConfigError::new(option, "must not be empty"));
    }
    Ok(s)
}

fn source(o: &Options) -> Result<SourceKind, ConfigError> {
    match (o.source.as_deref(), o.demo) {
        (None, true) | (Some("test-pattern"), _) => Ok(SourceKind::TestPattern),
        (None, false) | (Some("camera"), _) => Ok(SourceKind::Camera),
        (Some("file"), _) => Ok(SourceKind::File),
        (Some(other), _) => Err(ConfigError::new(
            "--source",
            format!("must be camera, test-pattern or file (got '{other}')"),
        )),
    }
}

/// `a.example,b.example`: host names (letters, digits, `-`, `.`), no ports.
fn allowed_hosts(v: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    v.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            let ok = n.len() <= 253
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if ok {
                Ok(n.to_ascii_lowercase())
            } else {
                Err(ConfigError::new(
                    "--http-allowed-hosts",
                    format!(
                        "must be host names separated by commas, without ports (got '{}')",
                        crate::text::quote(n)
                    ),
                ))
            }
        })
        .collect()
}

fn rotation(v: Option<i64>) -> Result<u16, ConfigError> {
    match v {
        None => Ok(0),
        Some(0) => Ok(0),
        Some(90) => Ok(90),
        Some(180) => Ok(180),
        Some(270) => Ok(270),
        Some(r) => Err(ConfigError::new(
            "--rotation",
            format!("must be 0, 90, 180 or 270 (got {r})"),
        )),
    }
}

fn http_host(v: Option<&str>) -> Result<IpAddr, ConfigError> {
    let text = v.unwrap_or("0.0.0.0");
    text.parse::<IpAddr>().map_err(|_| {
        ConfigError::new(
            "--http-host",
            format!("must be an IP address like 0.0.0.0 or 127.0.0.1 (got '{text}')"),
        )
    })
}

fn log_level(v: Option<&str>) -> Result<String, ConfigError> {
    let level = v.unwrap_or("info").to_ascii_lowercase();
    if ["error", "warn", "info", "debug", "trace"].contains(&level.as_str()) {
        return Ok(level);
    }
    Err(ConfigError::new(
        "--log-level",
        format!("must be error, warn, info, debug or trace (got '{level}')"),
    ))
}

fn device(v: Option<&str>) -> Result<Device, ConfigError> {
    v.map_or(Ok(Device::default()), |text| {
        text.parse()
            .map_err(|e: super::values::ValueError| ConfigError::new("--device", e.to_string()))
    })
}

/// Check the HTTP credentials' shapes; the errors never quote them.
fn http_auth(given: HttpCredentials) -> Result<crate::http::AuthConfig, ConfigError> {
    use crate::http::auth::AuthConfigError;
    crate::http::AuthConfig::new(given.http_auth, given.http_token).map_err(|e| {
        let option = match e {
            AuthConfigError::BasicFormat => "--http-auth",
            AuthConfigError::TokenFormat => "--http-token",
        };
        ConfigError::new(option, e.to_string())
    })
}

/// Validate merged options into a `Config`.
///
/// # Errors
/// The first bad value, naming its option and what is allowed.
pub fn validate(o: Options) -> Result<Config, ConfigError> {
    let mut warnings = Vec::new();
    let fps = positive_at_most("--fps", o.fps, 10.0, 240.0)?;
    let (reconnect_min, reconnect_max) = reconnect(&o)?;
    let source = source(&o)?;
    let file = file_option(source == SourceKind::File, o.file.clone(), &mut warnings)?;
    Ok(Config {
        source,
        file,
        loop_playback: o.loop_playback.unwrap_or(true),
        device: device(o.device.as_deref())?,
        width: int_in("--width", o.width, 640, (1, 8192), " pixels")?,
        height: int_in("--height", o.height, 480, (1, 8192), " pixels")?,
        size_given: o.width.is_some() || o.height.is_some(),
        fps,
        quality: int_in("--quality", o.quality, 80, (1, 100), "")?,
        mqtt_rate_hz: mqtt_rate(o.mqtt_rate, fps, &mut warnings)?,
        rotation: rotation(o.rotation)?,
        flip_h: o.flip_h.unwrap_or(false),
        flip_v: o.flip_v.unwrap_or(false),
        broker: broker(&o)?,
        client_id: non_empty("--client-id", o.client_id, "tars-camera")?,
        frame_topic: non_empty("--frame-topic", o.frame_topic, "camera/frame")?,
        control_topic: control_topic(o.control_topic)?,
        ha_prefix: ha_prefix(o.ha_discovery, o.ha_prefix)?,
        service_name: non_empty("--service-name", o.service_name, "camera")?,
        heartbeat_interval: duration(
            "--heartbeat-interval",
            o.heartbeat_interval,
            Duration::from_secs(5),
            Duration::from_millis(50),
        )?,
        reconnect_min,
        reconnect_max,
        http_host: http_host(o.http_host.as_deref())?,
        http_port: int_in("--http-port", o.http_port, 8080, (0, 65535), "")?,
        max_clients: int_in("--max-clients", o.max_clients, 16, (1, 1024), "")?,
        max_connections: int_in("--max-connections", o.max_connections, 64, (1, 4096), "")?,
        client_timeout: duration(
            "--client-timeout",
            o.client_timeout,
            Duration::from_secs(10),
            Duration::from_millis(100),
        )?,
        http_allowed_hosts: allowed_hosts(o.http_allowed_hosts.as_deref())?,
        http_auth: http_auth(o.credentials)?,
        preview_fps: positive_at_most("--preview-fps", o.preview_fps, 4.0, 30.0)?,
        controls: controls(o.controls, o.control)?,
        config_file: o.config.clone(),
        snapshot_dir: snapshot_dir(o.snapshot_dir)?,
        no_tui: o.no_tui,
        demo: o.demo,
        log_level: log_level(o.log_level.as_deref())?,
        status_interval: o.status_interval.map_or(Duration::from_secs(10), |d| d.0),
        encoder: crate::encode::codec_option(o.encoder.as_deref(), o.turbojpeg_lib.as_deref())
            .map_err(|e| ConfigError::new("--encoder", e.to_string()))?,
        fail_schedule: o
            .fail_schedule
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: super::ScheduleError| {
                ConfigError::new("--fail-schedule", e.to_string())
            })?,
        warnings,
    })
}

/// `--file`: required with the file source (the recording itself is probed
/// by the capture side, see `capture::file::settle`); ignored with a
/// warning otherwise.
fn file_option(
    file_source: bool,
    file: Option<std::path::PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<Option<std::path::PathBuf>, ConfigError> {
    match (file_source, file) {
        (true, None) => Err(ConfigError::new(
            "--file",
            "required with --source file (a recording: MJPEG file, saved /stream, or folder)",
        )),
        (true, file) => Ok(file),
        (false, None) => Ok(None),
        (false, Some(path)) => {
            warnings.push(format!(
                "--file {} is ignored: it is read only with --source file",
                path.display()
            ));
            Ok(None)
        }
    }
}

/// `--snapshot-dir`: an existing folder (the working directory if unset).
fn snapshot_dir(dir: Option<std::path::PathBuf>) -> Result<std::path::PathBuf, ConfigError> {
    let Some(dir) = dir else {
        return Ok(std::path::PathBuf::from("."));
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(ConfigError::new(
            "--snapshot-dir",
            format!("{} is not an existing folder", dir.display()),
        ))
    }
}

/// The file's `[controls]`, then `--control` / `CAMERA_CONTROLS` (a name
/// given again replaces the earlier value).
fn controls(
    table: Option<std::collections::BTreeMap<String, toml::Value>>,
    flags: Option<Vec<String>>,
) -> Result<Vec<(String, ControlValue)>, ConfigError> {
    let mut out: Vec<(String, ControlValue)> = Vec::new();
    let mut put = |name: String, value: ControlValue| {
        out.retain(|(n, _)| *n != name);
        out.push((name, value));
    };
    for (name, value) in table.unwrap_or_default() {
        let value = match value {
            toml::Value::Integer(n) => ControlValue::Number(n),
            toml::Value::Boolean(b) => ControlValue::Bool(b),
            toml::Value::String(s) => ControlValue::Text(s),
            _ => {
                return Err(ConfigError::new(
                    "--controls",
                    format!(
                        "{}: must be a whole number, true or false, or a menu item's name",
                        crate::text::quote(&name)
                    ),
                ));
            }
        };
        put(name, value);
    }
    for text in flags.unwrap_or_default() {
        if text.trim().is_empty() {
            continue;
        }
        let (name, value) =
            parse_assignment(&text).map_err(|e| ConfigError::new("--control", e))?;
        put(name, value);
    }
    Ok(out)
}
