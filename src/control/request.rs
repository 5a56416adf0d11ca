//! A control request from outside (`POST /control`, the MQTT control
//! topic): parsed and checked in full before anything is applied, so a
//! request either applies as a whole or changes nothing.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

/// The keys a request may hold (MQTT also takes `id`).
pub const KEYS: &[&str] = &[
    "quality",
    "mqtt_rate",
    "paused",
    "snapshot",
    "reconnect",
    "controls",
    "save",
    "width",
    "height",
    "fps",
    "rotation",
    "flip_h",
    "flip_v",
    "device",
];

/// A checked request: `None` / `false` leaves that setting alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlRequest {
    /// JPEG quality, 1–100.
    pub quality: Option<u8>,
    /// MQTT frame rate in Hz (0, or at least `MIN_MQTT_RATE_HZ`; capped at
    /// the fps when applied).
    pub mqtt_rate: Option<f64>,
    pub paused: Option<bool>,
    /// Save the newest frame to a file, as the `s` key does.
    pub snapshot: bool,
    /// Drop the MQTT connection and connect again now.
    pub reconnect: bool,
    /// The camera's own controls, by name (checked against the camera when
    /// applied).
    pub controls: Vec<(String, crate::capture::controls::ControlValue)>,
    /// Write the live settings into the config file (after the rest of
    /// the request).
    pub save: bool,
    /// Size, rate, device and orientation (the source opens again for the
    /// first three).
    pub mode: crate::capture::mode::ModeChange,
}

/// Why no snapshot was saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("no frame to save yet")]
    NoFrame,
    #[error("cannot save {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("not saved: disk nearly full ({free_mb} MB free in {dir})")]
    DiskFull { dir: String, free_mb: u64 },
}

/// Why a request was refused; the message names the key and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("the body must be a JSON object, e.g. {{\"quality\": 70}}")]
    NotObject,
    #[error("{0}: unknown key (known: {known})", known = KEYS.join(", "))]
    UnknownKey(String),
    #[error("{key}: {why} (got {got})")]
    Invalid {
        key: &'static str,
        why: &'static str,
        got: String,
    },
    #[error("nothing to do: give at least one of {}", KEYS.join(", "))]
    Empty,
    #[error("request too large: {0} bytes (max 65536)")]
    TooLarge(usize),
    #[error("snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
    #[error("controls: {0}")]
    Controls(#[from] crate::capture::controls::ControlsError),
    #[error("save: {0}")]
    Save(#[from] super::save::SaveError),
    #[error("mode: {0}")]
    Mode(#[from] crate::capture::mode::ModeError),
    #[error(
        "controls and a new size, rate or device cannot be changed in one request: send the mode first (controls are set again after it)"
    )]
    Together,
    #[error("the service is busy: command channel full, try again")]
    Busy,
    #[error("the service is not applying commands (stopping)")]
    Stopped,
}

/// The settings after a request, as the response's `status` shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlState {
    pub quality: u8,
    pub mqtt_rate: f64,
    /// The most `mqtt_rate` can be (the capture fps).
    pub max_mqtt_rate: f64,
    pub paused: bool,
    pub last_saved: Option<String>,
}

/// What a request did: the values it set (`mqtt_rate` after the cap,
/// `snapshot` as the saved path) and the settings now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub applied: Map<String, Value>,
    pub status: ControlState,
}

/// Called once with the outcome, on the task that applies commands.
type ReplyFn = dyn Fn(Result<Applied, ControlError>) + Send + Sync;

/// Where the outcome of a request goes (an HTTP thread, an MQTT result).
#[derive(Clone)]
pub struct Reply(Arc<ReplyFn>);

