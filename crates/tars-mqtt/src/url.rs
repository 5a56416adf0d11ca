//! Broker URLs: `mqtt://[user[:pass]@]host[:port]` and `mqtts://…`.
//!
//! The password is kept out of every printable form: `Display`, `Debug`,
//! `redacted()` and parse errors never contain it.

use std::fmt;

use thiserror::Error;

/// Default port of `mqtt://`.
pub const MQTT_PORT: u16 = 1883;
/// Default port of `mqtts://`.
pub const MQTTS_PORT: u16 = 8883;

/// Plain TCP or TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `mqtt://`: plain TCP, port 1883 by default.
    Mqtt,
    /// `mqtts://`: TLS, port 8883 by default.
    Mqtts,
}

impl Scheme {
    /// The scheme as written in a URL.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
        }
    }

    /// The port used when the URL names none.
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Mqtt => MQTT_PORT,
            Scheme::Mqtts => MQTTS_PORT,
        }
    }
}

/// Why a broker URL was rejected. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    /// No `scheme://`.
    #[error("missing scheme: expected mqtt://host[:port] or mqtts://host[:port]")]
    MissingScheme,
    /// A scheme other than mqtt or mqtts.
    #[error("unknown scheme `{0}`: expected mqtt or mqtts")]
    UnknownScheme(String),
    /// Nothing between `//` and the port.
    #[error("missing host: expected mqtt://host[:port]")]
    MissingHost,
    /// A host that is not a name or an IP address.
    #[error("invalid host `{0}`")]
    BadHost(String),
    /// A port that is not 1 to 65535.
    #[error("invalid port `{0}`: expected a number from 1 to 65535")]
    BadPort(String),
    /// `user@` with an empty user.
    #[error("empty user name before `@`")]
    EmptyUser,
    /// A `%` escape that does not decode to UTF-8.
    #[error("bad percent-encoding in the user name or password")]
    BadEncoding,
    /// Anything after the port.
    #[error("unexpected path, query or fragment `{0}`: expected mqtt://host[:port]")]
    UnexpectedPath(String),
}

/// A parsed broker address with optional credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Plain TCP or TLS.
    pub scheme: Scheme,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The port (the scheme's default when the URL names none).
    pub port: u16,
    /// The user name, percent-decoded, if the URL has one.
    pub username: Option<String>,
    password: Option<String>,
}

impl BrokerUrl {
    /// Parses `mqtt://[user[:pass]@]host[:port]` or `mqtts://…`. User and
    /// password may be percent-encoded (`%40` for `@`).
    pub fn parse(input: &str) -> Result<BrokerUrl, UrlError> {
        let input = input.trim();
        let (scheme, rest) = input.split_once("://").ok_or(UrlError::MissingScheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "mqtt" => Scheme::Mqtt,
            "mqtts" => Scheme::Mqtts,
            other => return Err(UrlError::UnknownScheme(other.to_string())),
        };
        // The authority ends at the first `/`, `?` or `#` after the last `@`
        // (a password may contain those characters only percent-encoded).
        let at = rest.rfind('@');
        let host_start = at.map_or(0, |i| i + 1);
        let authority_end = rest[host_start..]
            .find(['/', '?', '#'])
            .map_or(rest.len(), |i| host_start + i);
        let tail = &rest[authority_end..];
        if !tail.is_empty() && tail != "/" {
            return Err(UrlError::UnexpectedPath(tail.to_string()));
        }
        let (username, password) = match at {
            Some(i) => parse_userinfo(&rest[..i])?,
            None => (None, None),
        };
        let (host, port) = parse_host_port(&rest[host_start..authority_end])?;
        Ok(BrokerUrl {
            scheme,
            host,
            port: port.unwrap_or(scheme.default_port()),
            username,
            password,
        })
    }

    /// Builds a URL without credentials.
    #[must_use]
    pub fn new(scheme: Scheme, host: &str, port: u16) -> BrokerUrl {
        BrokerUrl {
            scheme,
            host: host.to_string(),
            port,
            username: None,
            password: None,
        }
    }

    /// Adds credentials.
    #[must_use]
    pub fn with_credentials(mut self, username: &str, password: Option<&str>) -> BrokerUrl {
        self.username = Some(username.to_string());
        self.password = password.map(str::to_string);
        self
    }

    /// The password, for the CONNECT packet only. Never print it.
    #[must_use]
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// True for `mqtts://`.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.scheme == Scheme::Mqtts
    }

    /// The URL with the password replaced by `***`, safe to log and show.
    #[must_use]
    pub fn redacted(&self) -> String {
        self.to_string()
    }
}

