//! Home Assistant MQTT discovery: the camera announces itself as one device
//! with a camera entity, sensors, and controls that go through the service's
//! control topic (so a change made in Home Assistant shows in the UI at once).
//!
//! Topics, with the defaults (`camera/frame`, `camera/control`, service name
//! `camera`, client id `tars-camera`):
//!
//! - `homeassistant/<component>/tars-camera/<object>/config`: the discovery
//!   messages, retained, sent again after every reconnect (Home Assistant
//!   may have restarted since);
//! - `camera/frame/jpeg`: the JPEG bytes at the MQTT rate (Home Assistant's
//!   MQTT camera takes the image itself, not the JSON of `camera/frame`);
//! - `camera/frame/state`: the sensors' and controls' values as JSON,
//!   retained, every 5 s and at once when a control changes;
//! - availability from `system/health/camera`: offline on the last will
//!   (`offline`) and on a clean stop (`stopped`), online otherwise.

use std::time::Duration;

use serde_json::{Value, json};
use tars_mqtt::QoS;
use tokio::sync::watch;

use crate::capture::controls::ControlKind;
use crate::stats::Status;
use tars_mqtt::{Client, LinkState};

/// How often the state is published when nothing changes.
pub const STATE_PERIOD: Duration = Duration::from_secs(5);
/// How often the settings are compared with the last state sent.
const LOOK: Duration = Duration::from_millis(250);

/// Everything the discovery messages name.
#[derive(Debug, Clone)]
pub struct Announce {
    /// Discovery prefix (`homeassistant`).
    pub prefix: String,
    /// The MQTT client id: the device's identifier and the node id.
    pub client_id: String,
    /// `system/health/<name>`.
    pub health_topic: String,
    pub frame_topic: String,
    /// `None`: control over MQTT is off, so no controls are announced.
    pub control_topic: Option<String>,
    /// The largest MQTT rate (the capture fps).
    pub max_rate_hz: f64,
}

/// The topic of the raw JPEGs for Home Assistant's camera entity.
#[must_use]
pub fn jpeg_topic(frame_topic: &str) -> String {
    format!("{frame_topic}/jpeg")
}

/// The topic of the state JSON the sensors and controls read.
#[must_use]
pub fn state_topic(frame_topic: &str) -> String {
    format!("{frame_topic}/state")
}

/// A node or object id as Home Assistant takes it: `[a-zA-Z0-9_-]`.
fn node_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Announce {
    /// `(topic, payload)` of every discovery message.
    #[must_use]
    pub fn messages(&self) -> Vec<(String, Value)> {
        let mut out = vec![self.entity(
            "camera",
            "camera",
            None,
            json!({"topic": jpeg_topic(&self.frame_topic)}),
        )];
        out.extend(self.sensors());
        if let Some(control) = &self.control_topic {
            out.extend(self.controls(control));
        }
        out
    }

    /// One entity's discovery message: what every entity of the device
    /// shares, plus `extra`.
    /// `name` `None` is the device's main entity, named after the device.
    fn entity(
        &self,
        component: &str,
        object: &str,
        name: Option<&str>,
        extra: Value,
    ) -> (String, Value) {
        let node = node_id(&self.client_id);
        let mut payload = json!({
            "name": name,
            "unique_id": format!("{node}_{object}"),
            // `default_entity_id` since Home Assistant 2025.10, `object_id`
            // before it (deprecated, still read until 2026.4).
            "default_entity_id": format!("{component}.{node}_{object}"),
            "object_id": format!("{node}_{object}"),
            "device": {
                "identifiers": [node.clone()],
                "name": "TARS camera",
                "model": "tars-camera",
                "manufacturer": "TARS",
                "sw_version": env!("CARGO_PKG_VERSION"),
            },
            "availability_topic": self.health_topic,
            "availability_template":
                "{{ 'offline' if value_json.event in ['offline', 'stopped'] else 'online' }}",
            "payload_available": "online",
            "payload_not_available": "offline",
        });
        if let (Some(p), Value::Object(extra)) = (payload.as_object_mut(), extra) {
            p.extend(extra);
        }
        let topic = format!("{}/{component}/{node}/{object}/config", self.prefix);
        (topic, payload)
    }

    fn sensors(&self) -> Vec<(String, Value)> {
        let state = state_topic(&self.frame_topic);
        let sensors = [
            ("fps", "Frame rate", "fps", Some("fps"), "measurement", None),
            (
                "capture_failures",
                "Capture failures",
                "capture_failures",
                None,
                "total_increasing",
                None,
            ),
            (
                "stream_clients",
                "Stream clients",
                "stream_clients",
                None,
                "measurement",
                None,
            ),
            (
                "broker_round_trip",
                "Broker round trip",
                "round_trip_ms",
                Some("ms"),
                "measurement",
                Some("duration"),
            ),
        ];
        sensors
            .into_iter()
            .map(|(object, name, key, unit, class, device_class)| {
                let mut extra = json!({
                    "state_topic": state,
                    "value_template": format!("{{{{ value_json.{key} }}}}"),
                    "state_class": class,
                });
                if let Some(unit) = unit {
                    extra["unit_of_measurement"] = json!(unit);
                }
                if let Some(device_class) = device_class {
                    extra["device_class"] = json!(device_class);
                }
                self.entity("sensor", object, Some(name), extra)
            })
            .collect()
    }

    /// Quality, rate and pause: commands on the control topic, as the
    /// control path takes them; values from the state.
    fn controls(&self, control: &str) -> Vec<(String, Value)> {
        let state = state_topic(&self.frame_topic);
        vec![
            self.entity(
                "number",
                "jpeg_quality",
                Some("JPEG quality"),
                json!({
                    "command_topic": control,
                    "command_template": "{\"quality\": {{ value | int }}}",
                    "state_topic": state,
                    "value_template": "{{ value_json.quality }}",
                    "min": 1, "max": 100, "step": 1, "mode": "slider",
                }),
            ),
            self.entity(
                "number",
                "mqtt_rate",
                Some("MQTT frame rate"),
                json!({
                    "command_topic": control,
                    "command_template": "{\"mqtt_rate\": {{ value }}}",
                    "state_topic": state,
                    "value_template": "{{ value_json.mqtt_rate }}",
                    // Every rate of the keys' ladder (0.2, 0.5, 1, 2 …) is
                    // a whole number of steps.
                    "min": 0, "max": self.max_rate_hz, "step": 0.1,
                    "unit_of_measurement": "Hz", "mode": "box",
                }),
            ),
            self.entity(
                "switch",
                "pause",
                Some("Pause MQTT frames"),
                json!({
                    "command_topic": control,
                    "payload_on": "{\"paused\": true}",
                    "payload_off": "{\"paused\": false}",
                    "state_topic": state,
                    "value_template": "{{ 'ON' if value_json.paused else 'OFF' }}",
                    "state_on": "ON",
                    "state_off": "OFF",
                }),
            ),
        ]
    }
}

