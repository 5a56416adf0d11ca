//! Where each pane goes for a given terminal size.
//!
//! The four status panes keep their rows first; the preview and the events
//! share what is left and are dropped first when the terminal is small.

use ratatui::layout::{Constraint, Layout, Rect};

use super::panes::{capture, keepalive, mqtt, stream};

/// Fewer rows than this for preview and events: drop both.
pub const MIN_BOTTOM_ROWS: u16 = 4;
/// Narrower than this, the events pane is dropped (the preview keeps the room).
pub const MIN_EVENTS_COLS: u16 = 20;
/// The preview takes at most this share of the width (percent).
pub const MAX_PREVIEW_SHARE: u16 = 60;

/// The rectangle of each pane; `None` when the pane does not fit or is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub capture: Rect,
    pub stream: Rect,
    pub mqtt: Rect,
    pub keepalive: Rect,
    pub preview: Option<Rect>,
    pub events: Option<Rect>,
    pub footer: Rect,
}

/// Rows the status panes want.
#[must_use]
pub fn stats_rows() -> u16 {
    (capture::HEIGHT + stream::HEIGHT).max(mqtt::HEIGHT + keepalive::HEIGHT)
}

/// Split `area`; `aspect` is the picture's width and height (for the preview width).
#[must_use]
pub fn areas(area: Rect, preview_visible: bool, aspect: (usize, usize)) -> Areas {
    let [body, footer] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let wanted = stats_rows();
    let bottom_rows = body.height.saturating_sub(wanted);
    let (stats, bottom) = if bottom_rows >= MIN_BOTTOM_ROWS {
        let [s, b] = Layout::vertical([Constraint::Length(wanted), Constraint::Min(0)]).areas(body);
        (s, Some(b))
    } else {
        (body, None)
    };
    let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(stats);
    let [capture, stream] =
        Layout::vertical([Constraint::Length(capture::HEIGHT), Constraint::Fill(1)]).areas(left);
    let [mqtt, keepalive] =
        Layout::vertical([Constraint::Length(mqtt::HEIGHT), Constraint::Fill(1)]).areas(right);
    let (preview, events) = match bottom {
        None => (None, None),
        Some(b) if !preview_visible => (None, Some(b)),
        Some(b) => split_bottom(b, aspect),
    };
    Areas {
        capture,
        stream,
        mqtt,
        keepalive,
        preview,
        events,
        footer,
    }
}

/// Preview on the left as wide as the picture needs for the height, events right.
fn split_bottom(b: Rect, (w, h): (usize, usize)) -> (Option<Rect>, Option<Rect>) {
    let (w, h) = if w == 0 || h == 0 { (4, 3) } else { (w, h) };
    // Two pixels per row; a cell is about twice as tall as wide.
    let inner_rows = usize::from(b.height.saturating_sub(2));
    let inner_cols = (inner_rows * 2 * w).div_ceil(h);
    let max_cols = b.width * MAX_PREVIEW_SHARE / 100;
    let cols = u16::try_from(inner_cols + 2)
        .unwrap_or(u16::MAX)
        .clamp(max_cols.min(12), max_cols.max(1));
    if b.width.saturating_sub(cols) < MIN_EVENTS_COLS {
        return (Some(b), None);
    }
    let [p, e] = Layout::horizontal([Constraint::Length(cols), Constraint::Min(0)]).areas(b);
    (Some(p), Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(a: &Areas) -> Vec<Rect> {
        let mut v = vec![a.capture, a.stream, a.mqtt, a.keepalive, a.footer];
        v.extend(a.preview);
        v.extend(a.events);
        v
    }

    fn assert_no_overlap(size: Rect, a: &Areas) {
        let rects = all(a);
        for (i, r) in rects.iter().enumerate() {
            assert!(
                size.contains(r.as_position()) || r.is_empty(),
                "{r:?} outside {size:?}"
            );
            assert!(
                r.right() <= size.right() && r.bottom() <= size.bottom(),
                "{r:?} outside {size:?}"
            );
            for o in &rects[i + 1..] {
                assert!(!r.intersects(*o), "{r:?} overlaps {o:?} at {size:?}");
            }
        }
    }

    #[test]
    fn no_pane_overlaps_at_any_size_from_tiny_to_huge() {
        for (w, h) in [
            (80, 24),
            (200, 60),
            (120, 40),
            (81, 25),
            (40, 10),
            (10, 5),
            (1, 1),
            (300, 100),
        ] {
            for visible in [true, false] {
                let size = Rect::new(0, 0, w, h);
                let a = areas(size, visible, (16, 9));
                assert_no_overlap(size, &a);
            }
        }
    }

    #[test]
    fn at_80x24_everything_fits_and_the_preview_keeps_4_to_3() {
        let a = areas(Rect::new(0, 0, 80, 24), true, (640, 480));
        assert_eq!(a.capture.height, capture::HEIGHT);
        assert_eq!(a.mqtt.height, mqtt::HEIGHT);
        let p = a.preview.expect("preview at 80x24");
        let e = a.events.expect("events at 80x24");
        // 6 inner rows = 12 px tall → 16 px wide, plus borders.
        assert_eq!((p.width, p.height), (18, 8));
        assert_eq!(e.width, 62);
    }

    #[test]
    fn a_short_terminal_drops_preview_and_events_first() {
        let a = areas(Rect::new(0, 0, 80, 18), true, (640, 480));
        assert_eq!((a.preview, a.events), (None, None));
        assert_eq!(a.capture.height, capture::HEIGHT);
    }

    #[test]
    fn hidden_preview_gives_events_the_whole_bottom() {
        let a = areas(Rect::new(0, 0, 200, 60), false, (640, 480));
        assert_eq!(a.preview, None);
        assert_eq!(a.events.map(|e| e.width), Some(200));
    }
}
