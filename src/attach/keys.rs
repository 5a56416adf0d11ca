//! Keys over HTTP: each command becomes a `POST /control` body, computed
//! from the values the service last reported (a control reply updates them
//! at once, so two quick `+` make two steps). A request of the controls
//! view goes as it is, its outcome back to the view, and the controls are
//! read again from `/controls` once it applied.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::client::Target;
use crate::capture::controls::{ControlInfo, ControlValue, ControlsError};
use crate::control::{Applied, Command, ControlError, ControlRequest, ControlState, step_rate};
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
        Command::SaveSettings => json!({ "save": true }),
        Command::ReconnectMqtt => json!({ "reconnect": true }),
        Command::Rotate => json!({ "rotation": (status.capture.rotation + 90) % 360 }),
        Command::Apply(..) | Command::Quit => return None,
    };
    Some(body)
}

/// A request of the controls view as a `POST /control` body.
#[must_use]
pub fn request_body(request: &ControlRequest) -> Value {
    let mut body = serde_json::Map::new();
    if let Some(q) = request.quality {
        body.insert("quality".into(), json!(q));
    }
    if let Some(r) = request.mqtt_rate {
        body.insert("mqtt_rate".into(), json!(r));
    }
    if let Some(p) = request.paused {
        body.insert("paused".into(), json!(p));
    }
    if request.save {
        body.insert("save".into(), json!(true));
    }
    if request.snapshot {
        body.insert("snapshot".into(), json!(true));
    }
    if request.reconnect {
        body.insert("reconnect".into(), json!(true));
    }
    if !request.controls.is_empty() {
        let controls: serde_json::Map<String, Value> = request
            .controls
            .iter()
            .map(|(name, value)| {
                let v = match value {
                    ControlValue::Number(n) => json!(n),
                    ControlValue::Bool(b) => json!(b),
                    ControlValue::Text(t) => json!(t),
                };
                (name.clone(), v)
            })
            .collect();
        body.insert("controls".into(), Value::Object(controls));
    }
    let m = &request.mode;
    if let Some((w, h)) = m.size {
        body.insert("width".into(), json!(w));
        body.insert("height".into(), json!(h));
    }
    let keys = [
        ("fps", m.fps.map(|f| json!(f))),
        ("rotation", m.rotation.map(|r| json!(r))),
        ("flip_h", m.flip_h.map(|f| json!(f))),
        ("flip_v", m.flip_v.map(|f| json!(f))),
        ("device", m.device.as_ref().map(|d| json!(d))),
    ];
    for (key, value) in keys {
        if let Some(v) = value {
            body.insert(key.into(), v);
        }
    }
    Value::Object(body)
}

/// Why a `POST /control` did not apply.
enum PostError {
    /// No answer (connection, timeout).
    NotSent(String),
    /// The service answered this status with this error.
    Refused(u16, String),
}

impl PostError {
    fn text(&self) -> &str {
        match self {
            Self::NotSent(why) | Self::Refused(_, why) => why,
        }
    }
}

/// `POST /control` with `body`: the service's answer, or why there is none.
async fn post(target: &Target, body: &Value) -> Result<Value, PostError> {
    let target = target.clone();
    let body = body.to_string();
    let sent = tokio::task::spawn_blocking(move || target.post_json("/control", &body)).await;
    let reply = match sent {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => return Err(PostError::NotSent(e.to_string())),
        Err(e) => return Err(PostError::NotSent(e.to_string())),
    };
    let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if reply.status != 200 {
        let error = answer["error"].as_str().map_or_else(
            || String::from_utf8_lossy(&reply.body).trim().to_owned(),
            str::to_owned,
        );
        return Err(PostError::Refused(reply.status, error));
    }
    Ok(answer)
}

/// A refusal of the control `name`, from the text the service answered
/// (`controls: NAME: why`, or any other reason, or why nothing was sent),
/// so that it reads as an in-process refusal does.
#[must_use]
pub fn refused(name: &str, text: &str) -> ControlError {
    let text = text.strip_prefix("controls: ").unwrap_or(text);
    let why = text
        .strip_prefix(name)
        .and_then(|t| t.strip_prefix(": "))
        .unwrap_or(text);
    ControlError::Controls(ControlsError::Refused {
        name: name.to_owned(),
        why: why.to_owned(),
    })
}

/// The mode now and the source's modes, as `GET /modes` serves them.
///
/// # Errors
/// No answer, not 200, or not the modes.
pub fn fetch_modes(target: &Target) -> Result<crate::capture::mode::ModesView, String> {
    let reply = target.get("/modes").map_err(|e| e.to_string())?;
    if reply.status != 200 {
        return Err(format!("/modes answered {}", reply.status));
    }
    serde_json::from_slice(&reply.body).map_err(|e| format!("/modes: {e}"))
}

