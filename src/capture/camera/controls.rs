//! The V4L2 controls of an open camera: read with `VIDIOC_QUERY_EXT_CTRL`
//! (and `VIDIOC_QUERYMENU`) and `VIDIOC_G_EXT_CTRLS`, written one by one
//! with `VIDIOC_S_EXT_CTRLS`, the ones already written put back when a
//! later one fails.

use std::io;
use v4l::control::{Control, Description, Flags, MenuItem as V4lMenuItem, Type, Value};

use v4l::prelude::Device;

use super::driver::guard;
use crate::capture::controls::{
    ControlInfo, ControlKind, ControlsError, MenuItem, Write, var_name,
};

/// Every control of the kinds this service handles (integer, boolean, menu,
/// integer menu), with its current value. Empty when the driver has none
/// or cannot list them.
pub(super) fn enumerate(device: &Device) -> Vec<ControlInfo> {
    let descriptions = match guard("listing controls", || device.query_controls()) {
        Ok(d) => d,
        Err(e) => {
            tracing::debug!("{e}");
            return Vec::new();
        }
    };
    descriptions
        .iter()
        .filter_map(|d| info(device, d))
        .collect()
}

fn info(device: &Device, d: &Description) -> Option<ControlInfo> {
    let kind = match d.typ {
        Type::Integer => ControlKind::Integer,
        Type::Boolean => ControlKind::Boolean,
        Type::Menu => ControlKind::Menu,
        Type::IntegerMenu => ControlKind::IntegerMenu,
        _ => return None,
    };
    if d.flags.contains(Flags::DISABLED) {
        return None;
    }
    let write_only = d.flags.contains(Flags::WRITE_ONLY);
    let value = if write_only {
        d.default
    } else if kind == ControlKind::IntegerMenu {
        guard("reading a control", || {
            super::driver::integer_menu_value(device, d.id)
        })
        .unwrap_or(d.default)
    } else {
        match guard("reading a control", || device.control(d.id)) {
            Ok(Control {
                value: Value::Integer(v),
                ..
            }) => v,
            Ok(Control {
                value: Value::Boolean(b),
                ..
            }) => i64::from(b),
            // Unreadable now (e.g. inactive on some drivers): its default.
            _ => d.default,
        }
    };
    let menu = d
        .items
        .as_ref()
        .map(|items| {
            items
                .iter()
                .map(|(index, item)| MenuItem {
                    index: i64::from(*index),
                    name: match item {
                        V4lMenuItem::Name(n) => n.clone(),
                        V4lMenuItem::Value(v) => v.to_string(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ControlInfo {
        name: var_name(&d.name),
        label: d.name.clone(),
        kind,
        min: d.minimum,
        max: d.maximum,
        step: d.step,
        default: d.default,
        value,
        menu,
        inactive: d.flags.contains(Flags::INACTIVE),
        read_only: d.flags.contains(Flags::READ_ONLY),
        grabbed: d.flags.contains(Flags::GRABBED),
        id: d.id,
    })
}

/// Write `writes` in order; when one fails, the ones before it are set
/// back to their previous values (last first) and the error names the
/// control and the driver's reason.
///
/// # Errors
/// The driver refused a write.
pub(super) fn write(device: &Device, writes: &[Write]) -> Result<(), ControlsError> {
    for (i, w) in writes.iter().enumerate() {
        if let Err(e) = set(device, w.id, w.kind, w.value) {
            for done in writes[..i].iter().rev() {
                if let Err(e) = set(device, done.id, done.kind, done.previous) {
                    tracing::warn!("{}: could not be put back: {e}", done.name);
                }
            }
            return Err(ControlsError::Driver {
                name: w.name.clone(),
                reason: e,
            });
        }
    }
    Ok(())
}

fn set(device: &Device, id: u32, kind: ControlKind, value: i64) -> Result<(), String> {
    let value = match kind {
        ControlKind::Boolean => Value::Boolean(value != 0),
        _ => Value::Integer(value),
    };
    guard("setting a control", || {
        device.set_control(Control { id, value })
    })
    .map_err(|e| match e {
        super::driver::DriverError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    })
}

/// The controls as `--control NAME=VALUE` takes them: name, what it takes,
/// the default and the value now.
pub(super) fn print(controls: &[ControlInfo], out: &mut impl io::Write) -> io::Result<()> {
    if controls.is_empty() {
        return Ok(());
    }
    writeln!(out, "  controls (--control NAME=VALUE):")?;
    for c in controls {
        let mut flags = Vec::new();
        if c.inactive {
            flags.push("inactive");
        }
        if c.read_only {
            flags.push("read-only");
        }
        if c.grabbed {
            flags.push("busy");
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("  ({})", flags.join(", "))
        };
        let default = ControlInfo {
            value: c.default,
            ..c.clone()
        }
        .value_text();
        writeln!(
            out,
            "        {:<28} {} = {}  [{}; default {default}]{flags}",
            c.name,
            kind_name(c.kind),
            c.value_text(),
            c.range_text(),
        )?;
    }
    Ok(())
}

fn kind_name(kind: ControlKind) -> &'static str {
    use ControlKind as K;
    match kind {
        K::Integer => "int ",
        K::Boolean => "bool",
        K::Menu => "menu",
        K::IntegerMenu => "intm",
    }
}
