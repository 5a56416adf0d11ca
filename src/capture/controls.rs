//! The camera's own controls (brightness, exposure, white balance, …): what
//! a source offers, and requests to change them, checked as a whole before
//! anything is written.
//!
//! Names are the driver's in `v4l2-ctl`'s form: lower case, words joined by
//! `_` ("Exposure Time, Absolute" is `exposure_time_absolute`).

use serde::{Deserialize, Serialize};

pub use crate::config::control_value::{ControlValue, parse_assignment};

/// What kind of value a control takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    Integer,
    Boolean,
    /// One of named items, set by name or index.
    Menu,
    /// One of numbers, set by index or by the number.
    IntegerMenu,
}

/// One item of a menu: its index (what the driver stores) and its name (for
/// an integer menu, the number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    pub index: i64,
    pub name: String,
}

/// One control as the source offers it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlInfo {
    /// `v4l2-ctl`'s name: `brightness`, `auto_exposure`.
    pub name: String,
    /// The driver's own name: "Brightness", "Auto Exposure".
    pub label: String,
    #[serde(rename = "type")]
    pub kind: ControlKind,
    pub min: i64,
    pub max: i64,
    pub step: u64,
    pub default: i64,
    pub value: i64,
    /// The items of a menu, in order (empty for other kinds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub menu: Vec<MenuItem>,
    /// Set, but without effect now (exposure time while auto exposure is on).
    pub inactive: bool,
    pub read_only: bool,
    /// Held by the driver (e.g. while streaming): cannot be changed now.
    pub grabbed: bool,
    /// The source's id for it (V4L2 control id).
    #[serde(skip)]
    pub id: u32,
}

impl ControlInfo {
    /// The current value as a person reads it: the item's name for a menu.
    #[must_use]
    pub fn value_text(&self) -> String {
        match self.kind {
            ControlKind::Boolean => (self.value != 0).to_string(),
            ControlKind::Menu | ControlKind::IntegerMenu => self
                .menu
                .iter()
                .find(|m| m.index == self.value)
                .map_or_else(|| self.value.to_string(), |m| m.name.clone()),
            ControlKind::Integer => self.value.to_string(),
        }
    }

    /// What values it takes, for errors and listings.
    #[must_use]
    pub fn range_text(&self) -> String {
        match self.kind {
            ControlKind::Boolean => "true or false".to_owned(),
            ControlKind::Menu | ControlKind::IntegerMenu => {
                let items: Vec<String> = self
                    .menu
                    .iter()
                    .map(|m| format!("{} ({})", m.name, m.index))
                    .collect();
                format!("one of {}", items.join(", "))
            }
            ControlKind::Integer if self.step > 1 => {
                format!("{} to {} in steps of {}", self.min, self.max, self.step)
            }
            ControlKind::Integer => format!("{} to {}", self.min, self.max),
        }
    }
}

/// Why a change of controls was refused or failed; names the control.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlsError {
    #[error("{name}: unknown control (this camera has: {known})")]
    Unknown { name: String, known: String },
    #[error("{name}: must be {range} (got {got})")]
    OutOfRange {
        name: String,
        range: String,
        got: String,
    },
    #[error("{name}: {why}")]
    Refused { name: String, why: String },
    #[error("{name}: the driver refused it: {reason}")]
    Driver { name: String, reason: String },
    #[error("the source has no controls it can change")]
    NoControls,
    #[error("the camera is not open now (controls are kept and set when it opens)")]
    NotOpen,
    #[error("the capture thread is not answering")]
    Unavailable,
}

/// One checked write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub id: u32,
    pub name: String,
    pub kind: ControlKind,
    pub value: i64,
    /// The value before the write, to put back if a later one fails.
    pub previous: i64,
}

/// Which automatic mode makes a control inactive, for the message that
/// says what to change first (the pairs uvcvideo and most drivers have).
const MASTERS: &[(&str, &str, &str)] = &[
    ("exposure_time_absolute", "auto_exposure", "manual"),
    ("exposure_absolute", "auto_exposure", "manual"),
    (
        "white_balance_temperature",
        "white_balance_automatic",
        "false",
    ),
    ("focus_absolute", "focus_automatic_continuous", "false"),
    ("gain", "gain_automatic", "false"),
];

/// An automatic mode: written before the others in one request, so that a
/// manual value set with it lands after the mode is off.
#[must_use]
pub fn is_auto(name: &str) -> bool {
    name.contains("auto")
}

