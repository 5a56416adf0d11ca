//! A camera control's value as the configuration and requests give it,
//! before any camera is asked: the camera side checks it against what the
//! camera offers (`capture::controls`).

use serde_json::Value;

/// A value as a request gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlValue {
    Number(i64),
    Bool(bool),
    /// A menu item's name (or a number or boolean written as text).
    Text(String),
}

impl ControlValue {
    /// From JSON: a whole number, a boolean or a string.
    #[must_use]
    pub fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(Self::Bool(*b)),
            Value::Number(n) => n.as_i64().map(Self::Number),
            Value::String(s) => Some(Self::Text(s.clone())),
            _ => None,
        }
    }

    /// From text (`--control NAME=VALUE`, a config file).
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        let t = text.trim();
        if let Ok(n) = t.parse::<i64>() {
            return Self::Number(n);
        }
        match t {
            "true" => Self::Bool(true),
            "false" => Self::Bool(false),
            _ => Self::Text(t.to_owned()),
        }
    }
}

impl std::fmt::Display for ControlValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(s) => write!(f, "{}", crate::text::quote(s)),
        }
    }
}

/// Parse `NAME=VALUE` (`--control`, `CAMERA_CONTROLS`).
///
/// # Errors
/// No `=`, or an empty name.
pub fn parse_assignment(text: &str) -> Result<(String, ControlValue), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!("{}: expected NAME=VALUE", crate::text::quote(text)));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{}: the name is empty", crate::text::quote(text)));
    }
    Ok((name.to_owned(), ControlValue::from_text(value)))
}
