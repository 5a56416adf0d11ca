//! The UI's state and how input, ticks and status snapshots change it.
//!
//! Every handler returns a [`Refresh`] so the loop redraws only on change.
//! Commands go to the service with `try_send`: a key never waits on it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::halfblock::ColorMode;
use super::help;
use super::layout;
use super::panes::controls::{self, ControlsView};
use super::panes::modes::{self, ModesPicker};
use super::panes::preview::PreviewPane;
use super::panes::{self, Action, Hint, View, capture, events, keepalive, mqtt, stream};
use super::remote::{self, RemoteView};

mod views;
use crate::control::Command;
use crate::events::EventLog;
use crate::frame::FrameHub;
use crate::stats::Status;
use tars_mqtt::LinkState;

/// How long a note stays in the footer.
pub const NOTE_TTL: Duration = Duration::from_secs(4);
/// Ages ("last 2.3 s ago") are refreshed at least this often with no other change.
pub const AGE_REFRESH: Duration = Duration::from_secs(1);

/// What the loop should do after an input, tick or status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    Redraw,
    Skip,
    Quit,
}

impl Refresh {
    fn from_bool(changed: bool) -> Self {
        if changed { Self::Redraw } else { Self::Skip }
    }
}

/// The key handlers of the panes, asked in order; the first that knows a key wins.
type KeyHandler = fn(&KeyEvent, &View) -> Option<Action>;
const PANE_KEYS: [KeyHandler; 3] = [capture::on_key, mqtt::on_key, panes::preview::on_key];

/// Everything the UI draws from.
#[derive(Debug)]
pub struct App {
    status: Status,
    status_at: Instant,
    preview: PreviewPane,
    help_open: bool,
    note: Option<(String, Instant)>,
    commands: mpsc::Sender<Command>,
    events: EventLog,
    events_seen: u64,
    color: ColorMode,
    last_draw: Option<Instant>,
    /// Set when attached to a service in another process.
    remote: Option<RemoteView>,
    /// The controls view (`c`).
    controls: ControlsView,
    /// The modes view (`m`).
    modes: ModesPicker,
}

impl App {
    #[must_use]
    pub fn new(
        status: Status,
        frames: Arc<FrameHub>,
        commands: mpsc::Sender<Command>,
        preview_fps: f64,
        events: EventLog,
        color: ColorMode,
    ) -> Self {
        Self {
            status,
            status_at: Instant::now(),
            preview: PreviewPane::new(frames, preview_fps),
            help_open: false,
            note: None,
            commands,
            events_seen: events.generation(),
            events,
            color,
            last_draw: None,
            remote: None,
            controls: ControlsView::default(),
            modes: ModesPicker::default(),
        }
    }

    /// Show the UI as attached to the service at `remote`: a title row, the
    /// service's reachability, and `q` leaving it running.
    pub fn attach(&mut self, remote: RemoteView) {
        self.remote = Some(remote);
    }

    /// Decode the preview with `codec` (default: libjpeg-turbo when the
    /// system has it, else zune-jpeg).
    #[must_use]
    pub fn with_preview_codec(mut self, codec: &crate::encode::Codec) -> Self {
        self.preview.set_codec(codec);
        self
    }

    #[must_use]
    pub fn status(&self) -> &Status {
        &self.status
    }

    #[must_use]
    pub fn help_open(&self) -> bool {
        self.help_open
    }

    /// Whether the controls view is open.
    #[must_use]
    pub fn controls_open(&self) -> bool {
        self.controls.is_open()
    }

    /// Whether the modes view is open.
    #[must_use]
    pub fn modes_open(&self) -> bool {
        self.modes.is_open()
    }

    #[must_use]
    pub fn preview(&self) -> &PreviewPane {
        &self.preview
    }

    /// The footer note, if one is showing.
    #[must_use]
    pub fn note(&self) -> Option<&str> {
        self.note.as_ref().map(|(n, _)| n.as_str())
    }

    fn set_note(&mut self, text: impl Into<String>, now: Instant) {
        self.note = Some((text.into(), now));
    }

