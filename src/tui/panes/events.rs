//! Events pane: the last log lines, newest at the bottom.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use tracing::Level;

use crate::tui::log::EventLine;

/// Lines fetched per draw is the pane's inner height.
pub fn render(frame: &mut Frame, area: Rect, lines: &[EventLine]) {
    let text: Vec<Line> = lines
        .iter()
        .map(|l| {
            let style = match l.level {
                Level::ERROR => Style::new().red(),
                Level::WARN => Style::new().yellow(),
                Level::DEBUG | Level::TRACE => Style::new().dim(),
                Level::INFO => Style::new(),
            };
            Line::styled(l.text.clone(), style)
        })
        .collect();
    let p = Paragraph::new(text).block(Block::bordered().title(" Events "));
    frame.render_widget(p, area);
}