/// The camera's controls as `GET /controls` serves them.
///
/// # Errors
/// No answer, not 200, or not a list of controls.
pub fn fetch_controls(target: &Target) -> Result<Vec<ControlInfo>, String> {
    #[derive(serde::Deserialize)]
    struct Body {
        controls: Vec<ControlInfo>,
    }
    let reply = target.get("/controls").map_err(|e| e.to_string())?;
    if reply.status != 200 {
        return Err(format!("/controls answered {}", reply.status));
    }
    serde_json::from_slice::<Body>(&reply.body)
        .map(|b| b.controls)
        .map_err(|e| format!("/controls: {e}"))
}

/// Send a request of the controls view; its outcome goes to its reply.
async fn apply(
    target: &Target,
    request: &ControlRequest,
    status: &watch::Sender<Status>,
) -> Result<Applied, ControlError> {
    let name = request
        .controls
        .first()
        .map_or("control", |(n, _)| n.as_str());
    let answer = post(target, &request_body(request))
        .await
        .map_err(|e| refused(name, e.text()))?;
    let applied = match &answer["applied"] {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    let now = &answer["status"];
    let shown = status.borrow().clone();
    let state = ControlState {
        quality: now["quality"]
            .as_u64()
            .and_then(|q| u8::try_from(q).ok())
            .unwrap_or(shown.encoder.quality),
        mqtt_rate: now["mqtt_rate"].as_f64().unwrap_or(shown.mqtt.rate_hz),
        max_mqtt_rate: now["max_mqtt_rate"]
            .as_f64()
            .unwrap_or(shown.capture.target_fps),
        paused: now["paused"].as_bool().unwrap_or(shown.mqtt.paused),
        last_saved: now["last_saved"].as_str().map(str::to_owned),
    };
    // Read them again: one change may change others (an automatic mode
    // makes its manual value active).
    let t = target.clone();
    if let Ok(Ok(controls)) = tokio::task::spawn_blocking(move || fetch_controls(&t)).await {
        status.send_if_modified(|s| {
            let changed = s.controls != controls;
            s.controls = controls;
            changed
        });
    }
    Ok(Applied {
        applied,
        status: state,
    })
}

/// How long a value the service just confirmed is trusted over `/status`,
/// which may have been taken before the change (it is refreshed a few
/// times a second).
const ANSWER_FRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// The quality and rotation the service last confirmed, and when; when
/// that service started, as last polled then.
#[derive(Debug, Default)]
struct Confirmed {
    quality: Option<(u8, std::time::Instant)>,
    rotation: Option<(u16, std::time::Instant)>,
    started_at: f64,
}

impl Confirmed {
    /// `status` with the values confirmed within [`ANSWER_FRESH`], so two
    /// quick keys make two steps even when a poll brought an older status
    /// in between. A status of a service started at another time is of a
    /// restarted one: what the one before confirmed says nothing about it.
    fn over(&self, status: &Status) -> Status {
        let mut s = status.clone();
        #[expect(
            clippy::float_cmp,
            reason = "the same value, copied: one run of the service"
        )]
        if status.started_at != self.started_at {
            return s;
        }
        let fresh = |at: std::time::Instant| at.elapsed() < ANSWER_FRESH;
        if let Some((q, _)) = self.quality.filter(|(_, at)| fresh(*at)) {
            s.encoder.quality = q;
        }
        if let Some((r, _)) = self.rotation.filter(|(_, at)| fresh(*at)) {
            s.capture.rotation = r;
        }
        s
    }
}

/// Send the commands as they come, one at a time, until the channel closes.
pub(super) async fn send_commands(
    target: Target,
    mut commands: mpsc::Receiver<Command>,
    status: Arc<watch::Sender<Status>>,
) {
    let mut confirmed = Confirmed::default();
    while let Some(command) = commands.recv().await {
        if let Command::Apply(request, reply) = &command {
            reply.send(apply(&target, request, &status).await);
            continue;
        }
        let shown = confirmed.over(&status.borrow());
        let Some(body) = body_for(&command, &shown) else {
            continue;
        };
        let answer = match post(&target, &body).await {
            Ok(answer) => answer,
            Err(PostError::NotSent(e)) => {
                tracing::warn!("control not sent: {e}");
                continue;
            }
            Err(PostError::Refused(code, error)) => {
                tracing::warn!("control refused ({code}): {error}");
                continue;
            }
        };
        let now = &answer["status"];
        let turned = answer["applied"]["mode"]["rotation"]
            .as_u64()
            .and_then(|r| u16::try_from(r).ok());
        let quality = now["quality"].as_u64().and_then(|q| u8::try_from(q).ok());
        let at = std::time::Instant::now();
        confirmed.started_at = status.borrow().started_at;
        if let Some(r) = turned {
            confirmed.rotation = Some((r, at));
        }
        if let Some(q) = quality {
            confirmed.quality = Some((q, at));
        }
        status.send_modify(|s| {
            if let Some(r) = turned {
                s.capture.rotation = r;
            }
            if let Some(q) = quality {
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
mod tests;
