//! The App's controls (`c`) and modes (`m`) views: their keys and how
//! they are drawn over the panes.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use super::super::help;
use super::super::panes::{controls, modes};
use super::{App, Refresh};

impl App {
    pub(super) fn on_controls_key(&mut self, key: controls::Key, now: Instant) -> Refresh {
        let list = &self.status.controls;
        match key {
            controls::Key::Open | controls::Key::Close => {
                let open = key == controls::Key::Open;
                self.controls.set_open(open);
                if let Some(remote) = &self.remote {
                    remote.want_controls(open);
                }
            }
            controls::Key::Move(delta) => self.controls.move_by(list, delta),
            change => match self.controls.request(list, change) {
                Ok((command, what)) => {
                    let name = self.controls.selected(list).map(|c| c.name.clone());
                    if !self.send(command, what, now)
                        && let Some(name) = name
                    {
                        self.controls.not_sent(&name);
                    }
                }
                Err(why) => self.set_note(why, now),
            },
        }
        Refresh::Redraw
    }

    pub(super) fn on_modes_key(&mut self, key: modes::Key, now: Instant) -> Refresh {
        match key {
            modes::Key::Open | modes::Key::Close => {
                let open = key == modes::Key::Open;
                self.modes.set_open(open, &self.status.modes);
                if let Some(remote) = &self.remote {
                    remote.want_controls(open);
                }
            }
            modes::Key::Move(delta) => self.modes.move_by(&self.status.modes, delta),
            modes::Key::Pick => match self.modes.request(&self.status.modes) {
                Ok((command, what)) => {
                    self.send(command, what, now);
                }
                Err(why) => self.set_note(why, now),
            },
        }
        Refresh::Redraw
    }

    /// The controls or modes view over the panes, the footer under it.
    pub(super) fn draw_view(&mut self, frame: &mut Frame, area: ratatui::layout::Rect) {
        let [body, footer] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
        let hints = self.hints();
        if self.modes.is_open() {
            self.modes.render(frame, body, &self.status.modes);
        } else {
            let device = self.status.capture.device.clone();
            self.controls
                .render(frame, body, &self.status.controls, &device);
        }
        help::render_footer(frame, footer, &hints, self.note());
        if self.help_open {
            help::render_overlay(frame, area, &hints);
        }
    }
}
