//! Capture pane: what the source delivers and how well; owns the encoder keys
//! (quality, snapshot).

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};

use super::{Action, Hint, View, plain_char};
use crate::control::Command;
use crate::stats::CaptureStatus;
use crate::tui::units;

/// Quality change per key press.
pub const QUALITY_STEP: i32 = 5;

/// Rows this pane wants, borders included.
pub const HEIGHT: u16 = 10;

/// `+`/`=`/`-` quality, `s` snapshot, `w` save the settings.
#[must_use]
pub fn on_key(key: &KeyEvent, _view: &View) -> Option<Action> {
    let command = match plain_char(key)? {
        '+' | '=' => Command::AdjustQuality(QUALITY_STEP),
        '-' => Command::AdjustQuality(-QUALITY_STEP),
        's' => Command::SaveSnapshot,
        'w' => Command::SaveSettings,
        'o' => Command::Rotate,
        _ => return None,
    };
    Some(Action::Send(command))
}

/// The `o` key (handled here, shown after the more used keys).
#[must_use]
pub fn hint_rotate() -> Hint {
    Hint::new("o", "rotate", "turn the picture 90° clockwise")
}

#[must_use]
pub fn hints(view: &View) -> Vec<Hint> {
    let keys = match view.status.encoder.quality {
        100.. => "-",
        0..=1 => "+",
        _ => "+/-",
    };
    vec![
        Hint::new(keys, "quality", "JPEG quality up/down by 5 (1–100)"),
        Hint::new("s", "snapshot", "save the current frame to a file"),
        Hint::new(
            "w",
            "save",
            "write the live settings into the --config file",
        ),
    ]
}

/// Colour of a measured rate against its target.
fn rate_color(measured: f64, target: f64) -> Color {
    if target <= 0.0 || measured >= 0.9 * target {
        Color::Green
    } else if measured >= 0.5 * target {
        Color::Yellow
    } else {
        Color::Red
    }
}

/// What the source delivers: size and format first, so a narrow pane cuts
/// the device name, not them; a device that only repeats the backend's name
/// ("test pattern") is left out.
fn source_line(c: &CaptureStatus) -> String {
    let resolution = format!("{}x{}", c.width, c.height);
    let device = if c.device.replace(' ', "-") == c.backend {
        ""
    } else {
        c.device.as_str()
    };
    [
        resolution.as_str(),
        c.pixel_format.as_str(),
        c.backend.as_str(),
        device,
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

/// The text lines above and below the sparkline.
#[must_use]
/// The lines above and below the sparkline, for a pane `width` characters
/// wide inside its border (a saved file's path keeps its name).
pub fn lines(view: &View, width: usize) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let c = &view.status.capture;
    let e = &view.status.encoder;
    let fps = Line::from(vec![
        "fps ".into(),
        Span::styled(
            format!("{:.1}", c.measured_fps),
            Style::new()
                .fg(rate_color(c.measured_fps, c.target_fps))
                .bold(),
        ),
        format!(" / {} target", crate::stats::fps_text(c.target_fps)).into(),
    ]);
    let head = vec![Line::from(source_line(c)), fps];
    let failures = Line::from(vec![
        "failures ".into(),
        Span::styled(
            format!("{} now", c.consecutive_failures),
            if c.consecutive_failures > 0 {
                Style::new().red().bold()
            } else {
                Style::new()
            },
        ),
        format!(", {} total  reopens {}", c.total_failures, c.reopens).into(),
    ]);
    let mut transform = if c.passthrough {
        format!("passthrough (source JPEG), {} idle", e.encoder)
    } else {
        format!("re-encode {}", e.encoder)
    };
    if c.rotation != 0 {
        transform.push_str(&format!(" rot {}", c.rotation));
    }
    if c.flip_h {
        transform.push_str(" flip-h");
    }
    if c.flip_v {
        transform.push_str(" flip-v");
    }
    let error = match &c.last_error {
        // Red while failing; once frames flow again, when it happened.
        Some(err) if c.consecutive_failures > 0 => Line::from(vec![
            "error ".into(),
            Span::styled(err.clone(), Style::new().red()),
        ]),
        Some(err) => {
            let now = crate::frame::unix_seconds(std::time::SystemTime::now());
            let ago = c.last_error_at.map_or(0.0, |at| (now - at).max(0.0));
            Line::from(format!(
                "error {} ago: {err}",
                units::duration(std::time::Duration::from_secs_f64(ago))
            ))
            .dim()
        }
        None => Line::from("error none").dim(),
    };
    let saved = match &e.last_saved {
        Some(path) => Line::from(vec![
            "saved ".into(),
            Span::styled(
                units::clip_left(path, width.saturating_sub(6)),
                Style::new().cyan(),
            ),
        ]),
        None => Line::from("saved – (s saves a snapshot)").dim(),
    };
    let mut tail = vec![
        Line::from(format!(
            "frame {}  jpeg {}  q{}",
            units::millis(c.frame_time_ms),
            units::bytes(e.jpeg_bytes),
            e.quality
        )),
        failures,
        Line::from(transform),
        error,
        saved,
    ];
    tail.extend(task_failures(&view.status.tasks));
    (head, tail)
}

/// A red line naming the service's tasks that failed, when any did.
fn task_failures(tasks: &crate::supervise::TasksStatus) -> Option<Line<'static>> {
    if tasks.failures == 0 {
        return None;
    }
    let failed: Vec<String> = tasks
        .tasks
        .iter()
        .filter(|t| t.panics + t.early_exits > 0)
        .map(|t| format!("{} ×{} ({})", t.name, t.panics + t.early_exits, t.state))
        .collect();
    Some(Line::from(vec![
        "tasks failed ".into(),
        Span::styled(failed.join(", "), Style::new().red().bold()),
    ]))
}

