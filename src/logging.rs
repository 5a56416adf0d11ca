//! Where log lines go: stderr headless (shaped for its home: journald under
//! systemd, plain for a pipe, coloured for a terminal), the recent-lines
//! ring for `/events`, and only the ring while the UI owns the screen.

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::events::EventLog;

/// How stderr lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StderrStyle {
    /// systemd's journal reads stderr (`JOURNAL_STREAM` is set): each line
    /// starts with its syslog priority (`<4>` for a warning) and carries no
    /// timestamp (the journal adds its own).
    pub journal: bool,
    /// ANSI colours.
    pub ansi: bool,
}

impl StderrStyle {
    /// From the environment: `JOURNAL_STREAM` (set by systemd when stderr is
    /// its journal), `NO_COLOR` (any non-empty value: no colour), and
    /// whether stderr is a terminal.
    #[must_use]
    pub fn from_env() -> Self {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let journal = set("JOURNAL_STREAM");
        Self {
            journal,
            ansi: !journal && !set("NO_COLOR") && std::io::stderr().is_terminal(),
        }
    }
}

/// The syslog priority journald reads from a line's `<N>` prefix
/// (sd-daemon(3)): error 3, warning 4, info 6, debug and trace 7.
#[must_use]
pub fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// The usual line without its time, after a `<N>` priority prefix.
struct JournalFormat(Format<tracing_subscriber::fmt::format::Full, ()>);

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", syslog_priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// The log filter for `level` (`info`, `debug`, …): this program's crates at
/// `level`, others at warn unless debug or trace is asked for.
#[must_use]
pub fn filter(level: &str) -> EnvFilter {
    let others = if matches!(level, "debug" | "trace") {
        level
    } else {
        "warn"
    };
    // rumqttd logs routine disconnects at ERROR: keep it off.
    EnvFilter::new(format!(
        "{others},tars_camera={level},tars_mqtt={level},rumqttd=off"
    ))
}

/// The stderr layer in `style`, filtered at `level`.
pub fn stderr_layer<S>(style: StderrStyle, level: &str) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(style.ansi);
    if style.journal {
        let format = tracing_subscriber::fmt::format()
            .without_time()
            .with_ansi(false);
        layer
            .event_format(JournalFormat(format))
            .with_filter(filter(level))
            .boxed()
    } else {
        layer.with_filter(filter(level)).boxed()
    }
}

/// Headless: stderr and the recent-lines ring (`/events` serves it).
pub fn init_headless(level: &str, events: &EventLog) {
    tracing_subscriber::registry()
        .with(stderr_layer(StderrStyle::from_env(), level))
        .with(events.layer().with_filter(filter(level)))
        .init();
}

/// Stderr only (the `broker` subcommand).
pub fn init_stderr(level: &str) {
    tracing_subscriber::registry()
        .with(stderr_layer(StderrStyle::from_env(), level))
        .init();
}

/// Under the UI: the ring only (the UI owns the screen; the Events pane
/// shows the lines).
pub fn init_ui(level: &str, events: &EventLog) {
    tracing_subscriber::registry()
        .with(events.layer().with_filter(filter(level)))
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_syslog_levels() {
        assert_eq!(syslog_priority(Level::ERROR), 3);
        assert_eq!(syslog_priority(Level::WARN), 4);
        assert_eq!(syslog_priority(Level::INFO), 6);
        assert_eq!(syslog_priority(Level::DEBUG), 7);
        assert_eq!(syslog_priority(Level::TRACE), 7);
    }
}
