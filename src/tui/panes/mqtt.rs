//! MQTT pane: link state in colour, the reconnect countdown, counters and
//! frame publishing; owns the rate, pause and reconnect keys.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{Action, Hint, View, plain_char};
use crate::control::Command;
use crate::tui::units;
use tars_mqtt::LinkState;

/// Rows this pane wants, borders included.
pub const HEIGHT: u16 = 8;

/// `]`/`[` rate, `p` pause, `r` reconnect.
#[must_use]
pub fn on_key(key: &KeyEvent, _view: &View) -> Option<Action> {
    let command = match plain_char(key)? {
        ']' => Command::StepMqttRate(true),
        '[' => Command::StepMqttRate(false),
        'p' => Command::ToggleMqttPause,
        'r' => Command::ReconnectMqtt,
        _ => return None,
    };
    Some(Action::Send(command))
}

#[must_use]
pub fn hints(view: &View) -> Vec<Hint> {
    let m = &view.status.mqtt;
    vec![
        Hint::new("]/[", "rate", "MQTT frame rate up/down a step"),
        Hint::new(
            "p",
            if m.paused { "resume" } else { "pause" },
            "pause or resume MQTT frames",
        ),
        Hint::new("r", "reconnect", "drop the MQTT link and connect again now"),
    ]
}

/// Green connected; yellow connecting or waiting; red when an error stands
/// and the link is down; grey once stopped.
#[must_use]
pub fn state_color(view: &View) -> Color {
    let c = &view.status.mqtt.client;
    match c.state {
        LinkState::Connected => Color::Green,
        LinkState::Stopped => Color::DarkGray,
        _ if c.last_error.is_some() => Color::Red,
        LinkState::Connecting | LinkState::Waiting => Color::Yellow,
    }
}

/// "connected for 1m 05s", "waiting: attempt 3, next try in 2.3 s", …
#[must_use]
pub fn state_text(view: &View) -> String {
    let c = &view.status.mqtt.client;
    match c.state {
        LinkState::Connected => {
            format!(
                "connected for {}",
                units::duration(view.since(c.since_unix_ms))
            )
        }
        LinkState::Connecting => format!("connecting (attempt {})", c.attempt),
        LinkState::Waiting => {
            let wait = c
                .next_attempt_in_ms
                .map_or(std::time::Duration::ZERO, |ms| view.remaining(ms));
            format!(
                "waiting: attempt {}, next try in {}",
                c.attempt,
                units::duration(wait)
            )
        }
        LinkState::Stopped => "stopped".to_owned(),
    }
}

#[must_use]
pub fn lines(view: &View) -> Vec<Line<'static>> {
    let m = &view.status.mqtt;
    let c = &m.client;
    let mut broker = c.broker.clone();
    if let Some(embedded) = &m.embedded_broker {
        broker.push_str(&format!(" (embedded {embedded})"));
    }
    let frames = if m.paused {
        Line::from(vec![
            format!("frames → {} {} ", m.frame_topic, units::hz(m.rate_hz)).into(),
            "PAUSED".yellow().bold(),
        ])
    } else {
        Line::from(format!(
            "frames → {} {}  sent {}",
            m.frame_topic,
            units::hz(m.rate_hz),
            m.frames_published
        ))
    };
    let error = match &c.last_error {
        // Once connected again, the last error is history: say so, dimmed.
        Some(err) if c.state == LinkState::Connected => {
            Line::from(format!("last error {err}")).dim()
        }
        Some(err) => Line::from(vec![
            "error ".into(),
            Span::styled(err.clone(), Style::new().red()),
        ]),
        None => Line::from("error none").dim(),
    };
    vec![
        Line::from(broker),
        Line::from(Span::styled(
            state_text(view),
            Style::new().fg(state_color(view)).bold(),
        )),
        Line::from(if c.inbound_too_large > 0 {
            format!(
                "reconnects {}  received {} ({} too large)",
                c.reconnects, c.received, c.inbound_too_large
            )
        } else {
            format!("reconnects {}  received {}", c.reconnects, c.received)
        }),
        Line::from(format!(
            "published {}  dropped {}  deduped {}",
            c.published, c.dropped, c.deduplicated
        )),
        frames,
        error,
    ]
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let p = Paragraph::new(lines(view)).block(Block::bordered().title(" MQTT "));
    frame.render_widget(p, area);
}
