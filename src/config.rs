//! Configuration: command line, environment and an optional TOML file.
//!
//! Precedence is flag > environment > file > default. Everything is checked
//! here, before anything starts: a bad value ends the program with status 2
//! and one line that names the option and what is allowed.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

/// Exit status for bad input (options, environment, config file).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "tars-camera",
    version,
    about = "Camera service of the TARS robot: MJPEG over HTTP, frames, health and heartbeat over MQTT, and a terminal UI",
    after_help = "Every option also reads its environment variable and the TOML file given by --config (keys as the long option, with _ for -). Precedence: flag > env > file > default."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Subcommands>,
    #[command(flatten)]
    pub options: Options,
}

#[derive(Debug, Subcommand)]
pub enum Subcommands {
    /// List cameras with their formats, resolutions and frame rates.
    ListCameras,
    /// Measure this machine: encode throughput and pipeline FPS per resolution.
    Bench(BenchArgs),
    /// Run only the embedded MQTT broker, in the foreground (for tests and demos).
    Broker {
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        #[arg(long, default_value_t = 1883)]
        port: u16,
    },
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Sections to run: encode, pipeline, ui, fanout, mqtt, quiet, startup,
    /// soak, or all [default: encode pipeline ui]
    #[arg(value_enum)]
    pub sections: Vec<BenchSection>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// JPEG quality to measure.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Seconds per pipeline measurement (fanout, quiet: twice this).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Only these resolutions (e.g. 640x480,1280x720).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<String>,
    /// Encodes per test frame for the encode rows (the median is reported).
    #[arg(long, default_value_t = 40)]
    pub runs: u32,
    /// MQTT broker for the `mqtt` section [default: start `mosquitto` on a free loopback port].
    #[arg(long, value_name = "URL")]
    pub mqtt_url: Option<String>,
    /// `/stream` clients for the `fanout` and `soak` sections.
    #[arg(long, default_value_t = 16)]
    pub clients: u32,
    /// Length of the `soak` section in seconds.
    #[arg(long, default_value_t = 600.0)]
    pub soak_seconds: f64,
    /// Also measure encode and pipeline on this recording (MJPEG file, saved
    /// /stream or folder of JPEGs), next to the test pattern at its size
    /// [default sizes: the recording's]
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// A part of `tars-camera bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchSection {
    /// Encode ms/frame and MP/s per encoder and resolution.
    Encode,
    /// Unpaced service FPS and CPU per resolution (one /stream reader, MQTT 2 Hz).
    Pipeline,
    /// The terminal UI's CPU and bytes/s over a 640x480@30 service.
    Ui,
    /// /stream fan-out at 1280x720@30: 1 vs --clients readers.
    Fanout,
    /// 30 Hz 640x480 frames through an MQTT broker: loss and age.
    Mqtt,
    /// 640x480@10, MQTT 2 Hz, no client: CPU and RSS (headless and with the UI).
    Quiet,
    /// Start-up to the first frame on /snapshot.
    Startup,
    /// RSS over --soak-seconds with --clients readers at 1280x720@30.
    Soak,
    /// Every section.
    All,
}

