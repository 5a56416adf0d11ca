//! Stream pane: the HTTP MJPEG stream and who reads it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::View;
use crate::tui::units;

/// Rows this pane wants, borders included.
pub const HEIGHT: u16 = 5;

#[must_use]
pub fn lines(view: &View) -> Vec<Line<'static>> {
    let s = &view.status.stream;
    let clients = format!("clients {}/{}", s.clients, s.max_clients);
    let clients = if s.max_clients > 0 && s.clients >= s.max_clients {
        Line::from(vec![
            clients.yellow(),
            format!("  rejected {}", s.rejected).into(),
        ])
    } else {
        Line::from(format!("{clients}  rejected {}", s.rejected))
    };
    vec![
        Line::from(if s.address.is_empty() {
            "address –".to_owned()
        } else {
            s.address.clone()
        }),
        clients,
        Line::from(format!(
            "{:.1} frames/s  {}",
            s.frames_per_s,
            units::byte_rate(s.bytes_per_s)
        )),
    ]
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let p = Paragraph::new(lines(view)).block(Block::bordered().title(" Stream "));
    frame.render_widget(p, area);
}