/// Check `requested` against what the source offers; the writes in the
/// order to make them (automatic modes first).
///
/// # Errors
/// The first unknown control, value of the wrong kind or out of range,
/// read-only, grabbed or inactive control (an inactive one is accepted when
/// the same request changes an automatic mode, which may activate it).
pub fn resolve(
    offered: &[ControlInfo],
    requested: &[(String, ControlValue)],
) -> Result<Vec<Write>, ControlsError> {
    if offered.is_empty() {
        return Err(ControlsError::NoControls);
    }
    let changes_auto = requested.iter().any(|(n, _)| is_auto(n));
    let mut writes = Vec::with_capacity(requested.len());
    for (name, value) in requested {
        let Some(c) = offered.iter().find(|c| &c.name == name) else {
            let known: Vec<&str> = offered.iter().map(|c| c.name.as_str()).collect();
            return Err(ControlsError::Unknown {
                name: crate::text::quote(name),
                known: known.join(", "),
            });
        };
        if c.read_only || c.grabbed {
            let why = if c.read_only {
                "read-only"
            } else {
                "held by the driver now"
            };
            return Err(refused(c, why.to_owned()));
        }
        if c.inactive && !changes_auto {
            let why = MASTERS
                .iter()
                .find(|(slave, master, _)| {
                    *slave == c.name && offered.iter().any(|o| o.name == *master)
                })
                .map_or_else(
                    || "inactive now (an automatic mode is on)".to_owned(),
                    |(_, master, manual)| {
                        format!("inactive while {master} is automatic: set {master} to {manual} first (or in the same request)")
                    },
                );
            return Err(refused(c, why));
        }
        writes.push(Write {
            id: c.id,
            name: c.name.clone(),
            kind: c.kind,
            value: checked(c, value)?,
            previous: c.value,
        });
    }
    writes.sort_by_key(|w| !is_auto(&w.name));
    Ok(writes)
}

fn refused(c: &ControlInfo, why: String) -> ControlsError {
    ControlsError::Refused {
        name: c.name.clone(),
        why,
    }
}

/// `value` as the number the driver stores, if `c` takes it.
fn checked(c: &ControlInfo, value: &ControlValue) -> Result<i64, ControlsError> {
    let bad = || ControlsError::OutOfRange {
        name: c.name.clone(),
        range: c.range_text(),
        got: value.to_string(),
    };
    match (c.kind, value) {
        (ControlKind::Boolean, ControlValue::Bool(b)) => Ok(i64::from(*b)),
        (ControlKind::Boolean, ControlValue::Number(n @ 0..=1)) => Ok(*n),
        (ControlKind::Boolean, ControlValue::Text(t)) => match t.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Ok(1),
            "false" | "off" | "no" => Ok(0),
            _ => Err(bad()),
        },
        (ControlKind::Menu | ControlKind::IntegerMenu, ControlValue::Number(n)) => c
            .menu
            .iter()
            .find(|m| m.index == *n)
            .or_else(|| {
                // An integer menu may be given by its number.
                (c.kind == ControlKind::IntegerMenu)
                    .then(|| c.menu.iter().find(|m| m.name == n.to_string()))
                    .flatten()
            })
            .map(|m| m.index)
            .ok_or_else(bad),
        (ControlKind::Menu | ControlKind::IntegerMenu, ControlValue::Text(t)) => c
            .menu
            .iter()
            .find(|m| menu_name_matches(&m.name, t))
            .map(|m| m.index)
            .ok_or_else(bad),
        (ControlKind::Integer, ControlValue::Number(n)) => {
            let on_step = c.step <= 1 || (n - c.min).unsigned_abs().is_multiple_of(c.step);
            if (c.min..=c.max).contains(n) && on_step {
                Ok(*n)
            } else {
                Err(bad())
            }
        }
        _ => Err(bad()),
    }
}

/// A menu item named loosely: "manual" finds "Manual Mode", "50hz" finds
/// "50 Hz"; case and punctuation do not count.
fn menu_name_matches(item: &str, given: &str) -> bool {
    let item = var_name(item);
    let given = var_name(given);
    !given.is_empty()
        && (item == given
            || item.strip_suffix("_mode") == Some(given.as_str())
            || item.replace('_', "") == given.replace('_', ""))
}

/// `v4l2-ctl`'s name for a control: lower case letters and digits, every
/// other run of characters one `_` ("White Balance, Automatic" →
/// `white_balance_automatic`).
#[must_use]
pub fn var_name(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut gap = false;
    for ch in label.chars() {
        if ch.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests;