/// The options as given: `None` means "not set here", so the layers can merge.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Options {
    /// TOML file with any of these options (keys with `_`, e.g. `http_port = 8081`).
    #[arg(long, env = "CAMERA_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Frame source: `camera`, `test-pattern` or `file` [default: camera]
    #[arg(long, env = "CAMERA_SOURCE", value_name = "SOURCE")]
    pub source: Option<String>,
    /// Recording for `--source file`: raw MJPEG, a saved /stream, or a folder of JPEGs
    #[arg(long, env = "CAMERA_FILE", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Play the recording again from the start at its end; false: stop as an unplugged camera [default: true]
    #[arg(long = "loop", env = "CAMERA_LOOP", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    #[serde(rename = "loop")]
    pub loop_playback: Option<bool>,
    /// Camera: index N or /dev/videoN [default: 0]
    #[arg(long, env = "CAMERA_DEVICE_INDEX", value_name = "N")]
    pub device: Option<String>,
    /// Requested width in pixels [default: 640]
    #[arg(long, env = "CAMERA_WIDTH", allow_negative_numbers = true)]
    pub width: Option<i64>,
    /// Requested height in pixels [default: 480]
    #[arg(long, env = "CAMERA_HEIGHT", allow_negative_numbers = true)]
    pub height: Option<i64>,
    /// Capture rate, frames per second [default: 10]
    #[arg(long, env = "CAMERA_FPS", allow_negative_numbers = true)]
    pub fps: Option<f64>,
    /// JPEG quality 1-100 [default: 80]
    #[arg(long, env = "CAMERA_QUALITY", allow_negative_numbers = true)]
    pub quality: Option<i64>,
    /// Frames per second published to MQTT; 0 = off; fractional allowed [default: 2]
    #[arg(
        long,
        env = "CAMERA_MQTT_RATE",
        value_name = "HZ",
        allow_negative_numbers = true
    )]
    pub mqtt_rate: Option<f64>,
    /// Rotation in degrees: 0, 90, 180 or 270 [default: 0]
    #[arg(long, env = "CAMERA_ROTATION", allow_negative_numbers = true)]
    pub rotation: Option<i64>,
    /// Mirror left-right
    #[arg(long, env = "CAMERA_FLIP_H", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub flip_h: Option<bool>,
    /// Mirror top-bottom
    #[arg(long, env = "CAMERA_FLIP_V", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub flip_v: Option<bool>,
    /// Broker: mqtt://[user[:pass]@]host[:port] or mqtts:// [default: mqtt://127.0.0.1:1883]
    #[arg(long, env = "MQTT_URL", value_name = "URL")]
    pub mqtt_url: Option<String>,
    /// MQTT client id [default: tars-camera]
    #[arg(long, env = "MQTT_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Topic for frames [default: camera/frame]
    #[arg(long, env = "CAMERA_FRAME_TOPIC")]
    pub frame_topic: Option<String>,
    /// Name in system/health/<name> and system/keepalive/<name> [default: camera]
    #[arg(long, env = "CAMERA_SERVICE_NAME")]
    pub service_name: Option<String>,
    /// Heartbeat interval: seconds (5, 0.5) or 500ms / 5s [default: 5s]
    #[arg(long, env = "MQTT_HEARTBEAT_INTERVAL", value_name = "DURATION")]
    pub heartbeat_interval: Option<DurationValue>,
    /// Shortest wait before reconnecting [default: 0.5s]
    #[arg(long, env = "MQTT_RECONNECT_MIN", value_name = "DURATION")]
    pub reconnect_min: Option<DurationValue>,
    /// Longest wait before reconnecting [default: 5s]
    #[arg(long, env = "MQTT_RECONNECT_MAX", value_name = "DURATION")]
    pub reconnect_max: Option<DurationValue>,
    /// HTTP address to bind [default: 0.0.0.0]
    #[arg(long, env = "CAMERA_HTTP_HOST")]
    pub http_host: Option<String>,
    /// HTTP port; 0 = any free port [default: 8080]
    #[arg(long, env = "CAMERA_HTTP_PORT", allow_negative_numbers = true)]
    pub http_port: Option<i64>,
    /// Concurrent /stream clients; more get 503 [default: 16]
    #[arg(long, env = "CAMERA_MAX_CLIENTS", allow_negative_numbers = true)]
    pub max_clients: Option<i64>,
    /// Preview redraws per second in the UI [default: 4]
    #[arg(long, env = "CAMERA_PREVIEW_FPS", allow_negative_numbers = true)]
    pub preview_fps: Option<f64>,
    /// Run without the terminal UI (automatic when stdout is not a terminal)
    #[arg(long)]
    #[serde(default)]
    pub no_tui: bool,
    /// Test pattern + embedded broker: works with no camera and no broker
    #[arg(long)]
    #[serde(default)]
    pub demo: bool,
    /// Log level: error, warn, info, debug, trace [default: info]
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Test only: make the source fail on a schedule (e.g. "ok*20,timeout*5,ok*")
    #[arg(long, hide = true, env = "CAMERA_FAIL_SCHEDULE")]
    pub fail_schedule: Option<String>,
}

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
    External(String),
    /// The broker inside this process (`--demo`).
    Embedded,
}

/// The validated configuration the service runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub source: SourceKind,
    /// The recording for `SourceKind::File`, checked to hold a JPEG.
    pub file: Option<PathBuf>,
    pub loop_playback: bool,
    pub device: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub quality: u8,
    pub mqtt_rate_hz: f64,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
    pub broker: BrokerChoice,
    pub client_id: String,
    pub frame_topic: String,
    pub service_name: String,
    pub heartbeat_interval: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub http_host: IpAddr,
    pub http_port: u16,
    pub max_clients: u32,
    pub preview_fps: f64,
    pub no_tui: bool,
    pub demo: bool,
    pub log_level: String,
    pub fail_schedule: Option<String>,
    /// Warnings found while validating (e.g. rate capped), logged at start.
    pub warnings: Vec<String>,
}

/// A bad value: which option, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {message}")]
pub struct ConfigError {
    pub option: String,
    pub message: String,
}