    fn view(&self, now: Instant) -> View<'_> {
        View {
            status: &self.status,
            status_age: now.saturating_duration_since(self.status_at),
            now_unix_ms: panes::now_unix_ms(),
        }
    }

    /// Keys of the panes as they apply now, global ones first.
    #[must_use]
    pub fn hints(&self) -> Vec<Hint> {
        let view = self.view(Instant::now());
        let mut hints = help::global_hints(self.help_open, self.remote.is_some());
        if self.controls.is_open() {
            hints.extend(controls::hints());
            return hints;
        }
        if self.modes.is_open() {
            hints.extend(modes::hints());
            return hints;
        }
        // In order of importance: at 80 columns the last may not fit the footer.
        hints.extend(capture::hints(&view));
        hints.extend(mqtt::hints(&view));
        hints.extend(panes::preview::hints(self.preview.visible()));
        hints.push(controls::hint_closed());
        hints.push(capture::hint_rotate());
        hints.push(modes::hint_closed());
        hints
    }

    /// A terminal event.
    pub fn on_event(&mut self, event: &Event, now: Instant) -> Refresh {
        match event {
            Event::Key(key) => self.on_key(key, now),
            Event::Resize(..) => Refresh::Redraw,
            _ => Refresh::Skip,
        }
    }

    /// A key: help first; in the controls or modes view its keys, then
    /// quit (`Esc` closes the view); else quit, then each pane, then `c`
    /// and `m`.
    pub fn on_key(&mut self, key: &KeyEvent, now: Instant) -> Refresh {
        let in_controls = self.controls.is_open();
        let in_modes = self.modes.is_open();
        let action = help::on_key(key, self.help_open)
            .or_else(|| in_controls.then(|| controls::on_key(key)).flatten())
            .or_else(|| in_modes.then(|| modes::on_key(key)).flatten())
            .or_else(|| is_quit(key).then_some(Action::Quit))
            .or_else(|| {
                if in_controls || in_modes {
                    return None;
                }
                let view = self.view(now);
                PANE_KEYS
                    .iter()
                    .find_map(|handler| handler(key, &view))
                    .or_else(|| controls::on_key_closed(key))
                    .or_else(|| modes::on_key_closed(key))
            });
        match action {
            Some(action) => self.apply(action, now),
            None => Refresh::Skip,
        }
    }

    fn apply(&mut self, action: Action, now: Instant) -> Refresh {
        match action {
            Action::Send(command) => {
                let what = describe(&command);
                self.send(command, what, now);
                Refresh::Redraw
            }
            Action::Controls(key) => self.on_controls_key(key, now),
            Action::Modes(key) => self.on_modes_key(key, now),
            Action::TogglePreview => {
                self.preview.toggle();
                Refresh::Redraw
            }
            Action::ToggleHelp => {
                self.help_open = !self.help_open;
                Refresh::Redraw
            }
            Action::Quit => Refresh::Quit,
        }
    }

    /// Send `command`; the note says `what` was asked, or why it was not sent.
    fn send(&mut self, command: Command, what: String, now: Instant) -> bool {
        if let Some(remote) = self.remote.as_ref().filter(|r| r.down_since().is_some()) {
            let note = format!("{what} not sent: {} does not answer", remote.url());
            self.set_note(note, now);
            return false;
        }
        match self.commands.try_send(command) {
            Ok(()) => {
                self.set_note(what, now);
                return true;
            }
            Err(TrySendError::Full(_)) => {
                self.set_note(format!("busy: command channel full, {what} not sent"), now);
            }
            Err(TrySendError::Closed(_)) => {
                self.set_note(format!("service not listening, {what} not sent"), now);
            }
        }
        false
    }

    /// A new status snapshot.
    pub fn on_status(&mut self, status: Status, now: Instant) -> Refresh {
        if status.encoder.last_saved != self.status.encoder.last_saved
            && let Some(path) = &status.encoder.last_saved
        {
            self.set_note(format!("snapshot saved: {path}"), now);
        }
        let changed = status != self.status;
        self.status = status;
        self.status_at = now;
        Refresh::from_bool(changed)
    }

    /// The status channel closed: the service is gone.
    pub fn on_status_closed(&mut self, now: Instant) -> Refresh {
        self.set_note("service stopped sending status", now);
        Refresh::Redraw
    }

    /// The periodic tick: preview cadence, countdowns, new log lines, notes.
    pub fn on_tick(&mut self, now: Instant) -> Refresh {
        let mut changed = self.preview.on_tick(now);
        let mut notes = self.controls.take_replies(&mut self.status.controls);
        notes.extend(self.modes.take_replies());
        for note in notes {
            self.set_note(note, now);
            changed = true;
        }
        changed |= self.events.generation() != self.events_seen;
        if self
            .note
            .as_ref()
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) >= NOTE_TTL)
        {
            self.note = None;
            changed = true;
        }
        // The reconnect countdown shows tenths of a second.
        changed |= self.status.mqtt.client.state == LinkState::Waiting;
        changed |= self
            .last_draw
            .is_none_or(|t| now.saturating_duration_since(t) >= AGE_REFRESH);
        // "unreachable for N s" counts up.
        changed |= self
            .remote
            .as_ref()
            .is_some_and(|r| r.down_since().is_some());
        Refresh::from_bool(changed)
    }

    /// Draw everything from the current state.
    pub fn draw(&mut self, frame: &mut Frame, now: Instant) {
        self.last_draw = Some(now);
        let mut area = frame.area();
        if let Some(remote) = &self.remote {
            let [title, rest] =
                Layout::vertical([Constraint::Length(remote::TITLE_ROWS), Constraint::Min(0)])
                    .areas(area);
            remote::render_title(frame, title, remote, now);
            area = rest;
        }
        if self.controls.is_open() || self.modes.is_open() {
            self.draw_view(frame, area);
            return;
        }
        let e = &self.status.encoder;
        let aspect = self
            .preview
            .picture_size()
            .unwrap_or((e.width as usize, e.height as usize));
        let areas = layout::areas(area, self.preview.visible(), aspect);
        let hints = self.hints();
        let view = View {
            status: &self.status,
            status_age: now.saturating_duration_since(self.status_at),
            now_unix_ms: panes::now_unix_ms(),
        };
        capture::render(frame, areas.capture, &view);
        stream::render(frame, areas.stream, &view);
        mqtt::render(frame, areas.mqtt, &view);
        keepalive::render(frame, areas.keepalive, &view);
        if let Some(r) = areas.preview {
            self.preview.render(frame, r, self.color);
        }
        self.events_seen = self.events.generation();
        if let Some(r) = areas.events {
            let lines = self.events.recent(usize::from(r.height.saturating_sub(2)));
            events::render(frame, r, &lines);
        }
        if let Some(remote) = &self.remote {
            let stats = areas.capture.union(areas.keepalive);
            remote::render_unreachable(frame, stats, remote, now);
        }
        help::render_footer(frame, areas.footer, &hints, self.note());
        if self.help_open {
            help::render_overlay(frame, area, &hints);
        }
    }
}

