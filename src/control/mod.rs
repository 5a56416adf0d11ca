//! Commands that change the running service, the live settings they
//! change ([`Controls`]), and the task that applies them ([`apply`]).
//!
//! One bounded channel owned by the service carries these; the service
//! applies them and the change shows in the next status snapshot.

pub mod apply;
mod controls;
pub mod mqtt;
pub mod request;
pub mod snapshots;

pub use controls::Controls;
pub use request::{Applied, ControlError, ControlRequest, ControlState, Reply};

/// MQTT frame rates the rate keys step through (Hz), capped at the fps.
pub const RATE_STEPS_HZ: &[f64] = &[0.0, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0];

/// A change asked of the running service.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Add to the JPEG quality (clamped to 1–100).
    AdjustQuality(i32),
    /// Set the MQTT frame rate (Hz, 0 = off; capped at fps).
    SetMqttRate(f64),
    /// Step the MQTT rate up (`true`) or down through `RATE_STEPS_HZ`.
    StepMqttRate(bool),
    /// Pause or resume MQTT frame publishing.
    ToggleMqttPause,
    /// Write the current frame to a file (path reported in the status).
    SaveSnapshot,
    /// Drop the MQTT connection and connect again now.
    ReconnectMqtt,
    /// Apply a checked request from outside as a whole; the outcome goes
    /// to the reply.
    Apply(ControlRequest, Reply),
    /// Stop the service.
    Quit,
}

/// The next rate step above or below `current`, never above `max_hz`.
#[must_use]
pub fn step_rate(current: f64, up: bool, max_hz: f64) -> f64 {
    let next = if up {
        RATE_STEPS_HZ.iter().copied().find(|&r| r > current + 1e-9)
    } else {
        RATE_STEPS_HZ
            .iter()
            .rev()
            .copied()
            .find(|&r| r < current - 1e-9)
    };
    match next {
        Some(r) if r <= max_hz => r,
        Some(_) if up => max_hz,
        Some(r) => r.min(max_hz),
        None if up => current.min(max_hz),
        None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_up_and_down_and_caps_at_fps() {
        assert!((step_rate(0.0, true, 10.0) - 0.2).abs() < 1e-9);
        assert!((step_rate(2.0, true, 10.0) - 5.0).abs() < 1e-9);
        assert!((step_rate(10.0, true, 10.0) - 10.0).abs() < 1e-9);
        assert!((step_rate(5.0, true, 8.0) - 8.0).abs() < 1e-9);
        assert!((step_rate(8.0, false, 8.0) - 5.0).abs() < 1e-9);
        assert!((step_rate(0.2, false, 10.0)).abs() < 1e-9);
        assert!((step_rate(0.0, false, 10.0)).abs() < 1e-9);
        assert!((step_rate(3.0, false, 10.0) - 2.0).abs() < 1e-9);
    }
}
