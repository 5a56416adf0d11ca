//! Commands that change the running service, the live settings they
//! change ([`Controls`]), and the task that applies them ([`apply`]).
//!
//! One bounded channel owned by the service carries these; the service
//! applies them and the change shows in the next status snapshot.

pub mod apply;
mod controls;
pub mod mode_keys;
pub mod mqtt;
pub mod request;
pub mod save;
pub mod snapshots;

pub use controls::{Controls, SaveTarget};
pub use request::{Applied, ControlError, ControlRequest, ControlState, Reply};

/// The lowest MQTT frame rate other than 0 (off): one frame every 100 s.
/// Anything between 0 and this is refused on every path (flag, env, file,
/// HTTP, MQTT, Home Assistant), so the publisher's period is always a
/// representable duration.
pub const MIN_MQTT_RATE_HZ: f64 = 0.01;

/// Whether `hz` is an MQTT rate the service takes: 0 (off), or a finite
/// rate of at least [`MIN_MQTT_RATE_HZ`] (above the fps it is capped when
/// applied).
#[must_use]
pub fn valid_rate(hz: f64) -> bool {
    hz == 0.0 || (hz.is_finite() && hz >= MIN_MQTT_RATE_HZ)
}

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
    /// Write the live settings into the config file (`{"save": true}`).
    SaveSettings,
    /// Drop the MQTT connection and connect again now.
    ReconnectMqtt,
    /// Turn the picture 90° clockwise.
    Rotate,
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

    #[test]
    fn rates_are_zero_or_at_least_the_minimum() {
        for ok in [0.0, 0.01, 0.2, 2.0, 240.0, 1e9] {
            assert!(valid_rate(ok), "{ok}");
        }
        for bad in [
            1e-300,
            0.009,
            -0.0001,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
        ] {
            assert!(!valid_rate(bad), "{bad}");
        }
    }
}
