//! Discovery payloads against what Home Assistant requires.

use super::*;

fn announce(control: Option<&str>) -> Announce {
    Announce {
        prefix: "homeassistant".into(),
        client_id: "tars-camera".into(),
        health_topic: "system/health/camera".into(),
        frame_topic: "camera/frame".into(),
        control_topic: control.map(str::to_owned),
        max_rate_hz: 10.0,
    }
}

/// The keys Home Assistant's MQTT integration requires per component
/// (its documentation marks them "Required"), and those every entity of
/// a device needs (a `unique_id`, a device with `identifiers`).
fn required(component: &str) -> &'static [&'static str] {
    match component {
        "camera" => &["topic"],
        "sensor" => &["state_topic"],
        "number" | "switch" => &["command_topic"],
        other => panic!("unexpected component {other}"),
    }
}

#[test]
fn every_message_has_what_home_assistant_requires() {
    let messages = announce(Some("camera/control")).messages();
    let mut components = Vec::new();
    for (topic, payload) in &messages {
        let parts: Vec<&str> = topic.split('/').collect();
        assert_eq!(parts.len(), 5, "{topic}");
        assert_eq!(parts[0], "homeassistant");
        assert_eq!(parts[2], "tars-camera");
        assert_eq!(parts[4], "config");
        for key in required(parts[1])
            .iter()
            .chain(&["unique_id", "name", "availability_topic"])
        {
            assert!(payload.get(key).is_some(), "{topic} lacks {key}");
        }
        let object = format!("tars-camera_{}", parts[3]);
        assert_eq!(payload["unique_id"], json!(object), "{topic}");
        assert_eq!(payload["object_id"], json!(object), "{topic}");
        assert_eq!(
            payload["default_entity_id"],
            json!(format!("{}.{object}", parts[1])),
            "{topic}: the domain, then the object id"
        );
        // The camera is the device's main entity: named after the device.
        assert_eq!(payload["name"].is_null(), parts[1] == "camera", "{topic}");
        let device = &payload["device"];
        assert_eq!(device["identifiers"], json!(["tars-camera"]));
        for key in ["name", "model", "sw_version"] {
            assert!(device[key].is_string(), "{topic}: device.{key}");
        }
        components.push(format!("{}/{}", parts[1], parts[3]));
    }
    assert_eq!(
        components,
        [
            "camera/camera",
            "sensor/fps",
            "sensor/capture_failures",
            "sensor/stream_clients",
            "sensor/broker_round_trip",
            "number/jpeg_quality",
            "number/mqtt_rate",
            "switch/pause",
        ]
    );
    let ids: std::collections::BTreeSet<_> = messages
        .iter()
        .map(|(_, p)| p["unique_id"].to_string())
        .collect();
    assert_eq!(ids.len(), messages.len(), "unique ids are unique");
    let camera = &messages[0].1;
    assert_eq!(camera["topic"], "camera/frame/jpeg");
}

#[test]
fn controls_go_through_the_control_topic_and_need_it() {
    let with = announce(Some("camera/control")).messages();
    for (topic, payload) in with
        .iter()
        .filter(|(t, _)| t.contains("/number/") || t.contains("/switch/"))
    {
        assert_eq!(payload["command_topic"], "camera/control", "{topic}");
    }
    let pause = &with.last().expect("messages").1;
    let on: Value = serde_json::from_str(pause["payload_on"].as_str().expect("on")).expect("JSON");
    assert_eq!(on, json!({"paused": true}));
    let without = announce(None).messages();
    assert_eq!(without.len(), 5, "camera and sensors only");
}

