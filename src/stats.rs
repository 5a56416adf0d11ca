//! FPS meters, counters, and the status snapshot that `/status` and the UI show.
//!
//! Counters are atomics or short locks written by the capture thread and the
//! HTTP threads; the service's status task assembles a snapshot from them
//! every 250 ms (`service::STATUS_PERIOD`) and shares it through a `watch`,
//! never holding a lock that the capture path waits on for longer than a copy.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use tars_mqtt::ClientStatus;

/// Events per second over a sliding window (default 1 s).
#[derive(Debug, Clone)]
pub struct RateMeter {
    window: Duration,
    events: VecDeque<Instant>,
}

impl Default for RateMeter {
    fn default() -> Self {
        Self::new(Duration::from_secs(1))
    }
}

impl RateMeter {
    #[must_use]
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            events: VecDeque::new(),
        }
    }

    /// Count one event at `now`.
    pub fn record(&mut self, now: Instant) {
        self.events.push_back(now);
        self.trim(now);
    }

    fn trim(&mut self, now: Instant) {
        while let Some(&first) = self.events.front() {
            if now.duration_since(first) > self.window {
                self.events.pop_front();
            } else {
                break;
            }
        }
    }

    /// Events per second over the window ending at `now`: measured between
    /// the first and last event (no off-by-one at the window's edge), and
    /// never above the plain count, so a stall shows at once.
    #[must_use]
    pub fn rate(&mut self, now: Instant) -> f64 {
        self.trim(now);
        let n = self.events.len();
        let count_rate = n as f64 / self.window.as_secs_f64();
        match (self.events.front(), self.events.back()) {
            (Some(&first), Some(&last)) if n >= 2 && last > first => {
                let span_rate = (n - 1) as f64 / last.duration_since(first).as_secs_f64();
                span_rate.min(count_rate.max((n - 1) as f64 / self.window.as_secs_f64()))
            }
            _ => count_rate,
        }
    }
}

/// One value per second for the last minute (the FPS sparkline).
#[derive(Debug, Clone, Default)]
pub struct History {
    values: VecDeque<f64>,
    next_at: Option<Instant>,
}

impl History {
    pub const LEN: usize = 60;

    /// Offer the current value; it is kept once per second.
    pub fn sample(&mut self, now: Instant, value: f64) {
        let due = self.next_at.is_none_or(|t| now >= t);
        if due {
            self.values.push_back(value);
            while self.values.len() > Self::LEN {
                self.values.pop_front();
            }
            self.next_at = Some(now + Duration::from_secs(1));
        }
    }

    #[must_use]
    pub fn values(&self) -> Vec<f64> {
        self.values.iter().copied().collect()
    }
}

/// A per-second rate computed from a growing counter sampled now and then.
#[derive(Debug, Clone, Default)]
pub struct CounterRate {
    samples: VecDeque<(Instant, u64)>,
}

impl CounterRate {
    /// Record the counter's value at `now`; returns its rate over the last ~second.
    pub fn update(&mut self, now: Instant, value: u64) -> f64 {
        self.samples.push_back((now, value));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|&(t, _)| now.duration_since(t) >= Duration::from_secs(1))
        {
            self.samples.pop_front();
        }
        match self.samples.front() {
            Some(&(t0, v0)) if now > t0 => {
                value.saturating_sub(v0) as f64 / now.duration_since(t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

/// The whole service, as `/status` serves it and the UI draws it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub uptime_s: f64,
    /// When this service started (Unix seconds): tells one run of it from
    /// the next, which `uptime_s` alone cannot when restarts are quick.
    #[serde(default)]
    pub started_at: f64,
    pub capture: CaptureStatus,
    pub encoder: EncoderStatus,
    pub stream: StreamStatus,
    pub mqtt: MqttSection,
    /// Commands applied from the UI's keys (in this process).
    #[serde(default)]
    pub keys_applied: u64,
    /// The service's long-running tasks: failures (panics, early ends) and
    /// restarts.
    #[serde(default)]
    pub tasks: crate::supervise::TasksStatus,
    /// The source's controls (served on `/controls`, not in `/status`).
    #[serde(skip)]
    pub controls: Vec<crate::capture::controls::ControlInfo>,
    /// The mode now and the source's modes (served on `/modes`).
    #[serde(skip)]
    pub modes: crate::capture::mode::ModesView,
}

/// Capture: what the source delivers and how well.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaptureStatus {
    /// "test-pattern" or "camera".
    pub source: String,
    /// "test-pattern", "v4l2", …
    pub backend: String,
    pub device: String,
    /// The real resolution delivered by the source (before rotation).
    pub width: u32,
    pub height: u32,
    pub pixel_format: String,
    /// The rate frames are published at: the one asked, or the camera's
    /// negotiated rate when that is lower (29.97 when 30 was asked).
    pub target_fps: f64,
    /// Measured over the last second.
    pub measured_fps: f64,
    /// Measured FPS, one value per second, oldest first (up to 60).
    pub fps_history: Vec<f64>,
    /// Source read + transform + encode of the last frame.
    pub frame_time_ms: f64,
    /// Frames published (encoded or passed through).
    pub frames: u64,
    /// Frames read from the source.
    #[serde(default)]
    pub captured: u64,
    /// Frames encoded by the service, and camera JPEGs passed through.
    #[serde(default)]
    pub encoded: u64,
    #[serde(default)]
    pub passed_through: u64,
    pub consecutive_failures: u64,
    pub total_failures: u64,
    pub reopens: u64,
    pub last_error: Option<String>,
    /// When `last_error` happened (Unix time, seconds).
    #[serde(default)]
    pub last_error_at: Option<f64>,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
    /// The camera's own JPEG is served untouched.
    pub passthrough: bool,
    /// What the last picture reached the encoder as: `jpeg` (the camera's),
    /// `yuv420` (raw pixels as YUV planes, libjpeg-turbo's cheaper path),
    /// `rgb`; empty before the first.
    #[serde(default)]
    pub input: String,
    /// `starting` (no frame yet), `ok` or `camera_error`: the camera's
    /// health as MQTT publishes it, also when there is no broker.
    #[serde(default)]
    pub health: String,
}

/// Encoder: settings and the last result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EncoderStatus {
    pub encoder: String,
    pub quality: u8,
    pub encode_ms: f64,
    pub jpeg_bytes: u64,
    /// Size of the encoded picture (after rotation).
    pub width: u32,
    pub height: u32,
    /// Path of the last snapshot saved with `s`.
    pub last_saved: Option<String>,
    /// Encode times of every frame encoded (for `/metrics`).
    #[serde(skip)]
    pub encode_seconds: TimeBuckets,
}

/// A histogram of durations in seconds over fixed bounds, as Prometheus
/// wants it: a count per bucket, the sum and the count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeBuckets {
    /// Observations per bucket of [`TimeBuckets::BOUNDS`], then above the last.
    counts: [u64; Self::BOUNDS.len() + 1],
    pub sum: f64,
    pub count: u64,
}

