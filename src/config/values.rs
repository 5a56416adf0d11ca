//! Value types of the configuration and their parsers: durations, the
//! camera device, and the error that names a bad option.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// A bad value: which option, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {message}")]
pub struct ConfigError {
    /// Where the value came from: the flag (`--quality`), or, once resolved,
    /// the environment variable (`CAMERA_QUALITY=0`) or the file key.
    pub option: String,
    pub message: String,
}

impl ConfigError {
    /// `option` (as the flag: `--fps`) and what is wrong with its value.
    pub fn new(option: &str, message: impl Into<String>) -> Self {
        Self {
            option: option.to_owned(),
            message: message.into(),
        }
    }
}

/// A value that does not parse as what its option takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

/// A duration given as plain seconds (`1`, `0.5`) or with a unit (`500ms`, `5s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl FromStr for DurationValue {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
            (n, 0.001)
        } else if let Some(n) = s.strip_suffix('s') {
            (n, 1.0)
        } else if let Some(n) = s.strip_suffix('m') {
            (n, 60.0)
        } else {
            (s, 1.0)
        };
        let value: f64 = number.trim().parse().map_err(|_| {
            ValueError(format!(
                "'{s}' is not a duration (use seconds like 5 or 0.5, or 500ms, 5s)"
            ))
        })?;
        let secs = value * scale;
        if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
            return Err(ValueError(format!("'{s}' is out of range (0 to 1 day)")));
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => n.to_string().parse().map_err(serde::de::Error::custom),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A V4L2 camera, given as its index `N` or its node `/dev/videoN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Device(u32);

impl Device {
    /// The camera `/dev/video<index>`.
    #[must_use]
    pub fn new(index: u32) -> Self {
        Self(index)
    }

    /// The N of `/dev/videoN`.
    #[must_use]
    pub fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/dev/video{}", self.0)
    }
}

impl FromStr for Device {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let digits = t.strip_prefix("/dev/video").unwrap_or(t);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = digits.parse::<u32>()
        {
            return Ok(Self(n));
        }
        Err(ValueError(format!(
            "invalid camera device '{text}': expected a number (0) or a path like /dev/video0"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_accepts_numbers_and_paths() {
        for (text, index) in [
            ("0", 0),
            ("12", 12),
            ("/dev/video2", 2),
            (" /dev/video0 ", 0),
        ] {
            assert_eq!(text.parse::<Device>(), Ok(Device::new(index)), "{text}");
        }
        assert_eq!(Device::new(3).to_string(), "/dev/video3");
    }

    #[test]
    fn device_rejects_the_rest() {
        for bad in [
            "",
            "-1",
            "video0",
            "/dev/video",
            "/dev/video-1",
            "/dev/v4l/by-id/x",
            "0x1",
            "99999999999",
        ] {
            let err = bad.parse::<Device>().expect_err(bad);
            assert!(err.to_string().contains("/dev/video0"), "{bad}: {err}");
        }
    }
}
