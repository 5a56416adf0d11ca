//! Controls view (`c`): the camera's own controls with their values and
//! ranges; keys change the selected one through the service's command
//! channel.
//!
//! What it shows is always what the service reports: a change shows once
//! the service confirms it (its reply, then the next status), never before.
//! A refused change (an inactive or read-only control, a value the driver
//! will not take) leaves the value and shows the service's reason.
//!
//! - [`step`]: what a key asks of a control (the next value, item, default).

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};
use tokio::sync::mpsc;

use super::{Action, Hint, plain_char, plain_code};
use crate::capture::controls::ControlInfo;
use crate::control::{Applied, Command, ControlError, ControlRequest, Reply};

pub mod step;
pub use step::target;
use step::{raw_from_text, request_value, text_of};

/// Steps per `PgUp` / `PgDn`.
pub const PAGE_STEPS: i64 = 10;
/// Replies waiting for the UI to read them (one per change sent).
const REPLY_QUEUE: usize = 32;
/// Rows under the list: the selected control's details and the last result.
const DETAIL_ROWS: u16 = 4;

/// A key of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Open,
    Close,
    /// Selection up (negative) or down.
    Move(i32),
    /// Steps down (negative) or up; a boolean toggles.
    Step(i64),
    /// Back to the driver's default.
    Default,
    /// A menu's next item, round to the first; a boolean toggles.
    Cycle,
}

/// `c` opens the view.
#[must_use]
pub fn on_key_closed(key: &KeyEvent) -> Option<Action> {
    (plain_char(key) == Some('c')).then_some(Action::Controls(Key::Open))
}

/// The view's keys while it is open.
#[must_use]
pub fn on_key(key: &KeyEvent) -> Option<Action> {
    if let Some(c) = plain_char(key) {
        return match c {
            'c' => Some(Action::Controls(Key::Close)),
            'd' => Some(Action::Controls(Key::Default)),
            _ => None,
        };
    }
    let k = match plain_code(key)? {
        KeyCode::Esc => Key::Close,
        KeyCode::Up => Key::Move(-1),
        KeyCode::Down => Key::Move(1),
        KeyCode::Left => Key::Step(-1),
        KeyCode::Right => Key::Step(1),
        KeyCode::PageUp => Key::Step(PAGE_STEPS),
        KeyCode::PageDown => Key::Step(-PAGE_STEPS),
        KeyCode::Enter => Key::Cycle,
        _ => return None,
    };
    Some(Action::Controls(k))
}

/// The `c` key while the view is closed.
#[must_use]
pub fn hint_closed() -> Hint {
    Hint::new(
        "c",
        "controls",
        "camera controls: list them and change them",
    )
}

/// The view's keys, for the footer and the help overlay.
#[must_use]
pub fn hints() -> Vec<Hint> {
    vec![
        Hint::new("Esc/c", "close", "leave the controls view"),
        Hint::new("↑/↓", "select", "select a control"),
        Hint::new("←/→", "step", "one step down/up; a boolean toggles"),
        Hint::new("PgUp/PgDn", "±10", "ten steps up/down"),
        Hint::new("d", "default", "set the driver's default"),
        Hint::new(
            "Enter",
            "next item",
            "a menu's next item (round to the first)",
        ),
    ]
}

/// What a refused or failed change says: the control and the reason.
#[must_use]
pub fn refusal_text(error: &ControlError) -> String {
    match error {
        ControlError::Controls(c) => c.to_string(),
        other => other.to_string(),
    }
}

type Outcome = (String, Result<Applied, ControlError>);

/// The view's state: open or not, the selection (by name, so it stays on
/// its control when the list changes), changes sent and not yet answered.
#[derive(Debug)]
pub struct ControlsView {
    open: bool,
    selected: Option<String>,
    table: TableState,
    /// Per control: the value last asked for and how many are unanswered,
    /// so quick steps go on from what was asked, not from what shows.
    pending: HashMap<String, (i64, u32)>,
    /// The last result, shown under the list in full.
    last: Option<String>,
    replies_tx: mpsc::Sender<Outcome>,
    replies_rx: mpsc::Receiver<Outcome>,
}

impl Default for ControlsView {
    fn default() -> Self {
        let (replies_tx, replies_rx) = mpsc::channel(REPLY_QUEUE);
        Self {
            open: false,
            selected: None,
            table: TableState::default(),
            pending: HashMap::new(),
            last: None,
            replies_tx,
            replies_rx,
        }
    }
}

impl ControlsView {
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn set_open(&mut self, open: bool) {
        self.open = open;
    }

    /// The selected control's position in `controls` (the first when none is).
    #[must_use]
    pub fn selected_index(&self, controls: &[ControlInfo]) -> Option<usize> {
        if controls.is_empty() {
            return None;
        }
        let found = self
            .selected
            .as_ref()
            .and_then(|name| controls.iter().position(|c| &c.name == name));
        Some(found.unwrap_or(0))
    }