impl ConfigError {
    fn new(option: &str, message: impl Into<String>) -> Self {
        Self {
            option: option.to_owned(),
            message: message.into(),
        }
    }
}

/// A duration given as plain seconds (`1`, `0.5`) or with a unit (`500ms`, `5s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl FromStr for DurationValue {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
            (n, 0.001)
        } else if let Some(n) = s.strip_suffix('s') {
            (n, 1.0)
        } else if let Some(n) = s.strip_suffix('m') {
            (n, 60.0)
        } else {
            (s, 1.0)
        };
        let value: f64 = number.trim().parse().map_err(|_| {
            format!("'{s}' is not a duration (use seconds like 5 or 0.5, or 500ms, 5s)")
        })?;
        let secs = value * scale;
        if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
            return Err(format!("'{s}' is out of range (0 to 1 day)"));
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => n.to_string().parse().map_err(serde::de::Error::custom),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Options {
    /// Fill every unset field from `lower` (a layer of lower precedence).
    #[must_use]
    pub fn or(self, lower: Self) -> Self {
        macro_rules! pick {
            ($($f:ident),*) => { Self { $($f: self.$f.or(lower.$f),)* no_tui: self.no_tui || lower.no_tui, demo: self.demo || lower.demo } };
        }
        pick!(
            config,
            source,
            file,
            loop_playback,
            device,
            width,
            height,
            fps,
            quality,
            mqtt_rate,
            rotation,
            flip_h,
            flip_v,
            mqtt_url,
            client_id,
            frame_topic,
            service_name,
            heartbeat_interval,
            reconnect_min,
            reconnect_max,
            http_host,
            http_port,
            max_clients,
            preview_fps,
            log_level,
            fail_schedule
        )
    }
}

/// Read a TOML config file; errors carry line and column.
///
/// # Errors
/// Unreadable file, TOML syntax error, unknown key or wrong type.
pub fn read_file(path: &Path) -> Result<Options, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
    })?;
    parse_file(&text).map_err(|m| ConfigError::new("--config", format!("{}: {m}", path.display())))
}

/// Parse config file text; the error says where (line, column) and what.
///
/// # Errors
/// TOML syntax error, unknown key or wrong type, with its position.
pub fn parse_file(text: &str) -> Result<Options, String> {
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
        format!("{}{}", place.unwrap_or_default(), e.message())
    })
}

/// Merge the layers (flags and environment come from clap already merged:
/// clap prefers the flag over the variable) with the file and defaults, and validate.
///
/// # Errors
/// The first bad value, naming its option.
pub fn resolve(cli_and_env: Options) -> Result<Config, ConfigError> {
    let file = match &cli_and_env.config {
        Some(path) => read_file(path)?,
        None => Options::default(),
    };
    validate(cli_and_env.or(file))
}

