//! Modes view (`m`): the sizes and rates the source offers, the one in use
//! marked; Enter asks the service for the selected one. What shows as in
//! use is always what the service reports, never what was asked.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};
use tokio::sync::mpsc;

use super::{Action, Hint, plain_char, plain_code};
use crate::capture::mode::{ModeChange, ModesView};
use crate::control::{Applied, Command, ControlError, ControlRequest, Reply};

/// Replies waiting for the UI to read them.
const REPLY_QUEUE: usize = 8;

/// A key of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Open,
    Close,
    /// Selection up (negative) or down.
    Move(i32),
    /// Ask for the selected mode.
    Pick,
}

/// `m` opens the view.
#[must_use]
pub fn on_key_closed(key: &KeyEvent) -> Option<Action> {
    (plain_char(key) == Some('m')).then_some(Action::Modes(Key::Open))
}

/// The view's keys while it is open.
#[must_use]
pub fn on_key(key: &KeyEvent) -> Option<Action> {
    let k = match plain_code(key)? {
        KeyCode::Char('m') | KeyCode::Esc => Key::Close,
        KeyCode::Up => Key::Move(-1),
        KeyCode::Down => Key::Move(1),
        KeyCode::PageUp => Key::Move(-10),
        KeyCode::PageDown => Key::Move(10),
        KeyCode::Enter => Key::Pick,
        _ => return None,
    };
    Some(Action::Modes(k))
}

/// The `m` key while the view is closed.
#[must_use]
pub fn hint_closed() -> Hint {
    Hint::new("m", "modes", "the camera's sizes and rates: pick one")
}

/// The view's keys, for the footer and the help overlay.
#[must_use]
pub fn hints() -> Vec<Hint> {
    vec![
        Hint::new("Esc/m", "close", "leave the modes view"),
        Hint::new("↑/↓", "select", "select a size and rate"),
        Hint::new("Enter", "use", "open the camera in the selected mode"),
    ]
}

/// One row: a size at one rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
}

/// Every size at every rate, in the source's order.
#[must_use]
pub fn choices(view: &ModesView) -> Vec<(Choice, String)> {
    let mut out: Vec<(Choice, String)> = Vec::new();
    for m in &view.modes {
        for &fps in &m.fps {
            let c = Choice {
                width: m.width,
                height: m.height,
                fps,
            };
            // One row per size and rate, whichever format gives it.
            match out.iter_mut().find(|(o, _)| *o == c) {
                Some((_, formats)) => {
                    formats.push_str(", ");
                    formats.push_str(&m.pixel_format);
                }
                None => out.push((c, m.pixel_format.clone())),
            }
        }
    }
    out
}

/// Whether `c` is the mode in use (a 29.97 camera counts as 30).
fn in_use(c: &Choice, view: &ModesView) -> bool {
    let cur = &view.current;
    c.width == cur.width
        && c.height == cur.height
        && (c.fps - cur.fps).abs() <= 0.05 * c.fps.max(1.0)
}

type Outcome = Result<Applied, ControlError>;

/// The view's state: open or not, the selected row, the last result.
#[derive(Debug)]
pub struct ModesPicker {
    open: bool,
    selected: usize,
    /// The selection is on the mode in use or where the keys moved it
    /// (attached, the modes arrive a moment after the view opens).
    placed: bool,
    table: TableState,
    last: Option<String>,
    replies_tx: mpsc::Sender<Outcome>,
    replies_rx: mpsc::Receiver<Outcome>,
}

impl Default for ModesPicker {
    fn default() -> Self {
        let (replies_tx, replies_rx) = mpsc::channel(REPLY_QUEUE);
        Self {
            open: false,
            selected: 0,
            placed: false,
            table: TableState::default(),
            last: None,
            replies_tx,
            replies_rx,
        }
    }
}

impl ModesPicker {
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Open on the mode in use, or close.
    pub fn set_open(&mut self, open: bool, view: &ModesView) {
        self.open = open;
        self.placed = false;
        self.place(view);
    }

