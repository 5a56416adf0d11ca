//! Events pane: the last log lines, newest at the bottom, long lines wrapped
//! (continuations indented) so a warning is read whole at 80 columns.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use tracing::Level;

use crate::events::EventLine;

/// Indent of a wrapped line's continuation rows.
const INDENT: &str = "  ";

/// `text` cut into rows of at most `width` characters, at spaces where it
/// can; rows after the first start with [`INDENT`].
#[must_use]
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(INDENT.len() + 1);
    let mut rows = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    let room = width;
    // Continuation rows start with the indent: never break inside it.
    let mut first_break = 1;
    while rest.len() > room {
        // Break at the last space that fits, else hard at the edge.
        let cut = rest[..=room]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&i| i >= first_break)
            .unwrap_or(room);
        let row: String = rest[..cut].iter().collect();
        rows.push(row.trim_end().to_owned());
        let skip = if rest.get(cut) == Some(&' ') { 1 } else { 0 };
        rest.drain(..cut + skip);
        rest.splice(0..0, INDENT.chars());
        first_break = INDENT.len() + 1;
    }
    rows.push(rest.into_iter().collect());
    rows
}

fn style(level: Level) -> Style {
    match level {
        Level::ERROR => Style::new().red(),
        Level::WARN => Style::new().yellow(),
        Level::DEBUG | Level::TRACE => Style::new().dim(),
        Level::INFO => Style::new(),
    }
}

/// Draw the newest lines that fit, wrapped to the pane's width.
pub fn render(frame: &mut Frame, area: Rect, lines: &[EventLine]) {
    let width = usize::from(area.width.saturating_sub(2));
    let height = usize::from(area.height.saturating_sub(2));
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    for line in lines.iter().rev() {
        if rows.len() >= height {
            break;
        }
        let wrapped = wrap(&line.text, width);
        for row in wrapped.into_iter().rev() {
            rows.push(Line::styled(row, style(line.level)));
        }
    }
    rows.truncate(height);
    rows.reverse();
    let p = Paragraph::new(rows).block(Block::bordered().title(" Events "));
    frame.render_widget(p, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_with_indented_continuations() {
        let rows = wrap("MQTT: connection refused by the broker at 10.0.0.2", 20);
        assert_eq!(
            rows,
            [
                "MQTT: connection",
                "  refused by the",
                "  broker at 10.0.0.2"
            ]
        );
        assert!(rows.iter().all(|r| r.chars().count() <= 20), "{rows:?}");
        assert_eq!(wrap("short", 20), ["short"]);
        let hard = wrap(&"x".repeat(25), 10);
        assert_eq!(
            hard,
            [
                "x".repeat(10),
                format!("  {}", "x".repeat(8)),
                format!("  {}", "x".repeat(7))
            ]
        );
    }
}
