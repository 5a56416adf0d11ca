//! Live mode changes: the size, rate and device a source opens with, and
//! the picture's orientation, changed while the service runs.
//!
//! The capture thread owns the source, so it serves a change: it closes the
//! source, opens it again with the new mode and, when the camera refuses
//! that mode, opens it again with the previous one.

use serde::{Deserialize, Serialize};

use crate::encode::Transform;

/// The mode a source asks for when it opens.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeRequest {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// The device node (`/dev/video0`); `None` for a source without one.
    pub device: Option<String>,
}

/// One size a source offers, with its frame rates (highest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeOption {
    pub width: u32,
    pub height: u32,
    pub pixel_format: String,
    pub fps: Vec<f64>,
}

/// Gather `(format, width, height, fps)` offers into one entry per format
/// and size, rates highest first, in the order the sizes first appear.
#[must_use]
pub fn group_offers(offers: impl IntoIterator<Item = (String, u32, u32, f64)>) -> Vec<ModeOption> {
    let mut out: Vec<ModeOption> = Vec::new();
    for (pixel_format, width, height, fps) in offers {
        let entry = match out
            .iter_mut()
            .find(|m| m.width == width && m.height == height && m.pixel_format == pixel_format)
        {
            Some(e) => e,
            None => {
                out.push(ModeOption {
                    width,
                    height,
                    pixel_format,
                    fps: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        if fps > 0.0 && !entry.fps.iter().any(|f| (f - fps).abs() < 1e-6) {
            entry.fps.push(fps);
        }
    }
    for m in &mut out {
        m.fps.sort_by(|a, b| b.total_cmp(a));
    }
    out
}

/// A change asked for: `None` leaves that part as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModeChange {
    pub size: Option<(u32, u32)>,
    pub fps: Option<f64>,
    pub device: Option<String>,
    pub rotation: Option<u16>,
    pub flip_h: Option<bool>,
    pub flip_v: Option<bool>,
}

impl ModeChange {
    /// Whether the source must be opened again (size, rate or device).
    #[must_use]
    pub fn reopens(&self) -> bool {
        self.size.is_some() || self.fps.is_some() || self.device.is_some()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `transform` with the orientation parts of this change.
    #[must_use]
    pub fn transform(&self, mut transform: Transform) -> Transform {
        if let Some(r) = self.rotation {
            transform.rotation = r;
        }
        if let Some(h) = self.flip_h {
            transform.flip_h = h;
        }
        if let Some(v) = self.flip_v {
            transform.flip_v = v;
        }
        transform
    }

    /// `asked` with the size, rate and device of this change.
    #[must_use]
    pub fn request(&self, asked: &ModeRequest) -> ModeRequest {
        let mut next = asked.clone();
        if let Some((w, h)) = self.size {
            next.width = w;
            next.height = h;
        }
        if let Some(fps) = self.fps {
            next.fps = fps;
        }
        if let Some(device) = &self.device {
            next.device = Some(device.clone());
        }
        next
    }
}

/// The mode now: what the source gave, and the orientation applied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LiveMode {
    /// The device as the source names it (`/dev/video0 (HD Webcam)`).
    pub device: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub pixel_format: String,
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
}

/// The mode now and the ones to pick from, as `GET /modes` serves them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModesView {
    pub current: LiveMode,
    /// Whether size and rate can change (not for a recording).
    pub changeable: bool,
    pub modes: Vec<ModeOption>,
}

/// Why a mode change did not happen; nothing changed (or the previous mode
/// is back).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeError {
    /// The source cannot change this (a recording's size, the test
    /// pattern's device).
    #[error("{0}")]
    Fixed(String),
    /// Not among the source's modes.
    #[error("{asked}: not offered by the camera (offered: {offered})")]
    NotOffered { asked: String, offered: String },
    /// The camera refused the mode when opened with it; the previous mode
    /// is back (or being retried).
    #[error("the camera refused {asked}: {reason}; {restored}")]
    Refused {
        asked: String,
        reason: String,
        restored: String,
    },
    /// The capture thread did not answer in time.
    #[error("the capture thread did not answer in time")]
    Unavailable,
}

impl ModeError {
    /// A source of backend `backend` whose mode is fixed.
    #[must_use]
    pub fn fixed(backend: &str) -> Self {
        Self::Fixed(format!(
            "{backend}: the mode of this source cannot be changed"
        ))
    }
}

/// `640x480 at 30 fps`, or `/dev/video2 640x480 at 30 fps` when the device
/// is part of what changed: a mode, for messages.
#[must_use]
pub fn describe(req: &ModeRequest, with_device: bool) -> String {
    let mut text = format!(
        "{}x{} at {} fps",
        req.width,
        req.height,
        crate::stats::fps_text(req.fps)
    );
    if let Some(d) = req.device.as_ref().filter(|_| with_device) {
        text = format!("{d} {text}");
    }
    text
}

/// Whether `asked` (size and rate) is among `offered`; `Err` lists what is
/// when not. An empty list (a source that takes any size) accepts all.
///
/// # Errors
/// The size, or the rate at that size, is not offered.
pub fn check_offered(offered: &[ModeOption], asked: &ModeRequest) -> Result<(), ModeError> {
    if offered.is_empty() {
        return Ok(());
    }
    let sizes: Vec<&ModeOption> = offered
        .iter()
        .filter(|m| m.width == asked.width && m.height == asked.height)
        .collect();
    if sizes.is_empty() {
        let mut list: Vec<String> = offered
            .iter()
            .map(|m| format!("{}x{}", m.width, m.height))
            .collect();
        list.dedup();
        return Err(ModeError::NotOffered {
            asked: format!("{}x{}", asked.width, asked.height),
            offered: list.join(", "),
        });
    }
    let rate_ok = sizes.iter().any(|m| {
        m.fps.is_empty()
            || m.fps
                .iter()
                .any(|&f| (f - asked.fps).abs() <= 0.05 * asked.fps.max(1.0))
    });
    if rate_ok {
        return Ok(());
    }
    let mut rates: Vec<f64> = sizes.iter().flat_map(|m| m.fps.iter().copied()).collect();
    rates.sort_by(|a, b| b.total_cmp(a));
    rates.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    Err(ModeError::NotOffered {
        asked: format!(
            "{}x{} at {} fps",
            asked.width,
            asked.height,
            crate::stats::fps_text(asked.fps)
        ),
        offered: rates
            .iter()
            .map(|&f| format!("{} fps", crate::stats::fps_text(f)))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests;
