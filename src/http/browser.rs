//! What a browser can be made to send, refused: requests to a host name
//! the service does not answer to (DNS rebinding: a page on
//! `evil.example` whose name now points at the robot), control requests
//! from another site's page (`Origin`), and control bodies a page can send
//! without asking (`text/plain` forms).
//!
//! The host check applies only without authentication: with credentials
//! required, a rebound page has none to send.

use std::net::IpAddr;

/// The host names the service answers to without authentication: IP
/// literals, `localhost` (and `*.localhost`), this machine's name and
/// `<name>.local`, and the names given with `--http-allowed-hosts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// Lower case, without a trailing dot.
    names: Vec<String>,
}

impl HostPolicy {
    /// This machine's names plus `extra` (e.g. a reverse proxy's name).
    #[must_use]
    pub fn new(extra: &[String]) -> Self {
        let mut names: Vec<String> = extra.iter().map(|n| normal(n)).collect();
        if let Some(host) = machine_name() {
            names.push(format!("{host}.local"));
            names.push(host);
        }
        Self { names }
    }

    /// Whether a request whose `Host` header is `host` may be served
    /// without authentication (no header: not a browser, allowed).
    #[must_use]
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return true };
        let name = normal(strip_port(host.trim()));
        if name.is_empty() {
            return false;
        }
        is_ip_literal(&name)
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.names.contains(&name)
    }
}

/// Whether `origin` (the `Origin` header) is the service's own, the one a
/// page served from `host` would send: `http://HOST` or `https://HOST`
/// (behind a TLS proxy). No header: not a cross-site browser request.
#[must_use]
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let Some(host) = host else { return false };
    let origin = origin.trim();
    let host = host.trim();
    ["http://", "https://"].iter().any(|scheme| {
        origin.len() == scheme.len() + host.len()
            && origin[..scheme.len()].eq_ignore_ascii_case(scheme)
            && origin
                .get(scheme.len()..)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
    })
}

/// Whether a `Content-Type` is JSON (`application/json`, parameters allowed).
#[must_use]
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|t| t.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn normal(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `host` without its port: `h:80` → `h`, `[::1]:80` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

fn is_ip_literal(name: &str) -> bool {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse::<IpAddr>().is_ok()
}

/// This machine's host name, as the kernel has it.
fn machine_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|n| normal(&n))
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_answered_without_auth() {
        let policy = HostPolicy::new(&["camera.example.org".to_owned()]);
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "10.0.0.7:8080",
            "[::1]:8080",
            "[fe80::1]",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost",
            "camera.example.org",
            "Camera.Example.Org.:443",
        ] {
            assert!(policy.allows(Some(ok)), "{ok}");
        }
        assert!(policy.allows(None));
        for refused in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "",
            "localhost.evil",
        ] {
            assert!(!policy.allows(Some(refused)), "{refused}");
        }
        if let Some(me) = machine_name() {
            assert!(policy.allows(Some(&me)));
            assert!(policy.allows(Some(&format!("{me}.local:8080"))));
        }
    }

    #[test]
    fn only_the_services_own_origin_is_accepted() {
        let host = Some("127.0.0.1:8080");
        assert!(same_origin(None, host));
        assert!(same_origin(Some("http://127.0.0.1:8080"), host));
        assert!(same_origin(Some("https://127.0.0.1:8080"), host));
        assert!(!same_origin(Some("http://evil.example"), host));
        assert!(!same_origin(Some("null"), host));
        assert!(!same_origin(Some("http://127.0.0.1:8081"), host));
        assert!(!same_origin(Some("http://127.0.0.1:8080"), None));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(Some("application/x-www-form-urlencoded")));
        assert!(!is_json(None));
    }
}
