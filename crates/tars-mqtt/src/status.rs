//! The live status of the MQTT client, as the UI and `/status` show it.
//!
//! Plain data, serializable, cheap to clone: the client task publishes a new
//! snapshot on a `watch` channel whenever something changes.

use serde::{Deserialize, Serialize};

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// A connection attempt is in progress.
    #[default]
    Connecting,
    /// CONNACK received; `since_unix_ms` says when.
    Connected,
    /// Backing off; `next_attempt_in_ms` says how long before attempt `attempt`.
    Waiting,
    /// `shutdown()` ran; nothing more will happen.
    Stopped,
}

/// Health as last published on `system/health/<name>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HealthStatus {
    /// False for a problem (`camera_error`, `stopped`, …).
    pub ok: bool,
    /// What happened: `ready`, `stopped`, or the service's own event.
    pub event: String,
    /// What went wrong, when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub err: Option<String>,
    /// Unix time in seconds.
    pub timestamp: f64,
}

/// Heartbeat timing on `system/keepalive/<name>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HeartbeatStatus {
    /// The configured interval (zero: off).
    pub interval_ms: u64,
    /// Heartbeats published so far (also the last `seq`).
    pub sent: u64,
    /// Wall time of the last heartbeat published.
    pub last_unix_ms: Option<u64>,
    /// Time until the next heartbeat is due (`None` while paused).
    pub next_due_in_ms: Option<u64>,
    /// Largest lateness of a heartbeat against its schedule.
    pub max_drift_ms: f64,
    /// Publish → return through the broker of the last heartbeat.
    pub round_trip_ms: Option<f64>,
}

/// Everything the client knows about itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClientStatus {
    /// Broker URL with any password removed.
    pub broker: String,
    /// The MQTT client identifier.
    pub client_id: String,
    /// Where the connection stands.
    pub state: LinkState,
    /// When the current state began (unix ms).
    pub since_unix_ms: u64,
    /// The attempt number of the next (or current) connection attempt.
    pub attempt: u32,
    /// While `Waiting`: time left before the next attempt.
    pub next_attempt_in_ms: Option<u64>,
    /// Successful connections after the first.
    pub reconnects: u64,
    /// Why the last attempt failed or the link was lost (never contains the password).
    pub last_error: Option<String>,
    /// PUBLISH packets written to the socket: frames, JSON, health, heartbeats.
    pub published: u64,
    /// Offered while disconnected or with a full queue: dropped, never queued.
    /// (Also frames captured before the current connection, too large ones,
    /// and publishes still queued when a link was lost.)
    pub dropped: u64,
    /// Inbound messages handled once although seen again, plus frame `seq`s
    /// refused because already published.
    pub deduplicated: u64,
    /// PUBLISH packets received from the broker (before dedup).
    pub received: u64,
    /// Received messages larger than the packet limit: dropped unhandled.
    #[serde(default)]
    pub inbound_too_large: u64,
    /// Heartbeat timing.
    pub heartbeat: HeartbeatStatus,
    /// The health last set, if any.
    pub health: Option<HealthStatus>,
}
