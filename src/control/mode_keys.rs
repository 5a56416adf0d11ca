//! The mode keys of a control request: `width` and `height` (together),
//! `fps`, `rotation`, `flip_h`, `flip_v` and `device`.

use serde_json::Value;

use super::request::{ControlError, boolean, invalid};
use crate::capture::mode::ModeChange;
use crate::config::Device;

/// The largest width or height asked (as `--width` / `--height` take).
const MAX_SIDE: u64 = 8192;
/// The highest rate asked (as `--fps` takes).
const MAX_FPS: f64 = 240.0;

/// Sizes kept aside until both halves are known.
#[derive(Debug, Default)]
pub struct Pending {
    width: Option<u32>,
    height: Option<u32>,
}

/// Read `key` into `change`; false when it is not a mode key.
///
/// # Errors
/// The value has the wrong type or is out of range.
pub fn read(
    key: &str,
    value: &Value,
    change: &mut ModeChange,
    pending: &mut Pending,
) -> Result<bool, ControlError> {
    match key {
        "width" => pending.width = Some(side("width", value)?),
        "height" => pending.height = Some(side("height", value)?),
        "fps" => {
            let fps = value
                .as_f64()
                .filter(|f| *f > 0.0 && *f <= MAX_FPS)
                .ok_or_else(|| invalid("fps", "must be above 0 and at most 240", value))?;
            change.fps = Some(fps);
        }
        "rotation" => {
            let r = value
                .as_u64()
                .filter(|r| [0, 90, 180, 270].contains(r))
                .and_then(|r| u16::try_from(r).ok())
                .ok_or_else(|| invalid("rotation", "must be 0, 90, 180 or 270", value))?;
            change.rotation = Some(r);
        }
        "flip_h" => change.flip_h = Some(boolean("flip_h", value)?),
        "flip_v" => change.flip_v = Some(boolean("flip_v", value)?),
        "device" => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let device: Device = text.parse().map_err(|_| {
                invalid(
                    "device",
                    "must be a camera number (0) or a node like /dev/video0",
                    value,
                )
            })?;
            change.device = Some(device.to_string());
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Put the size into `change` once every key is read: both halves or none.
///
/// # Errors
/// Only one of `width` and `height` was given.
pub fn finish(pending: Pending, change: &mut ModeChange) -> Result<(), ControlError> {
    match (pending.width, pending.height) {
        (Some(w), Some(h)) => change.size = Some((w, h)),
        (None, None) => {}
        (Some(w), None) => {
            return Err(invalid(
                "height",
                "must come with width (a size is asked as a whole)",
                &Value::from(format!("width {w} alone")),
            ));
        }
        (None, Some(h)) => {
            return Err(invalid(
                "width",
                "must come with height (a size is asked as a whole)",
                &Value::from(format!("height {h} alone")),
            ));
        }
    }
    Ok(())
}

fn side(key: &'static str, value: &Value) -> Result<u32, ControlError> {
    value
        .as_u64()
        .filter(|v| (16..=MAX_SIDE).contains(v))
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| invalid(key, "must be a whole number of pixels, 16 to 8192", value))
}

#[cfg(test)]
mod tests {
    use super::super::request::parse;
    use super::*;

    fn err(body: &str) -> String {
        match parse(body.as_bytes(), false) {
            Ok(r) => panic!("accepted {body}: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_each_mode_key() {
        let (r, _) = parse(
            br#"{"width":1280,"height":720,"fps":15,"rotation":90,"flip_h":true,"flip_v":false,"device":"/dev/video2"}"#,
            false,
        )
        .expect("valid");
        assert_eq!(
            r.mode,
            ModeChange {
                size: Some((1280, 720)),
                fps: Some(15.0),
                device: Some("/dev/video2".into()),
                rotation: Some(90),
                flip_h: Some(true),
                flip_v: Some(false),
            }
        );
        let (r, _) = parse(br#"{"device":1}"#, false).expect("a number");
        assert_eq!(r.mode.device.as_deref(), Some("/dev/video1"));
    }

    #[test]
    fn names_the_key_and_what_it_takes() {
        assert_eq!(
            err(r#"{"rotation":45}"#),
            "rotation: must be 0, 90, 180 or 270 (got 45)"
        );
        assert_eq!(
            err(r#"{"width":640}"#),
            "height: must come with width (a size is asked as a whole) (got \"width 640 alone\")"
        );
        assert!(err(r#"{"height":480}"#).starts_with("width: must come with height"));
        assert!(err(r#"{"width":8,"height":480}"#).starts_with("width: must be a whole number"));
        assert!(err(r#"{"width":640.5,"height":480}"#).starts_with("width: must be"));
        assert!(err(r#"{"fps":0}"#).starts_with("fps: must be above 0"));
        assert!(err(r#"{"fps":241}"#).starts_with("fps: must be above 0"));
        assert!(err(r#"{"flip_h":1}"#).starts_with("flip_h: must be true or false"));
        assert!(err(r#"{"device":"/dev/sda"}"#).starts_with("device: must be a camera number"));
        assert!(err(r#"{"device":true}"#).starts_with("device: must be"));
    }
}
