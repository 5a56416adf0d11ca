//! Preview pane: the latest frame as half-blocks, decoded at the preview rate.
//!
//! Decodes only when visible, only when a newer frame exists, and at most
//! `preview_fps` times a second; the downscale to the pane size is cached and
//! redone only for a new picture or a new pane size. Reads the frame hub
//! (a short pointer swap), never anything the capture thread waits on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use tokio::sync::watch;

use super::{Action, Hint, View, plain_char};
use crate::frame::FrameHub;
use crate::tui::halfblock::{Cells, ColorMode, RgbImage, decode_jpeg};

/// Used when `--preview-fps` is zero, negative or not a number.
pub const DEFAULT_PREVIEW_FPS: f64 = 4.0;

/// `v` shows or hides the preview.
#[must_use]
pub fn on_key(key: &KeyEvent, _view: &View) -> Option<Action> {
    (plain_char(key)? == 'v').then_some(Action::TogglePreview)
}

#[must_use]
pub fn hints(visible: bool) -> Vec<Hint> {
    vec![Hint::new(
        "v",
        if visible {
            "hide preview"
        } else {
            "show preview"
        },
        "show or hide the preview (stops decoding)",
    )]
}

/// The preview's state: the last decoded picture and its cells for the pane.
#[derive(Debug)]
pub struct PreviewPane {
    frames: Arc<FrameHub>,
    newest_seq: watch::Receiver<u64>,
    min_interval: Duration,
    /// When the next decode may happen: a schedule, so ticks that do not
    /// divide the interval still average `preview_fps`, never more.
    next_decode: Option<Instant>,
    visible: bool,
    image: RgbImage,
    /// Sequence number of the frame in `image` (0: none yet).
    shown_seq: u64,
    error: Option<String>,
    /// Cells for the last pane size, as (inner width, inner height).
    cached: Option<((u16, u16), Cells)>,
    decodes: u64,
}

impl PreviewPane {
    #[must_use]
    pub fn new(frames: Arc<FrameHub>, preview_fps: f64) -> Self {
        let fps = if preview_fps.is_finite() && preview_fps > 0.0 {
            preview_fps
        } else {
            DEFAULT_PREVIEW_FPS
        };
        Self {
            newest_seq: frames.subscribe(),
            frames,
            min_interval: Duration::from_secs_f64(1.0 / fps),
            next_decode: None,
            visible: true,
            image: RgbImage::default(),
            shown_seq: 0,
            error: None,
            cached: None,
            decodes: 0,
        }
    }

    #[must_use]
    pub fn visible(&self) -> bool {
        self.visible
    }

    pub fn toggle(&mut self) {
        self.visible = !self.visible;
    }

    /// Frames decoded so far (for tests and the cost measurement).
    #[must_use]
    pub fn decodes(&self) -> u64 {
        self.decodes
    }

    /// Width and height of the decoded picture, if any.
    #[must_use]
    pub fn picture_size(&self) -> Option<(usize, usize)> {
        (self.shown_seq > 0 && self.image.width > 0)
            .then_some((self.image.width, self.image.height))
    }

    /// Decode the newest frame if it is time and there is one; true when the
    /// pane changed.
    pub fn on_tick(&mut self, now: Instant) -> bool {
        if !self.visible
            || *self.newest_seq.borrow() == self.shown_seq
            || self.next_decode.is_some_and(|due| now < due)
        {
            return false;
        }
        let Some(frame) = self.frames.latest() else {
            return false;
        };
        if frame.seq == self.shown_seq {
            return false;
        }
        // Keep to the schedule unless it fell behind by a whole interval (hidden, idle).
        let base = self
            .next_decode
            .filter(|&due| now.saturating_duration_since(due) < self.min_interval)
            .unwrap_or(now);
        self.next_decode = Some(base + self.min_interval);
        self.shown_seq = frame.seq;
        self.cached = None;
        match decode_jpeg(&frame.jpeg, &mut self.image) {
            Ok(()) => {
                self.decodes += 1;
                self.error = None;
            }
            Err(e) => {
                self.image = RgbImage::default();
                self.error = Some(e);
            }
        }
        true
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, mode: ColorMode) {
        let title = match self.picture_size() {
            Some((w, h)) => format!(" Preview {w}x{h} "),
            None => " Preview ".to_owned(),
        };
        let block = Block::bordered().title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.image.pixels.is_empty() {
            let text = match &self.error {
                Some(e) => Line::from(format!("cannot decode: {e}")).red(),
                None => Line::from("waiting for the first frame").dim(),
            };
            frame.render_widget(Paragraph::new(text), inner);
            return;
        }
        let key = (inner.width, inner.height);
        let cells = match &self.cached {
            Some((k, cells)) if *k == key => cells,
            _ => {
                let cells = self
                    .image
                    .to_cells(usize::from(inner.width), usize::from(inner.height));
                &self.cached.insert((key, cells)).1
            }
        };
        // Letterbox: centre the picture in the pane.
        let pad_x = usize::from(inner.width).saturating_sub(cells.width) / 2;
        let pad_y = usize::from(inner.height).saturating_sub(cells.rows) / 2;
        let origin = (
            inner.x + u16::try_from(pad_x).unwrap_or(0),
            inner.y + u16::try_from(pad_y).unwrap_or(0),
        );
        cells.render(origin, inner, mode, frame.buffer_mut());
    }
}