/// An integer option within `lo..=hi` (`unit` names what it counts).
fn int_in<T: TryFrom<i64>>(
    option: &str,
    v: Option<i64>,
    default: T,
    lo: i64,
    hi: i64,
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

fn duration(
    option: &str,
    v: Option<DurationValue>,
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

/// Check a device given as `N` or `/dev/videoN`.
fn device(v: Option<String>) -> Result<String, ConfigError> {
    let d = v.unwrap_or_else(|| "0".to_owned());
    crate::capture::camera::parse_device(&d).map_err(|m| ConfigError::new("--device", m))?;
    Ok(d)
}

/// Check the broker URL: scheme, host, port.
fn mqtt_url(v: Option<String>) -> Result<String, ConfigError> {
    let url = v.unwrap_or_else(|| "mqtt://127.0.0.1:1883".to_owned());
    crate::mqtt::BrokerUrl::parse(&url)
        .map_err(|e| ConfigError::new("--mqtt-url", e.to_string()))?;
    Ok(url)
}

/// Validate merged options into a `Config`.
///
/// # Errors
/// The first bad value, naming its option and what is allowed.
pub fn validate(o: Options) -> Result<Config, ConfigError> {
    let mut warnings = Vec::new();
    let source = match (o.source.as_deref(), o.demo) {
        (None, true) | (Some("test-pattern"), _) => SourceKind::TestPattern,
        (None, false) | (Some("camera"), _) => SourceKind::Camera,
        (Some("file"), _) => SourceKind::File,
        (Some(other), _) => {
            return Err(ConfigError::new(
                "--source",
                format!("must be camera, test-pattern or file (got '{other}')"),
            ));
        }
    };
    let recording =
        crate::capture::file::config::check(source == SourceKind::File, o.file, &mut warnings)
            .map_err(|e| ConfigError::new("--file", e.to_string()))?;
    let (width, height) = crate::capture::file::config::size(
        recording.as_ref().map(|r| r.size),
        int_in("--width", o.width, 640, 1, 8192, " pixels")?,
        int_in("--height", o.height, 480, 1, 8192, " pixels")?,
        o.width.is_some() || o.height.is_some(),
        &mut warnings,
    );
    let fps = positive_at_most("--fps", o.fps, 10.0, 240.0)?;
    let quality: u8 = int_in("--quality", o.quality, 80, 1, 100, "")?;
    let mut mqtt_rate_hz = o.mqtt_rate.unwrap_or(2.0);
    if !(mqtt_rate_hz.is_finite() && mqtt_rate_hz >= 0.0) {
        return Err(ConfigError::new(
            "--mqtt-rate",
            format!(
                "must be 0 (off) or a positive number of frames per second (got {mqtt_rate_hz})"
            ),
        ));
    }
    if mqtt_rate_hz > fps {
        warnings.push(format!(
            "--mqtt-rate {mqtt_rate_hz} is above --fps {fps}: capped at {fps}"
        ));
        mqtt_rate_hz = fps;
    }
    let rotation = match o.rotation {
        None => 0,
        Some(r @ (0 | 90 | 180 | 270)) => u16::try_from(r).unwrap_or(0),
        Some(r) => {
            return Err(ConfigError::new(
                "--rotation",
                format!("must be 0, 90, 180 or 270 (got {r})"),
            ));
        }
    };
    let broker = if o.demo && o.mqtt_url.is_none() {
        BrokerChoice::Embedded
    } else {
        BrokerChoice::External(mqtt_url(o.mqtt_url)?)
    };
    let reconnect_min = duration(
        "--reconnect-min",
        o.reconnect_min,
        Duration::from_millis(500),
        Duration::from_millis(10),
    )?;
    let reconnect_max = duration(
        "--reconnect-max",
        o.reconnect_max,
        Duration::from_secs(5),
        Duration::from_millis(10),
    )?;
    if reconnect_max < reconnect_min {
        return Err(ConfigError::new(
            "--reconnect-max",
            format!("must not be below --reconnect-min ({reconnect_max:?} < {reconnect_min:?})"),
        ));
    }
    let http_host_text = o.http_host.unwrap_or_else(|| "0.0.0.0".to_owned());
    let http_host = http_host_text.parse::<IpAddr>().map_err(|_| {
        ConfigError::new(
            "--http-host",
            format!("must be an IP address like 0.0.0.0 or 127.0.0.1 (got '{http_host_text}')"),
        )
    })?;
    let http_port: u16 = int_in("--http-port", o.http_port, 8080, 0, 65535, "")?;
    let max_clients: u32 = int_in("--max-clients", o.max_clients, 16, 1, 1024, "")?;
    let preview_fps = positive_at_most("--preview-fps", o.preview_fps, 4.0, 30.0)?;
    let log_level = o
        .log_level
        .unwrap_or_else(|| "info".to_owned())
        .to_ascii_lowercase();
    if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
        return Err(ConfigError::new(
            "--log-level",
            format!("must be error, warn, info, debug or trace (got '{log_level}')"),
        ));
    }
    Ok(Config {
        source,
        device: device(o.device)?,
        file: recording.map(|r| r.path),
        loop_playback: o.loop_playback.unwrap_or(true),
        width,
        height,
        fps,
        quality,
        mqtt_rate_hz,
        rotation,
        flip_h: o.flip_h.unwrap_or(false),
        flip_v: o.flip_v.unwrap_or(false),
        broker,
        client_id: non_empty("--client-id", o.client_id, "tars-camera")?,
        frame_topic: non_empty("--frame-topic", o.frame_topic, "camera/frame")?,
        service_name: non_empty("--service-name", o.service_name, "camera")?,
        heartbeat_interval: duration(
            "--heartbeat-interval",
            o.heartbeat_interval,
            Duration::from_secs(5),
            Duration::from_millis(50),
        )?,
        reconnect_min,
        reconnect_max,
        http_host,
        http_port,
        max_clients,
        preview_fps,
        no_tui: o.no_tui,
        demo: o.demo,
        log_level,
        fail_schedule: match o.fail_schedule {
            Some(s) => Some(
                crate::capture::flaky::Schedule::parse(&s)
                    .map(|_| s)
                    .map_err(|m| ConfigError::new("--fail-schedule", m))?,
            ),
            None => None,
        },
        warnings,
    })
}

#[cfg(test)]
mod tests;
