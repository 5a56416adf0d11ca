//! The robot's one MQTT client. Knows nothing about cameras.

mod status;

pub use status::{ClientStatus, HealthStatus, HeartbeatStatus, LinkState};