fn parse_userinfo(info: &str) -> Result<(Option<String>, Option<String>), UrlError> {
    let (user, pass) = match info.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (info, None),
    };
    if user.is_empty() {
        return Err(UrlError::EmptyUser);
    }
    let user = percent_decode(user)?;
    let pass = pass.map(percent_decode).transpose()?;
    Ok((Some(user), pass))
}

fn parse_host_port(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    if authority.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        // IPv6 literal: [::1]:1883
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| UrlError::BadHost(authority.to_string()))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UrlError::BadHost(host.to_string()));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| UrlError::BadHost(authority.to_string()))?,
            ),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if !host.chars().all(valid_char) {
        return Err(UrlError::BadHost(host.to_string()));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(UrlError::BadPort(p.to_string())),
        },
    };
    Ok((host.to_string(), port))
}

fn percent_decode(s: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(UrlError::BadEncoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::BadEncoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::BadEncoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::BadEncoding)
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        if let Some(user) = &self.username {
            write!(f, "{user}")?;
            if self.password.is_some() {
                write!(f, ":***")?;
            }
            write!(f, "@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BrokerUrl").field(&self.to_string()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_host_gets_default_port() {
        let url = BrokerUrl::parse("mqtt://127.0.0.1").expect("valid");
        assert_eq!(url.scheme, Scheme::Mqtt);
        assert_eq!(url.host, "127.0.0.1");
        assert_eq!(url.port, 1883);
        assert_eq!(url.username, None);
        assert_eq!(url.password(), None);
        assert_eq!(url.to_string(), "mqtt://127.0.0.1:1883");
    }

    #[test]
    fn tls_scheme_and_port() {
        let url = BrokerUrl::parse("mqtts://broker.example.org").expect("valid");
        assert!(url.is_tls());
        assert_eq!(url.port, 8883);
        let url = BrokerUrl::parse("MQTTS://broker.example.org:9000/").expect("valid");
        assert_eq!(url.port, 9000);
    }

    #[test]
    fn credentials_are_parsed_and_decoded() {
        let url = BrokerUrl::parse("mqtt://tars:s3cr%40t:x@robot.local:1884").expect("valid");
        assert_eq!(url.username.as_deref(), Some("tars"));
        assert_eq!(url.password(), Some("s3cr@t:x"));
        assert_eq!(url.host, "robot.local");
        assert_eq!(url.port, 1884);
        let url = BrokerUrl::parse("mqtt://onlyuser@h").expect("valid");
        assert_eq!(url.username.as_deref(), Some("onlyuser"));
        assert_eq!(url.password(), None);
        assert_eq!(url.to_string(), "mqtt://onlyuser@h:1883");
    }

    #[test]
    fn password_never_printed() {
        let url = BrokerUrl::parse("mqtt://tars:hunter2@h:1").expect("valid");
        for shown in [url.to_string(), format!("{url:?}"), url.redacted()] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("tars:***@"), "{shown}");
        }
        // Errors after the credentials never echo the password either.
        for bad in [
            "mqtt://tars:hunter2@h:99999",
            "mqtt://tars:hunter2@",
            "mqtt://tars:hunter2@h/path",
            "mqtt://:hunter2@h",
            "mqtt://tars:hunter2%zz@h",
            "mqtt://tars:hunter2@bad host",
        ] {
            let err = BrokerUrl::parse(bad).expect_err(bad).to_string();
            assert!(!err.contains("hunter2"), "{bad}: {err}");
        }
    }

    #[test]
    fn ipv6_literal() {
        let url = BrokerUrl::parse("mqtt://[::1]:1999").expect("valid");
        assert_eq!(url.host, "::1");
        assert_eq!(url.port, 1999);
        assert_eq!(url.to_string(), "mqtt://[::1]:1999");
        assert!(BrokerUrl::parse("mqtt://[nonsense]:1").is_err());
    }

    #[test]
    fn clear_errors() {
        let cases: &[(&str, UrlError)] = &[
            ("127.0.0.1:1883", UrlError::MissingScheme),
            ("http://h", UrlError::UnknownScheme("http".into())),
            ("mqtt://", UrlError::MissingHost),
            ("mqtt://:1883", UrlError::MissingHost),
            ("mqtt://h:0", UrlError::BadPort("0".into())),
            ("mqtt://h:abc", UrlError::BadPort("abc".into())),
            ("mqtt://h:70000", UrlError::BadPort("70000".into())),
            ("mqtt://h/x", UrlError::UnexpectedPath("/x".into())),
            ("mqtt://h?x=1", UrlError::UnexpectedPath("?x=1".into())),
            ("mqtt://@h", UrlError::EmptyUser),
            ("mqtt://h ost", UrlError::BadHost("h ost".into())),
        ];
        for (input, want) in cases {
            assert_eq!(BrokerUrl::parse(input).as_ref(), Err(want), "{input}");
        }
    }
}