    /// The selected control.
    #[must_use]
    pub fn selected<'a>(&self, controls: &'a [ControlInfo]) -> Option<&'a ControlInfo> {
        controls.get(self.selected_index(controls)?)
    }

    /// Move the selection by `delta` rows, stopping at the ends.
    pub fn move_by(&mut self, controls: &[ControlInfo], delta: i32) {
        let Some(i) = self.selected_index(controls) else {
            return;
        };
        let to = i
            .saturating_add_signed(isize::try_from(delta).unwrap_or(0))
            .min(controls.len() - 1);
        self.selected = Some(controls[to].name.clone());
    }

    /// The command for `change` of the selected control and the note saying
    /// what was asked; or the note saying why nothing is sent.
    ///
    /// # Errors
    /// No controls, nothing this key does to this control, or already there.
    pub fn request(
        &mut self,
        controls: &[ControlInfo],
        change: Key,
    ) -> Result<(Command, String), String> {
        let c = self
            .selected(controls)
            .ok_or_else(|| "no controls to change".to_owned())?;
        let base = self.pending.get(&c.name).map_or(c.value, |(v, _)| *v);
        let Some(raw) = target(c, base, change) else {
            return Err(format!("{}: Enter cycles menu items only", c.name));
        };
        let (value, text) = request_value(c, raw);
        if raw == base {
            return Err(format!("{} is {text} already", c.name));
        }
        let name = c.name.clone();
        let entry = self.pending.entry(name.clone()).or_insert((raw, 0));
        *entry = (raw, entry.1 + 1);
        let tx = self.replies_tx.clone();
        let for_reply = name.clone();
        let reply = Reply::new(move |outcome| {
            let _ = tx.try_send((for_reply.clone(), outcome));
        });
        let request = ControlRequest {
            controls: vec![(name.clone(), value)],
            ..ControlRequest::default()
        };
        Ok((Command::Apply(request, reply), format!("{name} → {text}…")))
    }

    /// A change was not sent after all: forget it.
    pub fn not_sent(&mut self, name: &str) {
        self.answered(name);
    }

    fn answered(&mut self, name: &str) {
        if let Some((_, n)) = self.pending.get_mut(name) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.pending.remove(name);
            }
        }
    }

    /// The service's answers so far: each confirmed value goes into
    /// `controls` at once; returns the notes to show (in order).
    pub fn take_replies(&mut self, controls: &mut [ControlInfo]) -> Vec<String> {
        let mut notes = Vec::new();
        while let Ok((name, outcome)) = self.replies_rx.try_recv() {
            self.answered(&name);
            let note = match outcome {
                Ok(applied) => {
                    let text = applied.applied["controls"]
                        .get(&name)
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned);
                    let c = controls.iter_mut().find(|c| c.name == name);
                    match (c, text) {
                        (Some(c), Some(text)) => {
                            if let Some(raw) = raw_from_text(c, &text) {
                                c.value = raw;
                            }
                            format!("{name} = {text}")
                        }
                        _ => format!("{name}: applied"),
                    }
                }
                Err(e) => refusal_text(&e),
            };
            self.last = Some(note.clone());
            notes.push(note);
        }
        notes
    }

    /// The list, and under it the selected control's details and the last result.
    pub fn render(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        controls: &[ControlInfo],
        device: &str,
    ) {
        let block = Block::bordered().title(format!(" Controls {device} "));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if controls.is_empty() {
            let text = "no controls: the source offers none (or they are being read)";
            frame.render_widget(Paragraph::new(text).dim(), inner);
            return;
        }
        let [list, detail] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(DETAIL_ROWS)]).areas(inner);
        self.table.select(self.selected_index(controls));
        frame.render_stateful_widget(table(controls), list, &mut self.table);
        let mut lines = Vec::new();
        if let Some(c) = self.selected(controls) {
            lines.push(Line::from(format!(
                "{} ({}): {}, default {}",
                c.label,
                c.name,
                c.range_text(),
                text_of(c, c.default)
            )));
        }
        if let Some(last) = &self.last {
            lines.push(Line::from(last.clone()).yellow());
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail);
    }
}

/// What is wrong with changing `c` now, if anything.
fn flag(c: &ControlInfo) -> &'static str {
    if c.read_only {
        "read-only"
    } else if c.grabbed {
        "held"
    } else if c.inactive {
        "inactive"
    } else {
        ""
    }
}

/// Name, value and range per row; inactive, read-only and held rows dimmed.
fn table(controls: &[ControlInfo]) -> Table<'_> {
    let values: Vec<String> = controls.iter().map(ControlInfo::value_text).collect();
    let width = |it: &mut dyn Iterator<Item = usize>| {
        u16::try_from(it.max().unwrap_or(0).min(32)).unwrap_or(32)
    };
    let name_w = width(&mut controls.iter().map(|c| c.name.chars().count()));
    let value_w = width(&mut values.iter().map(|v| v.chars().count()));
    let rows = controls.iter().zip(values).map(|(c, value)| {
        let flag = flag(c);
        let range = if flag.is_empty() {
            c.range_text()
        } else {
            format!("({flag}) {}", c.range_text())
        };
        let row = Row::new([
            Cell::from(c.name.as_str()),
            Cell::from(value),
            Cell::from(range),
        ]);
        if flag.is_empty() {
            row
        } else {
            row.style(Style::new().dim())
        }
    });
    Table::new(
        rows,
        [
            Constraint::Length(name_w),
            Constraint::Length(value_w),
            Constraint::Fill(1),
        ],
    )
    .column_spacing(2)
    .row_highlight_style(Style::new().reversed())
    .highlight_symbol("> ")
}
