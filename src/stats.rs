//! FPS meters, counters, and the status snapshot that `/status` and the UI show.
//!
//! Counters are atomics or short locks written by the capture thread and the
//! HTTP threads; a snapshot is assembled on demand and never holds a lock
//! that the capture path waits on for longer than a copy.

use serde::{Deserialize, Serialize};

use crate::mqtt::ClientStatus;

/// The whole service, as `/status` serves it and the UI draws it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub uptime_s: f64,
    pub capture: CaptureStatus,
    pub encoder: EncoderStatus,
    pub stream: StreamStatus,
    pub mqtt: MqttSection,
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
    pub target_fps: f64,
    /// Measured over the last second.
    pub measured_fps: f64,
    /// Measured FPS, one value per second, oldest first (up to 60).
    pub fps_history: Vec<f64>,
    /// Source read + transform + encode of the last frame.
    pub frame_time_ms: f64,
    pub frames: u64,
    pub consecutive_failures: u64,
    pub total_failures: u64,
    pub reopens: u64,
    pub last_error: Option<String>,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
    /// The camera's own JPEG is served untouched.
    pub passthrough: bool,
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
}

/// The HTTP stream.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamStatus {
    pub address: String,
    pub clients: u32,
    pub max_clients: u32,
    pub frames_served: u64,
    pub bytes_served: u64,
    pub frames_per_s: f64,
    pub bytes_per_s: f64,
    pub rejected: u64,
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
    #[serde(flatten)]
    pub client: ClientStatus,
}
