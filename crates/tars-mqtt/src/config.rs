//! What the client needs to know: broker, identity, timing and limits.

use std::sync::Arc;
use std::time::Duration;

use super::url::BrokerUrl;

/// Settings of one MQTT client. `ClientConfig::new` fills in the defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The broker to connect to.
    pub url: BrokerUrl,
    /// The MQTT client identifier (unique per broker).
    pub client_id: String,
    /// Gives `system/health/<name>` and `system/keepalive/<name>`.
    pub service_name: String,
    /// Zero turns the heartbeat off.
    pub heartbeat_interval: Duration,
    /// The first reconnect delay.
    pub reconnect_min: Duration,
    /// The longest reconnect delay.
    pub reconnect_max: Duration,
    /// Relative jitter of reconnect delays (0.2 = ±20 %).
    pub reconnect_jitter: f64,
    /// The attempt counter resets only after the link stayed up this long.
    pub stable_after: Duration,
    /// Largest MQTT packet sent, and largest inbound message handled: a
    /// bigger one is read whole, counted in `inbound_too_large` and dropped
    /// (refusing it at the socket would drop the link, and a retained one
    /// would come back at every reconnect).
    pub max_packet_bytes: usize,
    /// MQTT keep-alive (zero = off; otherwise at least 1 s).
    pub keep_alive: Duration,
    /// TCP connect + CONNACK must complete within this (whole seconds, ≥ 1 s).
    pub connect_timeout: Duration,
    /// Requests (publishes, subscribes) queued per connection; beyond, publishes fail at once.
    pub request_capacity: usize,
    /// How long a seen message key is remembered.
    pub dedup_ttl: Duration,
    /// How many message keys are remembered at most.
    pub dedup_capacity: usize,
    /// TLS settings for `mqtts://`; `None` uses the system's root certificates.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Defaults from SPEC.md.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// Default of [`ClientConfig::reconnect_min`].
pub const DEFAULT_RECONNECT_MIN: Duration = Duration::from_millis(500);
/// Default of [`ClientConfig::reconnect_max`].
pub const DEFAULT_RECONNECT_MAX: Duration = Duration::from_secs(5);
/// Default of [`ClientConfig::stable_after`].
pub const DEFAULT_STABLE_AFTER: Duration = Duration::from_secs(10);
/// Default of [`ClientConfig::max_packet_bytes`] (8 MiB).
pub const DEFAULT_MAX_PACKET_BYTES: usize = 8 * 1024 * 1024;
/// What the connection reads: any packet MQTT allows (a remaining length of
/// at most 268,435,455 bytes, plus the fixed header). What the broker lets
/// publishers send (Mosquitto's `message_size_limit`) bounds the memory.
pub const MAX_INBOUND_PACKET_BYTES: usize = 268_435_455 + 5;
/// A good bound for [`crate::Client::shutdown`].
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

impl ClientConfig {
    /// Settings for `url` with every limit and timing at its default.
    #[must_use]
    pub fn new(url: BrokerUrl, client_id: &str, service_name: &str) -> ClientConfig {
        ClientConfig {
            url,
            client_id: client_id.to_string(),
            service_name: service_name.to_string(),
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            reconnect_min: DEFAULT_RECONNECT_MIN,
            reconnect_max: DEFAULT_RECONNECT_MAX,
            reconnect_jitter: crate::backoff::DEFAULT_JITTER,
            stable_after: DEFAULT_STABLE_AFTER,
            max_packet_bytes: DEFAULT_MAX_PACKET_BYTES,
            keep_alive: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            request_capacity: 32,
            dedup_ttl: Duration::from_secs(30),
            dedup_capacity: 4096,
            tls: None,
        }
    }

    /// `system/health/<service_name>`.
    #[must_use]
    pub fn health_topic(&self) -> String {
        super::topic::health(&self.service_name)
    }

    /// `system/keepalive/<service_name>`.
    #[must_use]
    pub fn keepalive_topic(&self) -> String {
        format!("system/keepalive/{}", self.service_name)
    }
}
