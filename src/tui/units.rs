//! Short human formats for the panes: sizes, rates, durations.
//!
//! Every pane formats numbers through here so units read the same everywhere.

use std::time::Duration;

/// `512 B`, `45.6 KB`, `1.2 MB` (powers of 1024, one decimal above bytes).
#[must_use]
pub fn bytes(n: u64) -> String {
    const KB: f64 = 1024.0;
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let v = n as f64;
    if v < KB {
        format!("{n} B")
    } else if v < KB * KB {
        format!("{:.1} KB", v / KB)
    } else if v < KB * KB * KB {
        format!("{:.1} MB", v / (KB * KB))
    } else {
        format!("{:.1} GB", v / (KB * KB * KB))
    }
}

/// Bytes per second, e.g. `1.2 MB/s`.
#[must_use]
pub fn byte_rate(per_s: f64) -> String {
    if !per_s.is_finite() || per_s <= 0.0 {
        return "0 B/s".to_owned();
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "finite, positive, display only"
    )]
    let n = per_s.round() as u64;
    format!("{}/s", bytes(n))
}

/// A rate in Hz without needless decimals: `0.2 Hz`, `2 Hz`, `12.5 Hz`, `off` for 0.
#[must_use]
pub fn hz(rate_hz: f64) -> String {
    if !rate_hz.is_finite() || rate_hz <= 0.0 {
        "off".to_owned()
    } else if (rate_hz - rate_hz.round()).abs() < 1e-6 {
        format!("{rate_hz:.0} Hz")
    } else {
        format!("{rate_hz:.1} Hz")
    }
}

/// Seconds with one decimal under a minute (`2.3 s`), then `1m 05s`, then `2h 03m`.
#[must_use]
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs / 60) % 60)
    }
}

/// Milliseconds with a precision that suits their size: `0.42 ms`, `12.3 ms`, `250 ms`.
#[must_use]
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        "–".to_owned()
    } else if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Cut `text` to at most `max` characters, ending in `…` when cut.
#[must_use]
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Keep the end of `text` (a path's file name) in at most `max`
/// characters, starting with `…` when cut.
#[must_use]
pub fn clip_left(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut out = String::from("…");
    out.extend(text.chars().skip(n - keep));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_keeps_its_end() {
        assert_eq!(clip_left("/var/lib/snap-0001.jpg", 14), "…snap-0001.jpg");
        assert_eq!(clip_left("short.jpg", 14), "short.jpg");
        assert_eq!(clip_left("abc", 0), "…");
    }

    #[test]
    fn sizes_and_rates_read_naturally() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(46_694), "45.6 KB");
        assert_eq!(bytes(1_258_291), "1.2 MB");
        assert_eq!(byte_rate(1_258_291.0), "1.2 MB/s");
        assert_eq!(byte_rate(f64::NAN), "0 B/s");
        assert_eq!(hz(0.0), "off");
        assert_eq!(hz(0.2), "0.2 Hz");
        assert_eq!(hz(2.0), "2 Hz");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(Duration::from_millis(2_340)), "2.3 s");
        assert_eq!(duration(Duration::from_secs(65)), "1m 05s");
        assert_eq!(duration(Duration::from_secs(7_380)), "2h 03m");
        assert_eq!(millis(0.421), "0.42 ms");
        assert_eq!(millis(12.34), "12.3 ms");
        assert_eq!(millis(250.2), "250 ms");
    }

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("connection refused", 10), "connectio…");
        assert_eq!(clip("short", 10), "short");
    }
}
