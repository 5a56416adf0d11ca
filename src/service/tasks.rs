//! The service's long-running async tasks, each started under the
//! supervisor (restarted should it fail): commands, MQTT frames, camera
//! health, status, control over MQTT and Home Assistant.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::{publisher, status};
use crate::config::Config;
use crate::control::{Command, Controls};
use crate::frame::FrameHub;
use crate::stats::Status;
use crate::supervise::Supervisor;
use tars_mqtt::Client;

/// The channels and shared state the service's tasks run on.
pub(super) struct Wiring {
    pub(super) commands: mpsc::Receiver<Command>,
    /// For control requests over MQTT.
    pub(super) commands_tx: mpsc::Sender<Command>,
    pub(super) quit: watch::Sender<bool>,
    pub(super) controls: Arc<Controls>,
    pub(super) publisher: Arc<publisher::PublisherCounters>,
    pub(super) control: Arc<crate::control::mqtt::MqttControlCounters>,
    pub(super) status: watch::Sender<Status>,
    pub(super) supervisor: Arc<Supervisor>,
}

/// What the MQTT control task takes of the wiring.
struct WiringRest {
    commands_tx: mpsc::Sender<Command>,
    control: Arc<crate::control::mqtt::MqttControlCounters>,
}

/// The service's async tasks: commands, MQTT frames, camera health, status,
/// control over MQTT and Home Assistant discovery when configured; each
/// watched by the supervisor and started again should it fail.
pub(super) fn spawn(
    config: &Config,
    capture: &super::CaptureParts,
    hub: &Arc<FrameHub>,
    mqtt: &Client,
    wiring: Wiring,
    status_source: status::StatusSource,
) -> Vec<tokio::task::JoinHandle<()>> {
    let tasks = Arc::clone(&wiring.supervisor);
    let status_updates = wiring.status.subscribe();
    let quality = {
        let capture = Arc::clone(&capture.shared);
        move || capture.quality()
    };
    let commands = Arc::new(tokio::sync::Mutex::new(wiring.commands));
    let apply = {
        let (capture, controls, hub, mqtt) = (
            Arc::clone(&capture.shared),
            Arc::clone(&wiring.controls),
            Arc::clone(hub),
            mqtt.clone(),
        );
        let quit = wiring.quit;
        move || {
            crate::control::apply::run(
                Arc::clone(&commands),
                Arc::clone(&capture),
                Arc::clone(&controls),
                Arc::clone(&hub),
                mqtt.clone(),
                quit.clone(),
            )
        }
    };
    let publish = {
        let (hub, mqtt, controls, counters) = (
            Arc::clone(hub),
            mqtt.clone(),
            wiring.controls,
            wiring.publisher,
        );
        let topic = config.frame_topic.clone();
        let jpeg_topic = config
            .ha_prefix
            .as_ref()
            .map(|_| crate::home_assistant::jpeg_topic(&config.frame_topic));
        move || {
            publisher::publish_frames(
                Arc::clone(&hub),
                mqtt.clone(),
                Arc::clone(&controls),
                topic.clone(),
                jpeg_topic.clone(),
                quality.clone(),
                Arc::clone(&counters),
            )
        }
    };
    let relay = {
        let (health, mqtt) = (capture.shared.health(), mqtt.clone());
        move || publisher::relay_camera_health(health.clone(), mqtt.clone())
    };
    let no_signal = {
        let (health, hub) = (capture.shared.health(), Arc::clone(hub));
        move || super::no_signal::follow_camera_health(health.clone(), Arc::clone(&hub))
    };
    let status_tx = wiring.status;
    let wiring_rest = WiringRest {
        commands_tx: wiring.commands_tx,
        control: wiring.control,
    };
    let mut handles = vec![
        tasks.spawn_restarting("control", apply),
        tasks.spawn_restarting("frame publisher", publish),
        tasks.spawn_restarting("camera health", relay),
        tasks.spawn_restarting("no signal", no_signal),
        tasks.spawn_restarting("status", move || {
            status::run(status_source.clone(), status_tx.clone())
        }),
    ];
    handles.extend(spawn_mqtt_control(config, mqtt, &wiring_rest, &tasks));
    handles.extend(spawn_home_assistant(config, mqtt, status_updates, &tasks));
    handles
}

/// Control over MQTT, when a control topic is configured.
fn spawn_mqtt_control(
    config: &Config,
    mqtt: &Client,
    wiring: &WiringRest,
    tasks: &Arc<Supervisor>,
) -> Option<tokio::task::JoinHandle<()>> {
    let topic = config.control_topic.as_ref()?;
    let started = crate::control::mqtt::start(
        mqtt,
        topic,
        wiring.commands_tx.clone(),
        Arc::clone(&wiring.control),
    );
    match started {
        Ok(worker) => Some(tasks.spawn_restarting("mqtt control", move || worker.clone().run())),
        Err(e) => {
            tracing::warn!("MQTT control on {topic} not started: {e}");
            None
        }
    }
}

/// Home Assistant discovery and state, when configured.
fn spawn_home_assistant(
    config: &Config,
    mqtt: &Client,
    status_updates: watch::Receiver<Status>,
    tasks: &Arc<Supervisor>,
) -> Option<tokio::task::JoinHandle<()>> {
    let prefix = config.ha_prefix.as_ref()?;
    let announce = crate::home_assistant::Announce {
        prefix: prefix.clone(),
        client_id: config.client_id.clone(),
        health_topic: tars_mqtt::topic::health(&config.service_name),
        frame_topic: config.frame_topic.clone(),
        control_topic: config.control_topic.clone(),
        max_rate_hz: config.fps,
    };
    if announce.control_topic.is_none() {
        tracing::warn!(
            "Home Assistant: control over MQTT is off (--control-topic is empty): no controls announced"
        );
    }
    let mqtt = mqtt.clone();
    Some(tasks.spawn_restarting("home assistant", move || {
        crate::home_assistant::run(announce.clone(), mqtt.clone(), status_updates.clone())
    }))
}
