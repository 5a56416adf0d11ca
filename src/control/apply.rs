//! Applies the commands of the service's one command channel: quality,
//! MQTT rate and pause, snapshot, reconnect, quit.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::request::SnapshotError;
use super::{Applied, Command, ControlError, ControlRequest, ControlState, Controls, step_rate};
use crate::capture::thread::CaptureShared;
use crate::frame::FrameHub;
use crate::mqtt::Client;

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
                    controls.max_rate_hz,
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
    if request.snapshot {
        let path = save_snapshot(parts.hub, parts.controls)
            .await
            .map_err(ControlError::from)?;
        applied.insert("snapshot".into(), Value::from(path));
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
    Ok(Applied {
        applied,
        status: ControlState {
            quality: parts.capture.quality(),
            mqtt_rate: parts.controls.mqtt_rate_hz(),
            max_mqtt_rate: parts.controls.max_rate_hz,
            paused: parts.controls.mqtt_paused(),
            last_saved: parts.controls.last_saved(),
        },
    })
}

/// Write the newest frame to `snapshot-<unix ms>-<seq>.jpg` in the
/// snapshot directory, unless the disk is nearly full, then remove the
/// oldest beyond the newest kept; returns its path, or why not.
async fn save_snapshot(hub: &FrameHub, controls: &Controls) -> Result<String, SnapshotError> {
    let Some(frame) = hub.latest() else {
        tracing::warn!("no frame to save yet");
        return Err(SnapshotError::NoFrame);
    };
    let policy = controls.snapshots.clone();
    let ms = frame
        .captured_wall
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let dir = if policy.dir.is_absolute() {
        policy.dir.clone()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("."))
            .join(&policy.dir)
    };
    let path = dir.join(format!("snapshot-{ms}-{}.jpg", frame.seq));
    let free = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || super::snapshots::free_bytes(&dir)).await
    };
    let needed = policy
        .min_free_bytes
        .saturating_add(frame.jpeg.len() as u64);
    if let Ok(Ok(free)) = free
        && free < needed
    {
        let error = SnapshotError::DiskFull {
            dir: dir.display().to_string(),
            free_mb: free / 1_000_000,
            min_mb: policy.min_free_bytes / 1_000_000,
        };
        tracing::warn!("snapshot not saved: {error}");
        return Err(error);
    }
    match tokio::fs::write(&path, &frame.jpeg).await {
        Ok(()) => {
            let shown = path.display().to_string();
            tracing::info!("saved {shown} ({} bytes)", frame.jpeg.len());
            let keep = policy.keep;
            let _ = tokio::task::spawn_blocking(move || super::snapshots::prune(&dir, keep)).await;
            *controls
                .last_saved
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(shown.clone());
            Ok(shown)
        }
        Err(e) => {
            let error = SnapshotError::Write {
                path: path.display().to_string(),
                reason: e.to_string(),
            };
            tracing::warn!("{error}");
            Err(error)
        }
    }
}
