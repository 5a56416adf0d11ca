//! The capture thread's side of the camera controls: it owns the source,
//! so it serves the requests to change them, reads them again now and then,
//! and sets the ones asked for so far at every open.

use std::time::{Duration, Instant};

use super::Capture;
use crate::capture::controls::{ControlInfo, ControlValue, ControlsError, is_auto, resolve};

/// How often the controls of an open source are read again.
const CONTROLS_READ_EVERY: Duration = Duration::from_secs(2);

impl Capture {
    /// Serve the requests to change controls, and read the controls again
    /// every [`CONTROLS_READ_EVERY`] (automatic modes change values).
    pub(super) fn tend_controls(&mut self, open: bool) {
        for job in self.shared.take_control_jobs() {
            let result = if open {
                self.change_controls(&job.values)
            } else {
                Err(ControlsError::NotOpen)
            };
            let _ = job.reply.send(result);
        }
        if open && self.controls_read.elapsed() >= CONTROLS_READ_EVERY {
            self.read_controls();
        }
    }

    /// Check and write one request's controls, all or nothing; kept for
    /// the next opens when they took.
    fn change_controls(
        &mut self,
        values: &[(String, ControlValue)],
    ) -> Result<Vec<ControlInfo>, ControlsError> {
        let writes = resolve(&self.source.controls(), values)?;
        let result = self.source.set_controls(&writes);
        self.read_controls();
        result?;
        for (name, value) in values {
            self.desired.retain(|(n, _)| n != name);
            self.desired.push((name.clone(), value.clone()));
        }
        self.shared.set_desired_controls(&self.desired);
        for w in &writes {
            tracing::info!("control {} = {}", w.name, w.value);
        }
        Ok(self.shared.controls())
    }

    /// Set the controls asked for so far on a source just opened, each on
    /// its own (one the camera refuses does not stop the others).
    pub(super) fn restore_controls(&mut self) {
        let mut desired = self.desired.clone();
        desired.sort_by_key(|(n, _)| !is_auto(n));
        for pair in &desired {
            // Read again each time: an automatic mode just turned off makes
            // its manual value active.
            let offered = self.source.controls();
            let set = resolve(&offered, std::slice::from_ref(pair))
                .and_then(|writes| self.source.set_controls(&writes));
            if let Err(e) = set {
                tracing::warn!("control not set again: {e}");
            }
        }
        self.read_controls();
    }

    fn read_controls(&mut self) {
        self.shared.set_control_list(self.source.controls());
        self.controls_read = Instant::now();
    }
}
