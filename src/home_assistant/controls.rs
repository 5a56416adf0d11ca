//! The camera's own controls as Home Assistant entities: a number, switch
//! or select per writable control, commanded through the control topic,
//! announced again when the camera (or its set of controls) changes.

use serde_json::{Value, json};
use tars_mqtt::QoS;

use super::{Announce, node_id, state_topic};
use crate::capture::controls::{ControlInfo, ControlKind};
use crate::stats::Status;
use tars_mqtt::Client;

impl Announce {
    /// One entity per writable camera control (number, switch or select),
    /// commanded through the control topic like the other controls; none
    /// when control over MQTT is off.
    #[must_use]
    pub fn camera_controls(&self, controls: &[ControlInfo]) -> Vec<(String, Value)> {
        let Some(control) = &self.control_topic else {
            return Vec::new();
        };
        let state = state_topic(&self.frame_topic);
        controls
            .iter()
            .filter(|c| !c.read_only)
            .map(|c| {
                let object = format!("control_{}", node_id(&c.name));
                let value = format!("value_json.controls.{}", c.name);
                let (component, extra) = match c.kind {
                    ControlKind::Integer => (
                        "number",
                        json!({
                            "command_template": format!("{{\"controls\": {{\"{}\": {{{{ value | int }}}}}}}}", c.name),
                            "value_template": format!("{{{{ {value} }}}}"),
                            "min": c.min, "max": c.max, "step": c.step.max(1),
                            "mode": "slider",
                        }),
                    ),
                    ControlKind::Boolean => (
                        "switch",
                        json!({
                            "payload_on": format!("{{\"controls\": {{\"{}\": true}}}}", c.name),
                            "payload_off": format!("{{\"controls\": {{\"{}\": false}}}}", c.name),
                            "value_template": format!("{{{{ 'ON' if {value} else 'OFF' }}}}"),
                            "state_on": "ON",
                            "state_off": "OFF",
                        }),
                    ),
                    ControlKind::Menu | ControlKind::IntegerMenu => (
                        "select",
                        json!({
                            "command_template": format!("{{\"controls\": {{\"{}\": \"{{{{ value }}}}\"}}}}", c.name),
                            "value_template": format!("{{{{ {value} }}}}"),
                            "options": c.menu.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
                        }),
                    ),
                };
                let mut extra = extra;
                extra["command_topic"] = json!(control);
                extra["state_topic"] = json!(state);
                extra["entity_category"] = json!("config");
                self.entity(component, &object, Some(&c.label), extra)
            })
            .collect()
    }
}

/// What the announced control entities depend on: names, kinds, ranges and
/// menus (not values).
type Shape = Vec<(String, ControlKind, i64, i64, usize)>;

pub(super) fn controls_shape(controls: &[ControlInfo]) -> Shape {
    controls
        .iter()
        .filter(|c| !c.read_only)
        .map(|c| (c.name.clone(), c.kind, c.min, c.max, c.menu.len()))
        .collect()
}

/// The camera-control entities announced, so a change of camera (or its
/// going away) adds and removes the right ones.
#[derive(Debug, Default)]
pub(super) struct ControlEntities {
    shape: Option<Shape>,
    topics: Vec<String>,
}

impl ControlEntities {
    /// Announce the controls of `status` when they differ from what was
    /// announced (or `force`, after a reconnect); remove the ones gone (an
    /// empty retained config removes an entity).
    pub(super) fn update(
        &mut self,
        announce: &Announce,
        client: &Client,
        status: &Status,
        force: bool,
    ) {
        let shape = controls_shape(&status.controls);
        if !force && self.shape.as_ref() == Some(&shape) {
            return;
        }
        let messages = announce.camera_controls(&status.controls);
        let mut ok = true;
        for gone in self
            .topics
            .iter()
            .filter(|t| !messages.iter().any(|(topic, _)| topic == *t))
        {
            ok &= client
                .publish_bytes(gone, Vec::new(), QoS::AtLeastOnce, true)
                .is_ok();
        }
        for (topic, payload) in &messages {
            ok &= client
                .publish_json(topic, payload, QoS::AtLeastOnce, true)
                .is_ok();
        }
        if ok {
            if !messages.is_empty() || !self.topics.is_empty() {
                tracing::info!(
                    "Home Assistant: {} camera controls announced",
                    messages.len()
                );
            }
            self.topics = messages.into_iter().map(|(t, _)| t).collect();
            self.shape = Some(shape);
        }
    }
}
