//! Bounded echo: how much of an outside value is ever quoted back.

/// The most bytes of a rejected value quoted in an error, a result or a log.
pub const MAX_QUOTE_BYTES: usize = 64;

/// `text` cut to at most `max` bytes on a character boundary, with `…`
/// when something was cut.
#[must_use]
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `text` cut to [`MAX_QUOTE_BYTES`] (the form every quoted value takes).
#[must_use]
pub fn quote(text: &str) -> String {
    clip(text, MAX_QUOTE_BYTES)
}

/// Lets one log line through per burst: the first event, then at most one
/// per `quiet` interval (saying how many were not logged in between).
#[derive(Debug)]
pub struct Burst {
    quiet: std::time::Duration,
    state: std::sync::Mutex<(Option<std::time::Instant>, u64)>,
}

impl Burst {
    #[must_use]
    pub fn new(quiet: std::time::Duration) -> Self {
        Self {
            quiet,
            state: std::sync::Mutex::new((None, 0)),
        }
    }

    /// `Some(n)` when this event should be logged (`n` events were not
    /// logged since the last line); `None` to stay quiet.
    pub fn admit(&self) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < self.quiet => {
                state.1 += 1;
                None
            }
            _ => {
                let skipped = state.1;
                *state = (Some(now), 0);
                Some(skipped)
            }
        }
    }
}

/// A JSON value as its text, cut to [`MAX_QUOTE_BYTES`]; a large value is
/// never written out in full (serialisation stops past the limit).
#[must_use]
pub fn quote_json(value: &serde_json::Value) -> String {
    let mut out = Limited {
        bytes: Vec::new(),
        max: MAX_QUOTE_BYTES + 4,
    };
    // Stops with an error once the limit is passed: what was written is kept.
    let _ = serde_json::to_writer(&mut out, value);
    quote(&String::from_utf8_lossy(&out.bytes))
}

/// A writer that takes at most `max` bytes, then refuses.
struct Limited {
    bytes: Vec<u8>,
    max: usize,
}

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.max.saturating_sub(self.bytes.len());
        if room == 0 {
            return Err(std::io::Error::other("enough"));
        }
        let n = room.min(buf.len());
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_once_then_once_per_quiet_interval() {
        let burst = Burst::new(std::time::Duration::from_millis(200));
        assert_eq!(burst.admit(), Some(0));
        for _ in 0..1000 {
            assert_eq!(burst.admit(), None);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert_eq!(burst.admit(), Some(1000));
    }

    #[test]
    fn json_values_are_quoted_without_writing_them_out() {
        assert_eq!(quote_json(&serde_json::json!(101)), "101");
        assert_eq!(quote_json(&serde_json::json!("high")), "\"high\"");
        let big = serde_json::Value::from("é".repeat(3_000_000));
        let q = quote_json(&big);
        assert!(q.len() <= MAX_QUOTE_BYTES + 3, "{}", q.len());
        assert!(q.starts_with("\"éé") && q.ends_with('…'), "{q}");
    }

    #[test]
    fn clips_on_a_character_boundary_and_marks_the_cut() {
        assert_eq!(clip("short", 64), "short");
        assert_eq!(clip("abcdef", 3), "abc…");
        // "é" is two bytes: never split.
        assert_eq!(clip("aéé", 2), "a…");
        let long = "x".repeat(5_000_000);
        let q = quote(&long);
        assert_eq!(q.len(), MAX_QUOTE_BYTES + '…'.len_utf8());
        assert!(q.ends_with('…'));
    }
}