    /// Put the selection on the mode in use, once it is known.
    fn place(&mut self, view: &ModesView) {
        if self.placed {
            return;
        }
        if let Some(i) = choices(view).iter().position(|(c, _)| in_use(c, view)) {
            self.selected = i;
            self.placed = true;
        }
    }

    /// Move the selection by `delta` rows, stopping at the ends.
    pub fn move_by(&mut self, view: &ModesView, delta: i32) {
        self.place(view);
        let n = choices(view).len();
        if n == 0 {
            return;
        }
        self.placed = true;
        self.selected = self
            .selected
            .saturating_add_signed(isize::try_from(delta).unwrap_or(0))
            .min(n - 1);
    }

    /// The command asking for the selected mode and the note saying so; or
    /// why nothing is sent.
    ///
    /// # Errors
    /// Nothing to pick, the source's mode is fixed, or already in use.
    pub fn request(&self, view: &ModesView) -> Result<(Command, String), String> {
        if !view.changeable {
            return Err("this source's mode cannot be changed".to_owned());
        }
        let list = choices(view);
        let (c, _) = list
            .get(self.selected.min(list.len().saturating_sub(1)))
            .ok_or_else(|| "no modes to pick from (the camera is not open)".to_owned())?;
        if in_use(c, view) {
            return Err(format!("{} is in use already", choice_text(c)));
        }
        let tx = self.replies_tx.clone();
        let reply = Reply::new(move |outcome| {
            let _ = tx.try_send(outcome);
        });
        let request = ControlRequest {
            mode: ModeChange {
                size: Some((c.width, c.height)),
                fps: Some(c.fps),
                ..ModeChange::default()
            },
            ..ControlRequest::default()
        };
        Ok((
            Command::Apply(request, reply),
            format!("opening {}…", choice_text(c)),
        ))
    }

    /// The service's answers so far, as notes to show.
    pub fn take_replies(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        while let Ok(outcome) = self.replies_rx.try_recv() {
            let note = match outcome {
                Ok(applied) => {
                    let m = &applied.applied["mode"];
                    format!(
                        "mode: {}x{} at {} fps",
                        m["width"],
                        m["height"],
                        m["fps"]
                            .as_f64()
                            .map_or_else(|| "?".to_owned(), crate::stats::fps_text)
                    )
                }
                Err(ControlError::Mode(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            self.last = Some(note.clone());
            notes.push(note);
        }
        notes
    }

    /// The list, the mode in use marked, and the last result under it.
    pub fn render(&mut self, frame: &mut Frame, area: Rect, view: &ModesView) {
        self.place(view);
        let cur = &view.current;
        let block = Block::bordered().title(format!(
            " Modes {}: {}x{} {} at {} fps ",
            cur.device,
            cur.width,
            cur.height,
            cur.pixel_format,
            crate::stats::fps_text(cur.fps)
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let list = choices(view);
        if list.is_empty() {
            let text = if view.changeable {
                "no modes: the camera is not open"
            } else {
                "this source plays at its own size and rate"
            };
            frame.render_widget(Paragraph::new(text).dim(), inner);
            return;
        }
        let [rows_area, detail] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
        let rows = list.iter().map(|(c, formats)| {
            let mark = if in_use(c, view) { "in use" } else { "" };
            let row = Row::new([choice_text(c), formats.clone(), mark.to_owned()]);
            if mark.is_empty() {
                row
            } else {
                row.style(Style::new().bold().green())
            }
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(22),
                Constraint::Length(14),
                Constraint::Fill(1),
            ],
        )
        .column_spacing(2)
        .row_highlight_style(Style::new().reversed())
        .highlight_symbol("> ");
        self.table
            .select(Some(self.selected.min(list.len().saturating_sub(1))));
        frame.render_stateful_widget(table, rows_area, &mut self.table);
        if let Some(last) = &self.last {
            let line = Line::from(last.clone()).yellow();
            frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), detail);
        }
    }
}

fn choice_text(c: &Choice) -> String {
    format!(
        "{}x{} at {} fps",
        c.width,
        c.height,
        crate::stats::fps_text(c.fps)
    )
}
