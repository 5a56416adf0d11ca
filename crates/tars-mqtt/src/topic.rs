//! MQTT topic filters: validation and `+`/`#` matching (MQTT 3.1.1 §4.7).

/// `system/health/<service>`: the service's health events and last will.
#[must_use]
pub fn health(service: &str) -> String {
    format!("system/health/{service}")
}

/// True if `filter` is a valid subscription filter: non-empty, `#` only as
/// the whole last level, `+` only as a whole level, no NUL.
#[must_use]
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    let last = levels.len() - 1;
    levels.iter().enumerate().all(|(i, level)| match *level {
        "#" => i == last,
        "+" => true,
        l => !l.contains(['#', '+']),
    })
}

/// True if `topic` is a valid topic name to publish on (no wildcards).
#[must_use]
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['#', '+', '\0'])
}

/// True if `topic` matches `filter`. `+` matches exactly one level (which may
/// be empty), `#` matches the parent level and everything below it. Topics
/// starting with `$` are not matched by a leading wildcard.
#[must_use]
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(tl)) if fl == tl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_single_level() {
        assert!(matches("a/b/c", "a/b/c"));
        assert!(!matches("a/b/c", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(matches("a/+/c", "a/b/c"));
        assert!(matches("a/+/c", "a//c"));
        assert!(!matches("a/+/c", "a/b/d"));
        assert!(!matches("a/+", "a/b/c"));
        assert!(matches("+/+", "/x"));
        assert!(matches("+", "a"));
        assert!(!matches("+", "a/b"));
        assert!(matches("system/keepalive/+", "system/keepalive/camera"));
    }

    #[test]
    fn multi_level() {
        assert!(matches("#", "a"));
        assert!(matches("#", "a/b/c"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/#", "a/b"));
        assert!(matches("a/#", "a/b/c"));
        assert!(!matches("a/#", "b/a"));
        assert!(matches("a/+/#", "a/b"));
        assert!(matches("a/+/#", "a/b/c/d"));
        assert!(!matches("a/+/#", "a"));
    }

    #[test]
    fn dollar_topics_hidden_from_leading_wildcards() {
        assert!(!matches("#", "$SYS/broker"));
        assert!(!matches("+/broker", "$SYS/broker"));
        assert!(matches("$SYS/#", "$SYS/broker"));
    }

    #[test]
    fn filter_validation() {
        for ok in ["a", "a/b", "#", "+", "a/+/c", "a/#", "+/+/#", "/"] {
            assert!(valid_filter(ok), "{ok}");
        }
        for bad in ["", "a/#/b", "a#", "a/b+", "#/a", "a/+b", "a\0"] {
            assert!(!valid_filter(bad), "{bad:?}");
        }
        assert!(valid_topic("camera/frame"));
        assert!(!valid_topic("camera/+"));
        assert!(!valid_topic(""));
    }
}
