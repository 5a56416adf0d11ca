//! The options as a user gives them: one struct read by clap (flags and
//! environment) and by serde (the TOML file), merged by precedence.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

use super::values::DurationValue;

/// The options as given: `None` means "not set here", so the layers can merge.
/// A file's unknown keys are refused by `parse_file`, which knows the keys
/// of [`HttpCredentials`] too.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    #[arg(long, env = "MQTT_URL", value_name = "URL", hide_env_values = true)]
    pub mqtt_url: Option<String>,
    /// With --demo: the embedded broker's port; 0 = any free port [default: 1883, or a free port when it is taken]
    #[arg(long, env = "CAMERA_BROKER_PORT", allow_negative_numbers = true)]
    pub broker_port: Option<i64>,
    /// MQTT client id [default: tars-camera]
    #[arg(long, env = "MQTT_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Topic for frames [default: camera/frame]
    #[arg(long, env = "CAMERA_FRAME_TOPIC")]
    pub frame_topic: Option<String>,
    /// Topic for control requests (JSON, as POST /control); results on <topic>/result; empty = off [default: camera/control]
    #[arg(long, env = "CAMERA_CONTROL_TOPIC", value_name = "TOPIC")]
    pub control_topic: Option<String>,
    /// Announce the camera, its sensors and controls to Home Assistant (MQTT discovery) [default: false]
    #[arg(long, env = "CAMERA_HA_DISCOVERY", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub ha_discovery: Option<bool>,
    /// Home Assistant's discovery prefix [default: homeassistant]
    #[arg(long, env = "CAMERA_HA_PREFIX", value_name = "PREFIX")]
    pub ha_prefix: Option<String>,
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
    /// Connections served at once (every endpoint); more get 503 [default: 64]
    #[arg(long, env = "CAMERA_MAX_CONNECTIONS", allow_negative_numbers = true)]
    pub max_connections: Option<i64>,
    /// Drop a /stream client that accepts no bytes this long [default: 10s]
    #[arg(long, env = "CAMERA_CLIENT_TIMEOUT", value_name = "DURATION")]
    pub client_timeout: Option<DurationValue>,
    /// Host names answered without authentication besides IP addresses,
    /// localhost and this machine's names (a reverse proxy's), comma-separated [default: none]
    #[arg(long, env = "CAMERA_HTTP_ALLOWED_HOSTS", value_name = "NAMES")]
    pub http_allowed_hosts: Option<String>,
    /// `--http-auth` and `--http-token`; `parse_file` reads the file's keys
    /// for them (serde's flatten would lose the place of a bad value).
    #[command(flatten)]
    #[serde(skip)]
    pub credentials: HttpCredentials,
    /// Preview redraws per second in the UI [default: 4]
    #[arg(long, env = "CAMERA_PREVIEW_FPS", allow_negative_numbers = true)]
    pub preview_fps: Option<f64>,
    /// Set a camera control at every open: NAME=VALUE, repeatable (a menu item by name or index) [env: CAMERA_CONTROLS="a=1,b=2"]
    #[arg(
        long = "control",
        env = "CAMERA_CONTROLS",
        value_name = "NAME=VALUE",
        value_delimiter = ',',
        action = clap::ArgAction::Append
    )]
    pub control: Option<Vec<String>>,
    /// The file's `[controls]` table (`brightness = 10`, `auto_exposure = "manual"`).
    #[arg(skip)]
    pub controls: Option<std::collections::BTreeMap<String, toml::Value>>,
    /// Folder for snapshots (`s`, {"snapshot": true}); the newest 100 are kept [default: the working directory]
    #[arg(long, env = "CAMERA_SNAPSHOT_DIR", value_name = "DIR")]
    pub snapshot_dir: Option<std::path::PathBuf>,
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
    /// Headless: log a status line this often; 0 = never [default: 10s]
    #[arg(long, env = "CAMERA_STATUS_INTERVAL", value_name = "DURATION")]
    pub status_interval: Option<DurationValue>,
    /// JPEG codec: auto (libjpeg-turbo when installed, else pure Rust), turbo, or rust [default: auto]
    #[arg(long, env = "CAMERA_ENCODER", value_name = "auto|turbo|rust")]
    pub encoder: Option<String>,
    /// The libjpeg-turbo library to load [default: libturbojpeg.so.0]
    #[arg(long, hide = true, env = "CAMERA_TURBOJPEG_LIB", value_name = "FILE")]
    pub turbojpeg_lib: Option<String>,
    /// Test only: make the source fail on a schedule (e.g. "ok*20,timeout*5,ok*")
    #[arg(long, hide = true, env = "CAMERA_FAIL_SCHEDULE")]
    pub fail_schedule: Option<String>,
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
            broker_port,
            client_id,
            frame_topic,
            control_topic,
            ha_discovery,
            ha_prefix,
            service_name,
            heartbeat_interval,
            reconnect_min,
            reconnect_max,
            http_host,
            http_port,
            max_clients,
            max_connections,
            client_timeout,
            http_allowed_hosts,
            credentials,
            preview_fps,
            control,
            controls,
            snapshot_dir,
            log_level,
            status_interval,
            encoder,
            turbojpeg_lib,
            fail_schedule
        )
    }
}

/// The HTTP credentials as given: what the service requires, and what the
/// attached UI sends (`attach` words their help for that).
#[derive(Debug, Clone, Default, Args, Deserialize)]
pub struct HttpCredentials {
    /// Require HTTP Basic authentication with these credentials [default: off]
    #[arg(
        long,
        env = "CAMERA_HTTP_AUTH",
        value_name = "USER:PASSWORD",
        hide_env_values = true
    )]
    pub http_auth: Option<crate::http::Secret>,
    /// Require this token: `Authorization: Bearer TOKEN` or `?token=TOKEN` [default: off]
    #[arg(
        long,
        env = "CAMERA_HTTP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub http_token: Option<crate::http::Secret>,
}

impl HttpCredentials {
    /// Fill every unset field from `lower` (a layer of lower precedence).
    #[must_use]
    pub fn or(self, lower: Self) -> Self {
        Self {
            http_auth: self.http_auth.or(lower.http_auth),
            http_token: self.http_token.or(lower.http_token),
        }
    }
}
