//! Applies the commands of the service's one command channel: quality,
//! MQTT rate and pause, snapshot, reconnect, quit.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::request::SnapshotError;
use super::{Applied, Command, ControlError, ControlRequest, ControlState, Controls, step_rate};
use crate::capture::thread::CaptureShared;
use crate::frame::FrameHub;
use tars_mqtt::Client;

/// The command channel's receiving end, shared so that the task applying
/// commands can be started again after a failure.
pub type Commands = Arc<tokio::sync::Mutex<mpsc::Receiver<Command>>>;

/// Apply commands until the channel closes.
pub async fn run(
    commands: Commands,
    capture: Arc<CaptureShared>,
    controls: Arc<Controls>,
    hub: Arc<FrameHub>,
    mqtt: Client,
    quit: watch::Sender<bool>,
) {
    let mut commands = commands.lock_owned().await;
    while let Some(command) = commands.recv().await {
        if !matches!(command, Command::Apply(..) | Command::Quit) {
            controls.keys_applied.fetch_add(1, Ordering::Relaxed);
        }
        match command {
            Command::AdjustQuality(delta) => {
                let q = (i32::from(capture.quality()) + delta).clamp(1, 100);
                capture.set_quality(u8::try_from(q).unwrap_or(80));
                tracing::info!("JPEG quality {q}");
            }
            Command::SetMqttRate(hz) => {
                let set = controls.set_mqtt_rate_hz(hz);
                tracing::info!("MQTT frame rate {set} Hz");
            }
            Command::StepMqttRate(up) => {
                let set = controls.set_mqtt_rate_hz(step_rate(
                    controls.mqtt_rate_hz(),
                    up,
                    controls.max_rate_hz(),
                ));
                tracing::info!("MQTT frame rate {set} Hz");
            }
            Command::ToggleMqttPause => {
                let paused = !controls.mqtt_paused.fetch_xor(true, Ordering::Relaxed);
                tracing::info!("MQTT frames {}", if paused { "paused" } else { "resumed" });
            }
            Command::SaveSnapshot => {
                let _ = save_snapshot(&hub, &controls).await;
            }
            Command::SaveSettings => {
                let parts = Parts {
                    capture: &capture,
                    controls: &controls,
                    hub: &hub,
                    mqtt: &mqtt,
                };
                // Logged either way; the Events pane shows it.
                if let Err(e) = save_settings(&parts) {
                    tracing::warn!("{e}");
                }
            }
            Command::Apply(request, reply) => {
                let parts = Parts {
                    capture: &capture,
                    controls: &controls,
                    hub: &hub,
                    mqtt: &mqtt,
                };
                reply.send(apply_request(&request, &parts).await);
            }
            Command::ReconnectMqtt => {
                tracing::info!("MQTT: reconnecting now");
                mqtt.reconnect_now();
            }
            Command::Rotate => {
                let turn = crate::capture::mode::ModeChange {
                    rotation: Some((capture.live_mode().rotation + 90) % 360),
                    ..Default::default()
                };
                if let Err(e) = capture.change_mode(turn).await {
                    tracing::warn!("rotation: {e}");
                }
            }
            Command::Quit => {
                quit.send_replace(true);
            }
        }
    }
}

/// What a request changes.
struct Parts<'a> {
    capture: &'a CaptureShared,
    controls: &'a Controls,
    hub: &'a FrameHub,
    mqtt: &'a Client,
}

