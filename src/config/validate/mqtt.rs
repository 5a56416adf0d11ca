//! The MQTT side of the options: the broker, reconnect bounds, topics and
//! the frame rate.

use std::time::Duration;

use super::super::BrokerChoice;
use super::super::options::Options;
use super::super::values::ConfigError;
use super::{duration, int_in};
use tars_mqtt::BrokerUrl;

/// The control topic: a topic name (no wildcards); empty turns control off.
pub(super) fn control_topic(v: Option<String>) -> Result<Option<String>, ConfigError> {
    let topic = v.unwrap_or_else(|| "camera/control".to_owned());
    if topic.is_empty() {
        return Ok(None);
    }
    if tars_mqtt::topic::valid_topic(&topic) {
        Ok(Some(topic))
    } else {
        Err(ConfigError::new(
            "--control-topic",
            format!("must be an MQTT topic without + or # (got '{topic}'), or empty for off"),
        ))
    }
}

/// The Home Assistant discovery prefix when discovery is on: a topic
/// without wildcards.
pub(super) fn ha_prefix(
    on: Option<bool>,
    prefix: Option<String>,
) -> Result<Option<String>, ConfigError> {
    if on != Some(true) {
        return Ok(None);
    }
    let prefix = prefix.unwrap_or_else(|| "homeassistant".to_owned());
    if !prefix.is_empty() && tars_mqtt::topic::valid_topic(&prefix) {
        Ok(Some(prefix.trim_end_matches('/').to_owned()))
    } else {
        Err(ConfigError::new(
            "--ha-prefix",
            format!("must be an MQTT topic without + or # (got '{prefix}')"),
        ))
    }
}

/// The MQTT rate, capped at the frame rate with a warning.
pub(super) fn mqtt_rate(
    v: Option<f64>,
    fps: f64,
    warnings: &mut Vec<String>,
) -> Result<f64, ConfigError> {
    let rate = v.unwrap_or(2.0);
    if !crate::control::valid_rate(rate) {
        return Err(ConfigError::new(
            "--mqtt-rate",
            format!("must be 0 (off) or 0.01 to the fps, in frames per second (got {rate})"),
        ));
    }
    if rate > fps {
        warnings.push(format!(
            "--mqtt-rate {rate} is above --fps {fps}: capped at {fps}"
        ));
        return Ok(fps);
    }
    Ok(rate)
}

pub(super) fn broker(o: &Options) -> Result<BrokerChoice, ConfigError> {
    let port = match o.broker_port {
        None => None,
        Some(_) if !o.demo || o.mqtt_url.is_some() => {
            return Err(ConfigError::new(
                "--broker-port",
                "is the embedded broker's port: only with --demo and without --mqtt-url".to_owned(),
            ));
        }
        Some(_) => Some(int_in(
            "--broker-port",
            o.broker_port,
            1883,
            (0, 65535),
            "",
        )?),
    };
    if o.demo && o.mqtt_url.is_none() {
        return Ok(BrokerChoice::Embedded(port));
    }
    let text = o.mqtt_url.as_deref().unwrap_or("mqtt://127.0.0.1:1883");
    BrokerUrl::parse(text)
        .map(BrokerChoice::External)
        .map_err(|e| ConfigError::new("--mqtt-url", e.to_string()))
}

/// The reconnect bounds, `min <= max`.
pub(super) fn reconnect(o: &Options) -> Result<(Duration, Duration), ConfigError> {
    let floor = Duration::from_millis(10);
    let min = duration(
        "--reconnect-min",
        o.reconnect_min,
        Duration::from_millis(500),
        floor,
    )?;
    let max = duration(
        "--reconnect-max",
        o.reconnect_max,
        Duration::from_secs(5),
        floor,
    )?;
    if max < min {
        return Err(ConfigError::new(
            "--reconnect-max",
            format!("must not be below --reconnect-min ({max:?} < {min:?})"),
        ));
    }
    Ok((min, max))
}