/// `q`, `Esc` or `Ctrl-C`.
#[must_use]
pub fn is_quit(key: &KeyEvent) -> bool {
    if key.kind != KeyEventKind::Press {
        return false;
    }
    match key.code {
        KeyCode::Esc => true,
        KeyCode::Char('c') => key.modifiers.contains(KeyModifiers::CONTROL),
        _ => panes::plain_char(key) == Some('q'),
    }
}

/// A note saying what a key asked for.
fn describe(command: &Command) -> String {
    match command {
        Command::AdjustQuality(d) => format!("quality {d:+}"),
        Command::SetMqttRate(r) => format!("MQTT rate {r} Hz"),
        Command::StepMqttRate(true) => "MQTT rate up".to_owned(),
        Command::StepMqttRate(false) => "MQTT rate down".to_owned(),
        Command::ToggleMqttPause => "MQTT pause/resume".to_owned(),
        Command::SaveSnapshot => "saving snapshot…".to_owned(),
        Command::SaveSettings => "saving settings into the config file…".to_owned(),
        Command::ReconnectMqtt => "reconnecting MQTT…".to_owned(),
        Command::Rotate => "rotating 90°…".to_owned(),
        Command::Apply(..) => "control request".to_owned(),
        Command::Quit => "quit".to_owned(),
    }
}
