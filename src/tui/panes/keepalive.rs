//! Keepalive pane: heartbeat timing, the broker round trip, health as last published.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::View;
use crate::tui::units;

/// Rows this pane wants, borders included.
pub const HEIGHT: u16 = 7;

#[must_use]
pub fn lines(view: &View) -> Vec<Line<'static>> {
    let h = &view.status.mqtt.client.heartbeat;
    let last = h.last_unix_ms.map_or_else(
        || "last –".to_owned(),
        |t| format!("last {} ago", units::duration(view.since(t))),
    );
    let next = h.next_due_in_ms.map_or_else(
        || "next –".to_owned(),
        |ms| format!("next in {}", units::duration(view.remaining(ms))),
    );
    let round_trip = h
        .round_trip_ms
        .map_or_else(|| "–".to_owned(), units::millis);
    let health = match &view.status.mqtt.client.health {
        None => Line::from("health not published yet").dim(),
        Some(health) => {
            let mut spans = vec![
                "health ".into(),
                if health.ok {
                    Span::styled("ok", Style::new().green().bold())
                } else {
                    Span::styled("NOT OK", Style::new().red().bold())
                },
                format!(" {}", health.event).into(),
            ];
            if let Some(err) = &health.err {
                spans.push(Span::styled(format!(" ({err})"), Style::new().red()));
            }
            Line::from(spans)
        }
    };
    vec![
        Line::from(format!(
            "every {}  sent {}",
            units::duration(Duration::from_millis(h.interval_ms)),
            h.sent
        )),
        Line::from(format!("{last}  {next}")),
        Line::from(format!("broker round trip {round_trip}")),
        Line::from(format!("max drift {}", units::millis(h.max_drift_ms))),
        health,
    ]
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let p = Paragraph::new(lines(view)).block(Block::bordered().title(" Keepalive "));
    frame.render_widget(p, area);
}