/// Apply a whole request. The snapshot (the one step that can fail) goes
/// first: when it fails nothing else is changed.
async fn apply_request(
    request: &ControlRequest,
    parts: &Parts<'_>,
) -> Result<Applied, ControlError> {
    let mut applied = Map::new();
    // Without a file nothing is changed: the answer shows the TOML instead.
    if request.save
        && let Some(text) = save_text_without_file(parts)
    {
        return Err(ControlError::Save(super::save::SaveError::NoFile(text)));
    }
    if request.snapshot {
        let path = save_snapshot(parts.hub, parts.controls)
            .await
            .map_err(ControlError::from)?;
        applied.insert("snapshot".into(), Value::from(path));
    }
    if !request.controls.is_empty() {
        let now = parts.capture.set_controls(request.controls.clone()).await?;
        let set: Map<String, Value> = request
            .controls
            .iter()
            .filter_map(|(name, _)| {
                let c = now.iter().find(|c| &c.name == name)?;
                Some((name.clone(), Value::from(c.value_text())))
            })
            .collect();
        applied.insert("controls".into(), Value::Object(set));
    }
    if !request.mode.is_empty() {
        let live = parts.capture.change_mode(request.mode.clone()).await?;
        parts.controls.set_max_rate_hz(live.fps);
        applied.insert(
            "mode".into(),
            serde_json::to_value(live).unwrap_or_default(),
        );
    }
    if let Some(q) = request.quality {
        parts.capture.set_quality(q);
        tracing::info!("JPEG quality {q}");
        applied.insert("quality".into(), Value::from(q));
    }
    if let Some(hz) = request.mqtt_rate {
        let set = parts.controls.set_mqtt_rate_hz(hz);
        tracing::info!("MQTT frame rate {set} Hz");
        applied.insert("mqtt_rate".into(), Value::from(set));
    }
    if let Some(paused) = request.paused {
        parts.controls.mqtt_paused.store(paused, Ordering::Relaxed);
        tracing::info!("MQTT frames {}", if paused { "paused" } else { "resumed" });
        applied.insert("paused".into(), Value::from(paused));
    }
    if request.reconnect {
        tracing::info!("MQTT: reconnecting now");
        parts.mqtt.reconnect_now();
        applied.insert("reconnect".into(), Value::from(true));
    }
    if request.save {
        let path = save_settings(parts)?;
        applied.insert("save".into(), Value::from(path));
    }
    Ok(Applied {
        applied,
        status: ControlState {
            quality: parts.capture.quality(),
            mqtt_rate: parts.controls.mqtt_rate_hz(),
            max_mqtt_rate: parts.controls.max_rate_hz(),
            paused: parts.controls.mqtt_paused(),
            last_saved: parts.controls.last_saved(),
        },
    })
}

/// The live settings as `{"save": true}` writes them.
fn live_settings(parts: &Parts<'_>) -> super::save::LiveSettings {
    let fixed = &parts.controls.save_to;
    // The mode asked (not what the camera gave: that is what a restart
    // asks again), or the configured one for a source that cannot change.
    let asked = parts.capture.modes().1;
    let live = parts.capture.live_mode();
    super::save::LiveSettings {
        quality: parts.capture.quality(),
        mqtt_rate: parts.controls.mqtt_rate_hz(),
        width: asked.as_ref().map_or(fixed.width, |a| a.width),
        height: asked.as_ref().map_or(fixed.height, |a| a.height),
        fps: asked.as_ref().map_or(fixed.fps, |a| a.fps),
        rotation: live.rotation,
        flip_h: live.flip_h,
        flip_v: live.flip_v,
        device: asked.and_then(|a| a.device),
        controls: parts.capture.desired_controls(),
    }
}

/// The settings as TOML when there is no file to save into.
fn save_text_without_file(parts: &Parts<'_>) -> Option<String> {
    let no_file = parts.controls.save_to.file.is_none();
    no_file.then(|| super::save::as_toml(&live_settings(parts)))
}

/// Write the live settings into the config file; its path.
fn save_settings(parts: &Parts<'_>) -> Result<String, ControlError> {
    let live = live_settings(parts);
    let Some(file) = parts.controls.save_to.file.clone() else {
        return Err(super::save::SaveError::NoFile(super::save::as_toml(&live)).into());
    };
    let path = super::save::save(&file, &live)?;
    let shown = path.display().to_string();
    tracing::info!("settings saved into {shown}");
    Ok(shown)
}

/// Save the newest frame in the snapshot folder; returns its path, or why not.
async fn save_snapshot(hub: &FrameHub, controls: &Controls) -> Result<String, SnapshotError> {
    let Some(frame) = hub.latest() else {
        tracing::warn!("no frame to save yet");
        return Err(SnapshotError::NoFrame);
    };
    match controls.snapshots.save(&frame).await {
        Ok(shown) => {
            tracing::info!("saved {shown} ({} bytes)", frame.jpeg.len());
            *controls
                .last_saved
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(shown.clone());
            Ok(shown)
        }
        Err(error) => {
            tracing::warn!("{error}");
            Err(error)
        }
    }
}
