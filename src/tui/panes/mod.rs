//! The panes: each draws itself from a [`View`] and owns its keys.
//!
//! A pane's `on_key` returns the [`Action`] for the keys it owns (or `None`)
//! and its `hints` list those keys as they apply now, for the footer and the
//! help overlay. The app asks each pane in turn, so there is no central key
//! table to keep in sync.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::control::Command;
use crate::stats::Status;

pub mod capture;
pub mod controls;
pub mod events;
pub mod keepalive;
pub mod modes;
pub mod mqtt;
pub mod preview;
pub mod stream;

/// What the panes draw from: one status snapshot and the time since it came.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub status: &'a Status,
    /// Time since this snapshot arrived: countdowns in it have run this much.
    pub status_age: Duration,
    /// Wall clock now, to age the unix timestamps in the snapshot.
    pub now_unix_ms: u64,
}

impl<'a> View<'a> {
    /// A view of a snapshot that has just arrived.
    #[must_use]
    pub fn fresh(status: &'a Status) -> Self {
        Self {
            status,
            status_age: Duration::ZERO,
            now_unix_ms: now_unix_ms(),
        }
    }

    /// A countdown of `ms` from the snapshot, as it stands now.
    #[must_use]
    pub fn remaining(&self, ms: u64) -> Duration {
        Duration::from_millis(ms).saturating_sub(self.status_age)
    }

    /// Time since the unix time `unix_ms` (zero if it is in the future).
    #[must_use]
    pub fn since(&self, unix_ms: u64) -> Duration {
        Duration::from_millis(self.now_unix_ms.saturating_sub(unix_ms))
    }
}

/// Wall clock in unix milliseconds.
#[must_use]
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What a key asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a command to the service.
    Send(Command),
    /// Show or hide the preview (local to the UI).
    TogglePreview,
    /// Open or close the help overlay.
    ToggleHelp,
    /// A key of the controls view (or `c`, which opens it).
    Controls(controls::Key),
    /// A key of the modes view (or `m`, which opens it).
    Modes(modes::Key),
    /// Leave the UI (and stop the service).
    Quit,
}

/// One key (or key pair) as the footer and the help overlay show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub keys: &'static str,
    /// Short, state-dependent: "pause" or "resume".
    pub label: String,
    /// One line for the help overlay.
    pub help: &'static str,
}

impl Hint {
    #[must_use]
    pub fn new(keys: &'static str, label: impl Into<String>, help: &'static str) -> Self {
        Self {
            keys,
            label: label.into(),
            help,
        }
    }
}

/// The character of a key press without Ctrl or Alt (Shift is fine: `+`).
#[must_use]
pub fn plain_char(key: &KeyEvent) -> Option<char> {
    match plain_code(key)? {
        KeyCode::Char(c) => Some(c),
        _ => None,
    }
}

/// The key's code when it is pressed (or repeats) without Ctrl or Alt.
#[must_use]
pub fn plain_code(key: &KeyEvent) -> Option<KeyCode> {
    let pressed = matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat);
    let modified = key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    (pressed && !modified).then_some(key.code)
}
