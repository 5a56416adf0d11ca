//! The footer (keys that apply now) and the `?` help overlay.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::panes::{Action, Hint, plain_char};

/// `?` toggles the overlay; `Esc` closes it while it is open (and quits otherwise).
#[must_use]
pub fn on_key(key: &KeyEvent, open: bool) -> Option<Action> {
    let esc = key.code == KeyCode::Esc && key.kind == KeyEventKind::Press;
    (plain_char(key) == Some('?') || (open && esc)).then_some(Action::ToggleHelp)
}

/// Keys that always apply.
#[must_use]
pub fn global_hints(help_open: bool) -> Vec<Hint> {
    vec![
        Hint::new("q", "quit", "quit (also Esc, Ctrl-C); stops the service"),
        Hint::new(
            "?",
            if help_open { "close help" } else { "help" },
            "this help (Esc closes it)",
        ),
    ]
}

/// One row: as many hints as fit (in order of importance), then the note
/// (if any) on the right.
pub fn render_footer(frame: &mut Frame, area: Rect, hints: &[Hint], note: Option<&str>) {
    let width = usize::from(area.width);
    let note_width = note.map_or(0, |n| n.chars().count() + 1);
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    for h in hints {
        let gap = usize::from(used > 0);
        let w = gap + h.keys.chars().count() + 1 + h.label.chars().count();
        if used + w + note_width > width {
            break;
        }
        if gap > 0 {
            spans.push(" ".into());
        }
        spans.push(Span::styled(h.keys, Style::new().bold().reversed()));
        spans.push(format!(" {}", h.label).into());
        used += w;
    }
    if let Some(note) = note {
        let room = width.saturating_sub(used + 1);
        let note = crate::tui::units::clip(note, room);
        let pad = width.saturating_sub(used + note.chars().count());
        spans.push(" ".repeat(pad).into());
        spans.push(Span::styled(note, Style::new().yellow()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A centred box listing every key with its help line.
pub fn render_overlay(frame: &mut Frame, area: Rect, hints: &[Hint]) {
    let mut lines: Vec<Line> = hints
        .iter()
        .map(|h| {
            Line::from(vec![
                Span::styled(format!(" {:>4} ", h.keys), Style::new().bold()),
                format!(" {}", h.help).into(),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(" Changes apply to the running service at once.").dim());
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = area.centered(Constraint::Max(64), Constraint::Max(height));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Help — keys ").yellow()),
        popup,
    );
}
