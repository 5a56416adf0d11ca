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

#[cfg(test)]
mod tests {
    use super::*;

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
