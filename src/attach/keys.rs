//! Keys over HTTP: each command becomes a `POST /control` body, computed
//! from the values the service last reported (a control reply updates them
//! at once, so two quick `+` make two steps).

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::client::Target;
use crate::control::{Command, step_rate};
use crate::stats::Status;

/// The control request for a key's command; `None` for what is not sent
/// (quitting the attached UI leaves the service running).
#[must_use]
pub fn body_for(command: &Command, status: &Status) -> Option<Value> {
    let body = match command {
        Command::AdjustQuality(delta) => {
            let q = (i32::from(status.encoder.quality) + delta).clamp(1, 100);
            json!({ "quality": q })
        }
        Command::SetMqttRate(hz) => json!({ "mqtt_rate": hz }),
        Command::StepMqttRate(up) => {
            let max = status.capture.target_fps;
            json!({ "mqtt_rate": step_rate(status.mqtt.rate_hz, *up, max) })
        }
        Command::ToggleMqttPause => json!({ "paused": !status.mqtt.paused }),
        Command::SaveSnapshot => json!({ "snapshot": true }),
        Command::ReconnectMqtt => json!({ "reconnect": true }),
        Command::Apply(..) | Command::Quit => return None,
    };
    Some(body)
}

/// Send the commands as they come, one at a time, until the channel closes.
pub(super) async fn send_commands(
    target: Target,
    mut commands: mpsc::Receiver<Command>,
    status: Arc<watch::Sender<Status>>,
) {
    while let Some(command) = commands.recv().await {
        let Some(body) = body_for(&command, &status.borrow()) else {
            continue;
        };
        let target = target.clone();
        let sent =
            tokio::task::spawn_blocking(move || target.post_json("/control", &body.to_string()))
                .await;
        let reply = match sent {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                tracing::warn!("control not sent: {e}");
                continue;
            }
            Err(e) => {
                tracing::warn!("control not sent: {e}");
                continue;
            }
        };
        let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        if reply.status != 200 {
            let error = answer["error"].as_str().map_or_else(
                || String::from_utf8_lossy(&reply.body).trim().to_owned(),
                str::to_owned,
            );
            tracing::warn!("control refused ({}): {error}", reply.status);
            continue;
        }
        let now = &answer["status"];
        status.send_modify(|s| {
            if let Some(q) = now["quality"].as_u64().and_then(|q| u8::try_from(q).ok()) {
                s.encoder.quality = q;
            }
            if let Some(r) = now["mqtt_rate"].as_f64() {
                s.mqtt.rate_hz = r;
            }
            if let Some(p) = now["paused"].as_bool() {
                s.mqtt.paused = p;
            }
            if let Some(path) = now["last_saved"].as_str() {
                s.encoder.last_saved = Some(path.to_owned());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_absolute_requests() {
        let mut s = Status::default();
        s.encoder.quality = 98;
        s.capture.target_fps = 10.0;
        s.mqtt.rate_hz = 5.0;
        let body = |c: Command| body_for(&c, &s).map(|v| v.to_string());
        assert_eq!(
            body(Command::AdjustQuality(5)).as_deref(),
            Some(r#"{"quality":100}"#)
        );
        assert_eq!(
            body(Command::AdjustQuality(-5)).as_deref(),
            Some(r#"{"quality":93}"#)
        );
        assert_eq!(
            body(Command::StepMqttRate(true)).as_deref(),
            Some(r#"{"mqtt_rate":10.0}"#)
        );
        assert_eq!(
            body(Command::ToggleMqttPause).as_deref(),
            Some(r#"{"paused":true}"#)
        );
        assert_eq!(
            body(Command::SaveSnapshot).as_deref(),
            Some(r#"{"snapshot":true}"#)
        );
        assert_eq!(
            body(Command::ReconnectMqtt).as_deref(),
            Some(r#"{"reconnect":true}"#)
        );
        assert_eq!(body(Command::Quit), None);
    }
}
