//! The mode side of what the capture thread shares: changes waiting for
//! it, the modes the source offers, and the mode as it is now.

use std::sync::PoisonError;
use std::time::Duration;

use super::{CaptureShared, target_fps};
use crate::capture::mode::{LiveMode, ModeChange, ModeError, ModeOption, ModeRequest, ModesView};
use crate::encode::Transform;

/// A mode change waiting for the capture thread.
#[derive(Debug)]
pub(in crate::capture::thread) struct ModeJob {
    pub(in crate::capture::thread) change: ModeChange,
    pub(in crate::capture::thread) reply: tokio::sync::oneshot::Sender<Result<LiveMode, ModeError>>,
}

/// How long a mode change waits for the capture thread: its turn (at most
/// a frame read, which may be a first frame's longer wait) and two opens.
const MODE_WAIT: Duration = Duration::from_secs(12);

impl CaptureShared {
    /// Change the mode (size, rate, device: the source opens again) and
    /// the orientation, all or nothing. A mode the camera refuses leaves
    /// the previous one in place.
    ///
    /// # Errors
    /// The mode is not offered, the source cannot change it, the camera
    /// refused it, or the capture thread did not answer in time.
    pub async fn change_mode(&self, change: ModeChange) -> Result<LiveMode, ModeError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.mode_jobs.push(ModeJob { change, reply });
        match tokio::time::timeout(MODE_WAIT, answer).await {
            Ok(Ok(result)) => result,
            _ => Err(ModeError::Unavailable),
        }
    }

    pub(in crate::capture::thread) fn take_mode_jobs(&self) -> Vec<ModeJob> {
        self.mode_jobs.take()
    }

    /// The sizes and rates the source offered at its last open, and the
    /// mode it asks for (`None`: it cannot change).
    #[must_use]
    pub fn modes(&self) -> (Vec<ModeOption>, Option<ModeRequest>) {
        self.modes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(in crate::capture::thread) fn set_modes(
        &self,
        offered: Vec<ModeOption>,
        asked: Option<ModeRequest>,
    ) {
        *self.modes.lock().unwrap_or_else(PoisonError::into_inner) = (offered, asked);
    }

    /// The mode now and the ones the source offers.
    #[must_use]
    pub fn modes_view(&self) -> ModesView {
        let (modes, asked) = self.modes();
        ModesView {
            current: self.live_mode(),
            changeable: asked.is_some(),
            modes,
        }
    }

    /// The rate asked for and the orientation applied now.
    pub(in crate::capture::thread) fn set_live(&self, asked_fps: f64, transform: Transform) {
        let mut c = self.lock();
        c.asked_fps = asked_fps;
        c.transform = transform;
    }

    /// The mode as it is now: what the source gave and the orientation.
    #[must_use]
    pub fn live_mode(&self) -> LiveMode {
        let c = self.lock();
        let info = c.info.as_ref();
        LiveMode {
            device: info.map(|i| i.device.clone()).unwrap_or_default(),
            width: info.map_or(0, |i| i.width),
            height: info.map_or(0, |i| i.height),
            fps: target_fps(c.asked_fps, info),
            pixel_format: info.map(|i| i.pixel_format.clone()).unwrap_or_default(),
            rotation: c.transform.rotation,
            flip_h: c.transform.flip_h,
            flip_v: c.transform.flip_v,
        }
    }
}
