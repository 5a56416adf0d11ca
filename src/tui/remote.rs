//! The UI attached to a service in another process: the title row naming
//! it, and what the panes say while it cannot be reached.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// Whether the service answers, as the attach poller last saw it.
#[derive(Debug, Clone, Default)]
struct Reach {
    /// Since when it has not answered; `None` while it answers.
    down_since: Option<Instant>,
    /// The controls view is open: read `/controls` too.
    controls_wanted: bool,
    /// When the next attempt is due.
    retry_at: Option<Instant>,
    error: String,
}

/// The service the UI is attached to; the poller writes, the UI reads.
#[derive(Debug, Clone)]
pub struct RemoteView {
    url: String,
    reach: Arc<Mutex<Reach>>,
}

impl RemoteView {
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            reach: Arc::new(Mutex::new(Reach::default())),
        }
    }

    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reach> {
        self.reach.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service answered.
    pub fn reached(&self) {
        let mut r = self.lock();
        r.down_since = None;
        r.retry_at = None;
        r.error.clear();
    }

    /// The service did not answer at `now`; the next try is in `retry`.
    pub fn failed(&self, now: Instant, retry: Duration, error: &str) {
        let mut r = self.lock();
        r.down_since.get_or_insert(now);
        r.retry_at = Some(now + retry);
        error.clone_into(&mut r.error);
    }

    /// The UI shows the camera's controls (`true`) or no longer does.
    pub fn want_controls(&self, wanted: bool) {
        self.lock().controls_wanted = wanted;
    }

    /// Whether the UI shows the camera's controls now.
    #[must_use]
    pub fn controls_wanted(&self) -> bool {
        self.lock().controls_wanted
    }

    /// Since when the service has not answered.
    #[must_use]
    pub fn down_since(&self) -> Option<Instant> {
        self.lock().down_since
    }

    /// "unreachable for N s, retrying in M s: why", while it is.
    #[must_use]
    pub fn headline(&self, now: Instant) -> Option<String> {
        let r = self.lock();
        let since = r.down_since?;
        let down = now.saturating_duration_since(since).as_secs();
        let retry = r.retry_at.map_or(0, |t| {
            t.saturating_duration_since(now).as_secs_f64().ceil() as u64
        });
        Some(format!(
            "unreachable for {down} s, retrying in {retry} s: {}",
            r.error
        ))
    }
}

/// Rows the title takes.
pub const TITLE_ROWS: u16 = 1;

/// The title row: "tars-camera attached to URL", and the trouble if any.
pub fn render_title(frame: &mut Frame, area: Rect, remote: &RemoteView, now: Instant) {
    let mut spans = vec![
        Span::styled(" tars-camera ", Style::new().bold().reversed()),
        Span::raw(format!(" attached to {} ", remote.url())),
    ];
    if let Some(trouble) = remote.headline(now) {
        spans.push(Span::styled(trouble, Style::new().red().bold()));
    } else {
        spans.push(Span::styled("(q leaves it running)", Style::new().dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Over the status panes while the service cannot be reached: they show
/// its last values, so say so.
pub fn render_unreachable(frame: &mut Frame, area: Rect, remote: &RemoteView, now: Instant) {
    let Some(trouble) = remote.headline(now) else {
        return;
    };
    let width = area.width.min(60);
    let [row] = Layout::vertical([Constraint::Length(5_u16.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    let text = vec![
        Line::from(Span::styled(trouble, Style::new().red().bold())),
        Line::from(format!("{}: the panes show its last values", remote.url())).dim(),
    ];
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Service unreachable ").red()),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_how_long_and_when_next() {
        let r = RemoteView::new("http://127.0.0.1:1");
        let t0 = Instant::now();
        assert!(r.headline(t0).is_none());
        r.failed(t0, Duration::from_secs(2), "connection refused");
        r.failed(
            t0 + Duration::from_secs(3),
            Duration::from_secs(4),
            "connection refused",
        );
        let h = r.headline(t0 + Duration::from_secs(5)).expect("down");
        assert_eq!(
            h,
            "unreachable for 5 s, retrying in 2 s: connection refused"
        );
        r.reached();
        assert!(r.headline(t0 + Duration::from_secs(6)).is_none());
    }
}
