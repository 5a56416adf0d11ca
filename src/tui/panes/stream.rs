//! Stream pane: the HTTP MJPEG stream, who reads it, who was dropped or refused.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::View;
use crate::tui::units;

/// Rows this pane wants, borders included.
pub const HEIGHT: u16 = 5;

/// Three lines: where, who (with the stalled clients dropped), how much and
/// the connections around it (the end of the line shows on wide terminals).
#[must_use]
pub fn lines(view: &View) -> Vec<Line<'static>> {
    let s = &view.status.stream;
    let auth = if s.auth.is_empty() {
        "–"
    } else {
        s.auth.as_str()
    };
    // Who may watch comes before the counters: a narrow pane cuts those.
    let clients = format!("clients {}/{}  auth {auth}", s.clients, s.max_clients);
    let counts = format!("  dropped {}  rejected {}", s.dropped_stalled, s.rejected);
    let clients = if s.max_clients > 0 && s.clients >= s.max_clients {
        Line::from(vec![clients.yellow(), counts.into()])
    } else {
        Line::from(format!("{clients}{counts}"))
    };
    let connections = format!("conns {}/{}", s.connections, s.max_connections);
    let traffic = Line::from(vec![
        format!(
            "{:.1} fps  {}  ",
            s.frames_per_s,
            units::byte_rate(s.bytes_per_s)
        )
        .into(),
        if s.max_connections > 0 && s.connections >= s.max_connections {
            connections.yellow()
        } else {
            connections.into()
        },
        format!("  refused {}", s.refused_connections).into(),
    ]);
    vec![
        Line::from(if s.address.is_empty() {
            "address –".to_owned()
        } else {
            s.address.clone()
        }),
        clients,
        traffic,
    ]
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let p = Paragraph::new(lines(view)).block(Block::bordered().title(" Stream "));
    frame.render_widget(p, area);
}
