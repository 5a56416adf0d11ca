//! Applies the commands of the service's one command channel: quality,
//! MQTT rate and pause, snapshot, reconnect, quit.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use tokio::sync::{mpsc, watch};

use super::{Command, Controls, step_rate};
use crate::capture::thread::CaptureShared;
use crate::frame::FrameHub;
use crate::mqtt::Client;

/// Apply commands until the channel closes.
pub async fn run(
    mut commands: mpsc::Receiver<Command>,
    capture: Arc<CaptureShared>,
    controls: Arc<Controls>,
    hub: Arc<FrameHub>,
    mqtt: Client,
    quit: watch::Sender<bool>,
) {
    while let Some(command) = commands.recv().await {
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
            Command::SaveSnapshot => save_snapshot(&hub, &controls).await,
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

/// Write the newest frame to `snapshot-<unix ms>-<seq>.jpg` in the working directory.
async fn save_snapshot(hub: &FrameHub, controls: &Controls) {
    let Some(frame) = hub.latest() else {
        tracing::warn!("no frame to save yet");
        return;
    };
    let ms = frame
        .captured_wall
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let path = std::env::current_dir()
        .unwrap_or_else(|_| PathBuf::from("."))
        .join(format!("snapshot-{ms}-{}.jpg", frame.seq));
    match tokio::fs::write(&path, &frame.jpeg).await {
        Ok(()) => {
            let shown = path.display().to_string();
            tracing::info!("saved {shown} ({} bytes)", frame.jpeg.len());
            *controls
                .last_saved
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(shown);
        }
        Err(e) => tracing::warn!("cannot save {}: {e}", path.display()),
    }
}
