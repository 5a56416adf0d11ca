//! Recent log lines, fed by a `tracing` layer: what the UI's Events pane,
//! `GET /events` and an attached UI show. Knows nothing of the UI.
//!
//! While the UI owns the screen nothing may print to it; install
//! [`EventLog::layer`] instead of a stderr writer. Writers (any thread) hold
//! the lock only to push one line; the UI copies the few lines it shows.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Lines kept when no capacity is given.
pub const DEFAULT_CAPACITY: usize = 200;
/// The longest line kept (bytes of text; a longer one is cut, then `…`).
pub const MAX_LINE_BYTES: usize = 1024;
/// The most bytes of text the ring holds, whatever its line count: the
/// oldest lines go first.
pub const MAX_RING_BYTES: usize = 256 * 1024;

/// One formatted log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub level: Level,
    /// `HH:MM:SS LEVEL target: message key=value …` (UTC).
    pub text: String,
}

#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<EventLine>,
    /// Bytes of text in `lines`.
    bytes: usize,
}

#[derive(Debug)]
struct Inner {
    lines: Mutex<Ring>,
    capacity: usize,
    /// Bumped on every push, so the UI redraws only when something arrived.
    generation: AtomicU64,
}

/// A bounded ring of recent log lines; clones share the ring.
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl EventLog {
    /// A ring keeping the last `capacity` lines (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            inner: Arc::new(Inner {
                lines: Mutex::new(Ring {
                    lines: VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY)),
                    bytes: 0,
                }),
                capacity,
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Add a line (cut to [`MAX_LINE_BYTES`]), dropping the oldest when
    /// the ring holds `capacity` lines or [`MAX_RING_BYTES`].
    pub fn push(&self, level: Level, text: impl Into<String>) {
        let mut text: String = text.into();
        if text.len() > MAX_LINE_BYTES {
            text = crate::text::clip(&text, MAX_LINE_BYTES);
        }
        {
            let mut ring = self
                .inner
                .lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            while ring.lines.len() >= self.inner.capacity
                || (ring.bytes + text.len() > MAX_RING_BYTES && !ring.lines.is_empty())
            {
                let Some(old) = ring.lines.pop_front() else {
                    break;
                };
                ring.bytes -= old.text.len();
            }
            ring.bytes += text.len();
            ring.lines.push_back(EventLine { level, text });
        }
        self.inner.generation.fetch_add(1, Ordering::Release);
    }

    /// Changes whenever a line is pushed.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// The last `n` lines, oldest first.
    #[must_use]
    pub fn recent(&self, n: usize) -> Vec<EventLine> {
        let ring = self
            .inner
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let skip = ring.lines.len().saturating_sub(n);
        ring.lines.iter().skip(skip).cloned().collect()
    }

    /// A `tracing_subscriber` layer that writes every event into this ring.
    #[must_use]
    pub fn layer(&self) -> EventLayer {
        EventLayer { log: self.clone() }
    }
}

/// Feeds an [`EventLog`]; see [`EventLog::layer`].
#[derive(Debug, Clone)]
pub struct EventLayer {
    log: EventLog,
}

impl<S: Subscriber> Layer<S> for EventLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let target = meta.target();
        // `service::…`, `mqtt::…`: short, as the modules are known.
        let (part, target) = match target.strip_prefix("tars_mqtt") {
            Some(rest) => ("mqtt", rest),
            None => ("", target.strip_prefix("tars_camera::").unwrap_or(target)),
        };
        let mut text = format!(
            "{} {:<5} {part}{target}: {}",
            clock_utc(),
            meta.level(),
            fields.message
        );
        text.push_str(&fields.rest);
        self.log.push(*meta.level(), text);
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// `HH:MM:SS` of the current UTC time (no time-zone database on the robot).
fn clock_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn keeps_the_last_lines_and_counts_pushes() {
        let log = EventLog::new(3);
        let g0 = log.generation();
        for i in 0..5 {
            log.push(Level::INFO, format!("line {i}"));
        }
        let lines: Vec<_> = log.recent(10).into_iter().map(|l| l.text).collect();
        assert_eq!(lines, ["line 2", "line 3", "line 4"]);
        assert_eq!(log.recent(1)[0].text, "line 4");
        assert_eq!(log.generation(), g0 + 5);
    }

    #[test]
    fn lines_and_the_ring_are_capped_in_bytes() {
        let log = EventLog::new(10_000);
        log.push(Level::WARN, "y".repeat(5_000_000));
        let line = &log.recent(1)[0].text;
        assert_eq!(line.len(), MAX_LINE_BYTES + '…'.len_utf8());
        for i in 0..2_000 {
            log.push(Level::INFO, format!("{i:04} {}", "z".repeat(900)));
        }
        let lines = log.recent(10_000);
        let bytes: usize = lines.iter().map(|l| l.text.len()).sum();
        assert!(bytes <= MAX_RING_BYTES, "{bytes}");
        assert!(lines.len() > 200, "{}", lines.len());
        assert!(lines.last().is_some_and(|l| l.text.starts_with("1999 ")));
    }

    #[test]
    fn the_layer_formats_tracing_events() {
        let log = EventLog::new(10);
        let subscriber = tracing_subscriber::registry().with(log.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "tars_mqtt", attempt = 3, "connection refused");
        });
        let lines = log.recent(10);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].level, Level::WARN);
        let text = &lines[0].text;
        assert!(
            text.ends_with("WARN  mqtt: connection refused attempt=3"),
            "{text}"
        );
    }
}
