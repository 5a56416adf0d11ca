//! `{"save": true}`: the live settings written into the service's config
//! file, its comments and order kept, atomically (a temporary file beside
//! it, then a rename), with the file's permissions (it may hold secrets).

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::capture::controls::ControlValue;

/// What is saved: the settings a restart would otherwise lose.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSettings {
    pub quality: u8,
    pub mqtt_rate: f64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
    /// The camera node (`/dev/video0`), for a camera.
    pub device: Option<String>,
    /// The camera controls set so far (configuration and live changes).
    pub controls: Vec<(String, ControlValue)>,
}

/// Why the settings were not saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    #[error(
        "no config file to save into: start the service with --config FILE (CAMERA_CONFIG); the settings as TOML:\n{0}"
    )]
    NoFile(String),
    #[error("cannot save into {path}: {reason}")]
    Write { path: String, reason: String },
}

/// The settings as the lines of a config file.
#[must_use]
pub fn as_toml(live: &LiveSettings) -> String {
    let mut doc = DocumentMut::new();
    put(&mut doc, live);
    doc.to_string()
}

/// Write `live` into the TOML file at `path` (created if missing): each
/// key set in place, everything else kept.
///
/// # Errors
/// The file cannot be read, parsed or written.
pub fn save(path: &Path, live: &LiveSettings) -> Result<PathBuf, SaveError> {
    let fail = |reason: String| SaveError::Write {
        path: path.display().to_string(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(fail(e.to_string())),
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| fail(e.message().to_owned()))?;
    put(&mut doc, live);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, doc.to_string()).and_then(|()| {
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e.to_string()));
    }
    Ok(path.to_path_buf())
}

fn put(doc: &mut DocumentMut, live: &LiveSettings) {
    doc["quality"] = value(i64::from(live.quality));
    doc["mqtt_rate"] = value(live.mqtt_rate);
    doc["width"] = value(i64::from(live.width));
    doc["height"] = value(i64::from(live.height));
    doc["fps"] = value(live.fps);
    doc["rotation"] = value(i64::from(live.rotation));
    doc["flip_h"] = value(live.flip_h);
    doc["flip_v"] = value(live.flip_v);
    if let Some(device) = &live.device {
        doc["device"] = value(device.as_str());
    }
    if live.controls.is_empty() {
        return;
    }
    if !doc.contains_table("controls") {
        doc["controls"] = Item::Table(Table::new());
    }
    for (name, v) in &live.controls {
        doc["controls"][name.as_str()] = match v {
            ControlValue::Number(n) => value(*n),
            ControlValue::Bool(b) => value(*b),
            ControlValue::Text(t) => value(t.as_str()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> LiveSettings {
        LiveSettings {
            quality: 60,
            mqtt_rate: 2.5,
            width: 1280,
            height: 720,
            fps: 30.0,
            rotation: 180,
            flip_h: false,
            flip_v: true,
            device: Some("/dev/video2".into()),
            controls: vec![
                ("auto_exposure".into(), ControlValue::Text("manual".into())),
                ("exposure_time_absolute".into(), ControlValue::Number(250)),
            ],
        }
    }

    #[test]
    fn comments_order_and_other_keys_are_kept() {
        let dir = std::env::temp_dir().join(format!("tars-save-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("camera.toml");
        let original = "# the robot's camera\nhttp_token = \"s3cret\" # keep me\nquality = 80\n\n[controls]\n# set by hand\nbrightness = 10\n";
        std::fs::write(&path, original).expect("write");
        save(&path, &live()).expect("saved");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.starts_with(
                "# the robot's camera\nhttp_token = \"s3cret\" # keep me\nquality = 60\n"
            ),
            "{text}"
        );
        assert!(text.contains("# set by hand\nbrightness = 10\nauto_exposure = \"manual\"\nexposure_time_absolute = 250\n"), "{text}");
        // What the service reads back is what was saved.
        let options = crate::config::parse_file(&text).expect("a valid config file");
        assert_eq!(options.quality, Some(60));
        assert_eq!(options.rotation, Some(180));
        assert_eq!(options.controls.map(|c| c.len()), Some(3));
        assert_eq!(
            std::fs::read_dir(&dir).expect("list").count(),
            1,
            "no temporary file left"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_file_is_an_error_naming_it_and_left_alone() {
        let dir = std::env::temp_dir().join(format!("tars-save-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("camera.toml");
        std::fs::write(&path, "quality = \n").expect("write");
        let err = save(&path, &live()).expect_err("refused").to_string();
        assert!(
            err.starts_with(&format!("cannot save into {}", path.display())),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "quality = \n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_a_file_the_error_shows_the_toml_to_copy() {
        let text = as_toml(&live());
        assert!(
            text.contains("quality = 60\n")
                && text.contains("[controls]\nauto_exposure = \"manual\"\n"),
            "{text}"
        );
        assert!(
            SaveError::NoFile(text)
                .to_string()
                .contains("--config FILE")
        );
    }
}