impl Reply {
    pub fn new(f: impl Fn(Result<Applied, ControlError>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub fn send(&self, outcome: Result<Applied, ControlError>) {
        (self.0)(outcome);
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply")
    }
}

impl PartialEq for Reply {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Parse a request body. `allow_id` accepts an `"id"` (any JSON value but
/// an object or array), returned beside the request.
///
/// # Errors
/// Bad JSON, not an object, an unknown key, a value of the wrong type or
/// out of range, or no key at all.
pub fn parse(body: &[u8], allow_id: bool) -> Result<(ControlRequest, Option<Value>), ControlError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ControlError::Json(quote_error(&e)))?;
    let Value::Object(map) = value else {
        return Err(ControlError::NotObject);
    };
    let mut request = ControlRequest::default();
    let mut id = None;
    let mut any = false;
    let mut size = super::mode_keys::Pending::default();
    for (key, value) in map {
        match key.as_str() {
            "quality" => request.quality = Some(quality(&value)?),
            "mqtt_rate" => request.mqtt_rate = Some(rate(&value)?),
            "paused" => request.paused = Some(boolean("paused", &value)?),
            "snapshot" => request.snapshot = boolean("snapshot", &value)?,
            "reconnect" => request.reconnect = boolean("reconnect", &value)?,
            "controls" => request.controls = controls(&value)?,
            "save" => request.save = boolean("save", &value)?,
            "id" if allow_id => {
                if value.is_object() || value.is_array() {
                    return Err(invalid("id", "must be a string or a number", &value));
                }
                id = Some(value);
                continue;
            }
            _ => {
                if !super::mode_keys::read(&key, &value, &mut request.mode, &mut size)? {
                    return Err(ControlError::UnknownKey(crate::text::quote(&key)));
                }
            }
        }
        any = true;
    }
    super::mode_keys::finish(size, &mut request.mode)?;
    if request.mode.reopens() && !request.controls.is_empty() {
        // A failed control could not undo the new mode: one at a time.
        return Err(ControlError::Together);
    }
    if any {
        Ok((request, id))
    } else {
        Err(ControlError::Empty)
    }
}

/// A JSON error as text, cut like a quoted value.
fn quote_error(e: &serde_json::Error) -> String {
    crate::text::clip(&e.to_string(), 2 * crate::text::MAX_QUOTE_BYTES)
}

pub(super) fn invalid(key: &'static str, why: &'static str, got: &Value) -> ControlError {
    ControlError::Invalid {
        key,
        why,
        got: crate::text::quote_json(got),
    }
}

fn quality(value: &Value) -> Result<u8, ControlError> {
    value
        .as_u64()
        .filter(|q| (1..=100).contains(q))
        .and_then(|q| u8::try_from(q).ok())
        .ok_or_else(|| invalid("quality", "must be 1 to 100", value))
}

fn rate(value: &Value) -> Result<f64, ControlError> {
    value
        .as_f64()
        .filter(|r| super::valid_rate(*r))
        .ok_or_else(|| {
            invalid(
                "mqtt_rate",
                "must be 0 (off) or 0.01 to the fps, in Hz",
                value,
            )
        })
}

/// `{"brightness": 10, "auto_exposure": "manual", "white_balance_automatic": false}`.
fn controls(
    value: &Value,
) -> Result<Vec<(String, crate::capture::controls::ControlValue)>, ControlError> {
    const WHY: &str = "must be an object of control names and values, e.g. {\"brightness\": 10}";
    let Value::Object(map) = value else {
        return Err(invalid("controls", WHY, value));
    };
    if map.is_empty() {
        return Err(invalid("controls", WHY, value));
    }
    map.iter()
        .map(|(name, v)| {
            crate::capture::controls::ControlValue::from_json(v)
                .map(|cv| (name.clone(), cv))
                .ok_or_else(|| {
                    invalid(
                        "controls",
                        "each value must be a whole number, true or false, or a menu item's name",
                        v,
                    )
                })
        })
        .collect()
}

pub(super) fn boolean(key: &'static str, value: &Value) -> Result<bool, ControlError> {
    value
        .as_bool()
        .ok_or_else(|| invalid(key, "must be true or false", value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        match parse(body.as_bytes(), false) {
            Ok(r) => panic!("accepted {body}: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn takes_every_key() {
        let (r, id) = parse(
            br#"{"quality":55,"mqtt_rate":0.5,"paused":true,"snapshot":true,"reconnect":false}"#,
            false,
        )
        .expect("valid");
        assert_eq!(id, None);
        assert_eq!(
            r,
            ControlRequest {
                quality: Some(55),
                mqtt_rate: Some(0.5),
                paused: Some(true),
                snapshot: true,
                reconnect: false,
                controls: Vec::new(),
                save: false,
                mode: crate::capture::mode::ModeChange::default(),
            }
        );
    }

    #[test]
    fn names_the_key_and_the_value() {
        assert_eq!(
            err(r#"{"quality":101}"#),
            "quality: must be 1 to 100 (got 101)"
        );
        assert_eq!(err(r#"{"quality":0}"#), "quality: must be 1 to 100 (got 0)");
        assert_eq!(
            err(r#"{"quality":"high"}"#),
            "quality: must be 1 to 100 (got \"high\")"
        );
        assert_eq!(
            err(r#"{"quality":50.5}"#),
            "quality: must be 1 to 100 (got 50.5)"
        );
        assert!(err(r#"{"mqtt_rate":-1}"#).starts_with("mqtt_rate: must be"));
        assert_eq!(
            err(r#"{"mqtt_rate":1e-300}"#),
            "mqtt_rate: must be 0 (off) or 0.01 to the fps, in Hz (got 1e-300)"
        );
        assert!(err(r#"{"mqtt_rate":0.001}"#).starts_with("mqtt_rate: must be"));
        assert!(err(r#"{"paused":"yes"}"#).starts_with("paused: must be true or false"));
        assert!(err(r#"{"colour":1}"#).starts_with("colour: unknown key"));
        assert!(err(r#"{"id":1}"#).starts_with("id: unknown key"));
        assert!(err("{}").starts_with("nothing to do"));
        assert!(err("[1]").starts_with("the body must be a JSON object"));
        assert!(err("{quality").starts_with("invalid JSON"));
        assert!(err("").starts_with("invalid JSON"));
    }

    #[test]
    fn a_huge_rejected_value_or_key_is_quoted_in_at_most_64_bytes() {
        let huge = "x".repeat(5_000_000);
        let e = err(&format!(r#"{{"quality":"{huge}"}}"#));
        assert!(e.starts_with("quality: must be 1 to 100 (got \"xxx"), "{e}");
        assert!(e.ends_with("…)"), "{e}");
        assert!(e.len() < 120, "{}", e.len());
        let e = err(&format!(r#"{{"{huge}":1}}"#));
        assert!(e.len() < 300, "{}", e.len());
        assert!(e.starts_with("xxxx") && e.contains("…: unknown key"), "{e}");
    }

    #[test]
    fn mqtt_requests_may_carry_an_id() {
        let (r, id) = parse(br#"{"id":"a-1","paused":false}"#, true).expect("valid");
        assert_eq!(r.paused, Some(false));
        assert_eq!(id, Some(Value::from("a-1")));
        assert!(parse(br#"{"id":{"x":1},"paused":false}"#, true).is_err());
        // An id alone asks for nothing.
        assert_eq!(parse(br#"{"id":7}"#, true), Err(ControlError::Empty));
    }
}