impl TimeBuckets {
    /// Upper bounds in seconds: 1 ms (a small frame on libjpeg-turbo) to 1 s.
    pub const BOUNDS: [f64; 11] = [
        0.001, 0.002, 0.005, 0.010, 0.020, 0.035, 0.050, 0.100, 0.200, 0.500, 1.0,
    ];

    pub fn record(&mut self, seconds: f64) {
        let bucket = Self::BOUNDS
            .iter()
            .position(|&upper| seconds <= upper)
            .unwrap_or(Self::BOUNDS.len());
        self.counts[bucket] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    /// `(upper bound, observations in this bucket only)`, the last bound
    /// infinite.
    #[must_use]
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        Self::BOUNDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.counts)
            .collect()
    }
}

/// The HTTP stream and the connections around it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamStatus {
    pub address: String,
    pub clients: u32,
    pub max_clients: u32,
    /// `/status/events` watchers (the web console) now, at most `max_clients`.
    pub watchers: u32,
    pub frames_served: u64,
    pub bytes_served: u64,
    pub frames_per_s: f64,
    pub bytes_per_s: f64,
    /// `/stream` requests refused beyond `max_clients`.
    pub rejected: u64,
    /// HTTP connections open now, and the cap.
    pub connections: u32,
    pub max_connections: u32,
    /// Connections refused (503) beyond `max_connections`.
    pub refused_connections: u64,
    /// `/stream` clients that took no bytes this long are dropped.
    pub client_timeout_s: f64,
    /// `/stream` clients dropped for that.
    pub dropped_stalled: u64,
    /// Connections closed for not sending a complete request head within 5 s.
    pub head_timeouts: u64,
    /// Requests answered 4xx for being malformed or too large.
    pub bad_requests: u64,
    /// Requests answered 401.
    pub unauthorized: u64,
    /// Requests refused (403) for a `Host` not answered without authentication.
    #[serde(default)]
    pub host_refused: u64,
    /// Requests refused (429) from an address locked out after repeated
    /// wrong credentials.
    #[serde(default)]
    pub auth_locked: u64,
    /// "off", "basic", "token" or "basic+token" (never a secret).
    pub auth: String,
    /// Requests answered, by endpoint ("other" for unknown paths).
    pub requests: BTreeMap<String, u64>,
    /// `POST /control` requests applied, and refused (403, 400, 503).
    pub control_applied: u64,
    pub control_refused: u64,
}

/// MQTT: the client's own status plus the camera's frame publishing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MqttSection {
    pub frame_topic: String,
    /// Frames per second offered to MQTT (0 = off), after the fps cap.
    pub rate_hz: f64,
    pub paused: bool,
    /// Set when `--demo` runs the broker inside the process.
    pub embedded_broker: Option<String>,
    pub frames_published: u64,
    /// Frames whose payload could not be built (logged, not sent).
    #[serde(default)]
    pub payload_errors: u64,
    /// Control requests over MQTT.
    #[serde(default)]
    pub control: crate::control::mqtt::MqttControlStatus,
    #[serde(flatten)]
    pub client: ClientStatus,
}

/// The MQTT figures `/metrics` shows, as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MqttFigures {
    pub published: u64,
    pub dropped: u64,
    pub deduplicated: u64,
    pub inbound_too_large: u64,
    pub reconnects: u64,
    pub connected: bool,
    pub rate_hz: f64,
    pub paused: bool,
    /// Publish to return through the broker of the last heartbeat.
    pub round_trip_ms: Option<f64>,
}

impl MqttSection {
    /// The figures `/metrics` shows.
    #[must_use]
    pub fn figures(&self) -> MqttFigures {
        let c = &self.client;
        MqttFigures {
            published: c.published,
            dropped: c.dropped,
            deduplicated: c.deduplicated,
            inbound_too_large: c.inbound_too_large,
            reconnects: c.reconnects,
            connected: c.state == tars_mqtt::LinkState::Connected,
            rate_hz: self.rate_hz,
            paused: self.paused,
            round_trip_ms: c.heartbeat.round_trip_ms,
        }
    }
}

/// A frame rate as people write it: "30", "29.97", "7.5".
#[must_use]
pub fn fps_text(fps: f64) -> String {
    if (fps - fps.round()).abs() < 0.005 {
        format!("{}", fps.round() as u64)
    } else {
        let text = format!("{fps:.2}");
        text.trim_end_matches('0').to_owned()
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