/// The state JSON from a status snapshot.
#[must_use]
pub fn state(status: &Status) -> Value {
    let controls: serde_json::Map<String, Value> = status
        .controls
        .iter()
        .map(|c| {
            let v = match c.kind {
                ControlKind::Integer => json!(c.value),
                ControlKind::Boolean => json!(c.value != 0),
                ControlKind::Menu | ControlKind::IntegerMenu => json!(c.value_text()),
            };
            (c.name.clone(), v)
        })
        .collect();
    json!({
        "controls": controls,
        "fps": (status.capture.measured_fps * 10.0).round() / 10.0,
        "capture_failures": status.capture.total_failures,
        "stream_clients": status.stream.clients,
        "round_trip_ms": status.mqtt.client.heartbeat.round_trip_ms
            .map(|ms| (ms * 100.0).round() / 100.0),
        "quality": status.encoder.quality,
        "mqtt_rate": status.mqtt.rate_hz,
        "paused": status.mqtt.paused,
    })
}

/// The settings whose change is sent at once.
type Settings = (u8, u64, bool, Vec<i64>);

fn settings(status: &Status) -> Settings {
    (
        status.encoder.quality,
        status.mqtt.rate_hz.to_bits(),
        status.mqtt.paused,
        status.controls.iter().map(|c| c.value).collect(),
    )
}

/// Announce on every connection and keep the state fresh, until aborted.
pub async fn run(announce: Announce, client: Client, mut status: watch::Receiver<Status>) {
    let mut link = client.watch_status();
    let state_topic = state_topic(&announce.frame_topic);
    let messages = announce.messages();
    let mut announced_since = None;
    let mut entities = ControlEntities::default();
    let mut last_sent: Option<(tokio::time::Instant, Settings)> = None;
    let mut tick = tokio::time::interval(LOOK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = link.changed() => if changed.is_err() { break },
            _ = tick.tick() => {}
        }
        let (state_now, since) = {
            let s = link.borrow_and_update();
            (s.state, s.since_unix_ms)
        };
        if state_now != LinkState::Connected {
            continue;
        }
        let reannounce = announced_since != Some(since);
        if reannounce {
            let mut all_sent = true;
            for (topic, payload) in &messages {
                if let Err(e) = client.publish_json(topic, payload, QoS::AtLeastOnce, true) {
                    tracing::warn!("Home Assistant discovery on {topic} not sent: {e}");
                    all_sent = false;
                }
            }
            if all_sent {
                tracing::info!(
                    "Home Assistant: {} discovery messages under {}/",
                    messages.len(),
                    announce.prefix
                );
                announced_since = Some(since);
            }
            last_sent = None;
        }
        let now = tokio::time::Instant::now();
        // Read in place: the JSON is built only when it is due.
        let due = {
            let snapshot = status.borrow_and_update();
            entities.update(&announce, &client, &snapshot, reannounce);
            let current = settings(&snapshot);
            let due = last_sent.as_ref().is_none_or(|(at, sent)| {
                *sent != current || now.duration_since(*at) >= STATE_PERIOD
            });
            due.then(|| (state(&snapshot), current))
        };
        if let Some((payload, current)) = due
            && client
                .publish_json(&state_topic, &payload, QoS::AtMostOnce, true)
                .is_ok()
        {
            last_sent = Some((now, current));
        }
    }
}

mod controls;

use controls::ControlEntities;

#[cfg(test)]
mod tests;
