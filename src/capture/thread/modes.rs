//! The capture thread's side of live mode changes: it owns the source, so
//! it closes it, opens it with the new mode and, when the camera refuses
//! that mode, opens it again with the previous one.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Capture;
use crate::capture::mode::{LiveMode, ModeChange, ModeError, ModeRequest, check_offered, describe};
use crate::capture::{CaptureError, SourceInfo};

impl Capture {
    /// Serve the requests to change the mode; true when the source was
    /// opened again (the frame pace starts over).
    pub(super) fn tend_modes(&mut self, opened: &mut Option<SourceInfo>) -> bool {
        let mut reopened = false;
        for job in self.shared.take_mode_jobs() {
            let result = self.change_mode(&job.change, opened);
            reopened |= job.change.reopens();
            let _ = job.reply.send(result);
        }
        reopened
    }

    /// Apply one change, all or nothing: the orientation changes only when
    /// the new mode (if any) took.
    fn change_mode(
        &mut self,
        change: &ModeChange,
        opened: &mut Option<SourceInfo>,
    ) -> Result<LiveMode, ModeError> {
        let transform = change.transform(self.settings.transform);
        if change.reopens() {
            if opened.is_none() {
                return Err(ModeError::Fixed(
                    "the camera is not open (it is being retried): try again once frames flow"
                        .to_owned(),
                ));
            }
            let Some(before) = self.source.requested_mode() else {
                return Err(ModeError::fixed(self.source.backend()));
            };
            let asked = change.request(&before);
            if asked.device == before.device {
                check_offered(&self.source.modes(), &asked)?;
            }
            self.source.request_mode(&asked)?;
            self.reopen_with(&asked, &before, opened)?;
            self.settings.target_fps = asked.fps;
        }
        let turned = transform != self.settings.transform;
        self.settings.transform = transform;
        self.ask_yuv();
        self.shared.set_live(self.settings.target_fps, transform);
        if turned {
            tracing::info!(
                "orientation: rotation {}°, flip_h {}, flip_v {}",
                transform.rotation,
                transform.flip_h,
                transform.flip_v
            );
        }
        Ok(self.shared.live_mode())
    }

    /// Close the source and open it with `asked`; when the camera refuses,
    /// open it again with `before` and say what happened.
    fn reopen_with(
        &mut self,
        asked: &ModeRequest,
        before: &ModeRequest,
        opened: &mut Option<SourceInfo>,
    ) -> Result<(), ModeError> {
        let started = Instant::now();
        let named = asked.device != before.device;
        self.source.close();
        self.shared.set_control_list(Vec::new());
        // Not counted as a camera failure: the camera works, this mode not.
        // A camera may take the format and refuse it only when streaming
        // starts (no USB bandwidth for it), so the mode counts as taken
        // once its first frame came.
        let tried = self.source.open().and_then(|info| {
            self.record_open(&info, true);
            self.first_frame()?;
            Ok(info)
        });
        match tried {
            Ok(info) => {
                tracing::info!(
                    "mode changed to {} in {} ms",
                    describe(asked, named),
                    started.elapsed().as_millis()
                );
                *opened = Some(info);
                Ok(())
            }
            Err(refused) => {
                self.source.close();
                let _ = self.source.request_mode(before);
                let restored = match self.open_source(true) {
                    Ok(info) => {
                        *opened = Some(info);
                        format!("back to {}", describe(before, named))
                    }
                    Err(e) => {
                        *opened = None;
                        format!("{} failed too ({e}); retrying it", describe(before, named))
                    }
                };
                let error = ModeError::Refused {
                    asked: describe(asked, named),
                    reason: refused.to_string(),
                    restored,
                };
                tracing::warn!("{error}");
                Err(error)
            }
        }
    }
}

impl Capture {
    /// Read the first frame of a source just opened and hand it on.
    fn first_frame(&mut self) -> Result<(), CaptureError> {
        let mut buffer = self.pool.buffer();
        let frame = self.source.next_frame(&mut buffer)?;
        self.shared.captured.fetch_add(1, Ordering::Relaxed);
        // A damaged first picture is counted as any other, not a refusal.
        let _ = self.submit(frame, buffer, Instant::now());
        Ok(())
    }
}