#[test]
fn state_has_every_value_the_entities_read() {
    let mut status = Status::default();
    status.capture.measured_fps = 9.96;
    status.capture.total_failures = 3;
    status.stream.clients = 2;
    status.encoder.quality = 70;
    status.mqtt.rate_hz = 2.0;
    status.mqtt.client.heartbeat.round_trip_ms = Some(1.234_5);
    let s = state(&status);
    assert_eq!(
        s,
        json!({"fps": 10.0, "capture_failures": 3, "stream_clients": 2,
               "round_trip_ms": 1.23, "quality": 70, "mqtt_rate": 2.0, "paused": false,
               "controls": {}})
    );
    for (_, payload) in announce(Some("c")).messages() {
        if let Some(template) = payload["value_template"].as_str() {
            let key = template
                .split("value_json.")
                .nth(1)
                .and_then(|rest| rest.split([' ', '}']).next())
                .expect("a value_json key");
            assert!(s.get(key).is_some(), "state lacks {key}");
        }
    }
}

fn c(
    name: &str,
    kind: crate::capture::controls::ControlKind,
    value: i64,
) -> crate::capture::controls::ControlInfo {
    use crate::capture::controls::{ControlInfo, ControlKind, MenuItem};
    ControlInfo {
        name: name.to_owned(),
        label: name.to_owned(),
        kind,
        min: 0,
        max: 255,
        step: 1,
        default: value,
        value,
        menu: if kind == ControlKind::Menu {
            vec![
                MenuItem {
                    index: 0,
                    name: "Disabled".into(),
                },
                MenuItem {
                    index: 1,
                    name: "50 Hz".into(),
                },
            ]
        } else {
            Vec::new()
        },
        inactive: false,
        read_only: name == "read_only",
        grabbed: false,
        id: 0,
    }
}

/// A camera's controls: one entity each (number, switch, select) on the
/// control topic, none when control over MQTT is off, and the state holds
/// what each value template reads.
#[test]
fn camera_controls_become_entities_that_read_the_state() {
    use crate::capture::controls::ControlKind;
    let controls = vec![
        c("brightness", ControlKind::Integer, 128),
        c("white_balance_automatic", ControlKind::Boolean, 1),
        c("power_line_frequency", ControlKind::Menu, 1),
        c("read_only", ControlKind::Integer, 0),
    ];
    assert!(announce(None).camera_controls(&controls).is_empty());
    let entities = announce(Some("camera/control")).camera_controls(&controls);
    let kinds: Vec<(&str, &str)> = entities
        .iter()
        .map(|(topic, p)| {
            (
                topic.split('/').nth(1).unwrap_or(""),
                p["command_topic"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("number", "camera/control"),
            ("switch", "camera/control"),
            ("select", "camera/control")
        ]
    );
    assert_eq!(
        entities[0].1["command_template"],
        "{\"controls\": {\"brightness\": {{ value | int }}}}"
    );
    assert_eq!(
        entities[1].1["payload_off"],
        "{\"controls\": {\"white_balance_automatic\": false}}"
    );
    assert_eq!(entities[2].1["options"], json!(["Disabled", "50 Hz"]));
    let status = Status {
        controls,
        ..Status::default()
    };
    let s = state(&status);
    assert_eq!(
        s["controls"],
        json!({"brightness": 128, "white_balance_automatic": true,
               "power_line_frequency": "50 Hz", "read_only": 0})
    );
    for (_, p) in &entities {
        let template = p["value_template"].as_str().expect("template");
        let key = template
            .split("value_json.controls.")
            .nth(1)
            .and_then(|rest| rest.split([' ', '}']).next())
            .expect("a control key");
        assert!(s["controls"].get(key).is_some(), "state lacks {key}");
    }
}

#[test]
fn the_rate_number_reaches_every_rate_of_the_keys() {
    let messages = announce(Some("camera/control")).messages();
    let (_, rate) = messages
        .iter()
        .find(|(topic, _)| topic.ends_with("/number/tars-camera/mqtt_rate/config"))
        .expect("the MQTT rate number");
    let step = rate["step"].as_f64().expect("a step");
    for r in crate::control::RATE_STEPS_HZ {
        let steps = r / step;
        assert!(
            (steps - steps.round()).abs() < 1e-9,
            "{r} Hz is not a whole number of {step} steps"
        );
    }
}