/// Measured FPS history in tenths, for the sparkline.
fn history(fps: &[f64]) -> Vec<u64> {
    fps.iter()
        .map(|&f| {
            let tenths = (f * 10.0).round();
            if tenths.is_finite() && tenths > 0.0 {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "positive, finite"
                )]
                let t = tenths as u64;
                t
            } else {
                0
            }
        })
        .collect()
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let block = Block::bordered().title(" Capture ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (head, tail) = lines(view, usize::from(inner.width));
    let head_h = u16::try_from(head.len()).unwrap_or(u16::MAX);
    let [head_area, spark_area, tail_area] = Layout::vertical([
        Constraint::Length(head_h),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(head), head_area);
    let c = &view.status.capture;
    let data = history(&c.fps_history);
    // The scale tops at the target (or the highest value), so a full bar means "on target".
    let max = data
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(history(&[c.target_fps]).first().copied().unwrap_or(0))
        .max(1);
    let spark = Sparkline::default()
        .data(&data)
        .max(max)
        .style(Style::new().fg(rate_color(c.measured_fps, c.target_fps)));
    frame.render_widget(spark, spark_area);
    frame.render_widget(Paragraph::new(tail), tail_area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Status;
    use crate::supervise::{TaskStatus, TasksStatus};

    #[test]
    fn failed_tasks_show_as_a_red_line_only_when_there_are_any() {
        let mut status = Status::default();
        let (_, tail) = lines(&View::fresh(&status), 80);
        let quiet = tail.len();
        status.tasks = TasksStatus {
            failures: 2,
            tasks: vec![TaskStatus {
                name: "frame publisher".into(),
                state: "running".into(),
                panics: 2,
                restarts: 2,
                ..TaskStatus::default()
            }],
        };
        let (_, tail) = lines(&View::fresh(&status), 80);
        assert_eq!(tail.len(), quiet + 1);
        let last = tail.last().map(ToString::to_string).unwrap_or_default();
        assert_eq!(last, "tasks failed frame publisher ×2 (running)");
    }
}
