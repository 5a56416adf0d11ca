//! HTTP authentication: Basic (a browser prompts), a Bearer token, or the
//! token as `?token=` (for an `<img src>` in a web page). Off unless
//! configured. Secrets are compared in constant time and never printed:
//! [`Secret`]'s `Debug` and `Display` show only that one is set.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::Deserialize;

use super::request::Request;

/// The realm a browser shows in its login prompt.
pub const REALM: &str = "tars-camera";

/// A password or token: printed as `***`, whatever the format.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for comparing.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// A string; any other value is refused without quoting it (a wrong
    /// type is still a secret someone meant to set).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Other(serde::de::IgnoredAny),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => Ok(Self(s)),
            Raw::Other(_) => Err(serde::de::Error::custom(
                "must be a string in quotes (the value is not shown: it is a secret)",
            )),
        }
    }
}

/// A configured secret has the wrong shape. The messages never quote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    #[error("must be USER:PASSWORD: a user name without ':', a colon, a password, neither empty")]
    BasicFormat,
    #[error("must be 1 to 4096 visible ASCII characters, without spaces")]
    TokenFormat,
}

/// Who may use the HTTP endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthConfig {
    /// `user:password`, as Basic credentials decode.
    basic: Option<Secret>,
    token: Option<Secret>,
}

/// How a request proved itself (or did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No authentication is configured.
    Open,
    Basic,
    Bearer,
    QueryToken,
    /// Authentication is configured and this request has no valid credentials.
    Denied,
}

impl AuthOutcome {
    /// May the request go on?
    #[must_use]
    pub fn allowed(self) -> bool {
        self != Self::Denied
    }

    /// Did the client show valid credentials (not merely "auth is off")?
    #[must_use]
    pub fn authenticated(self) -> bool {
        matches!(self, Self::Basic | Self::Bearer | Self::QueryToken)
    }
}

impl AuthConfig {
    /// Check the shapes of the secrets.
    ///
    /// # Errors
    /// Basic credentials without a user name, a password or the colon between
    /// them; a token with spaces or control characters.
    pub fn new(basic: Option<Secret>, token: Option<Secret>) -> Result<Self, AuthConfigError> {
        if let Some(b) = &basic {
            match b.expose().split_once(':') {
                Some((user, password)) if !user.is_empty() && !password.is_empty() => {}
                _ => return Err(AuthConfigError::BasicFormat),
            }
        }
        if let Some(t) = &token {
            let t = t.expose();
            if t.is_empty() || t.len() > 4096 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(AuthConfigError::TokenFormat);
            }
        }
        Ok(Self { basic, token })
    }

    /// The configured Basic credentials (`USER:PASSWORD`) and token, for a
    /// client of this same service (the attached UI).
    #[must_use]
    pub fn secrets(&self) -> (Option<&Secret>, Option<&Secret>) {
        (self.basic.as_ref(), self.token.as_ref())
    }

    #[must_use]
    pub fn enabled(&self) -> bool {
        self.basic.is_some() || self.token.is_some()
    }

    /// What is configured, for `/status` and the UI: "off", "basic", "token"
    /// or "basic+token".
    #[must_use]
    pub fn mode(&self) -> &'static str {
        match (self.basic.is_some(), self.token.is_some()) {
            (false, false) => "off",
            (true, false) => "basic",
            (false, true) => "token",
            (true, true) => "basic+token",
        }
    }

    /// The `WWW-Authenticate` values of a 401.
    #[must_use]
    pub fn challenges(&self) -> Vec<String> {
        let mut c = vec![format!("Basic realm=\"{REALM}\"")];
        if self.token.is_some() {
            c.push(format!("Bearer realm=\"{REALM}\""));
        }
        c
    }

    /// Check a request's `Authorization` header and `token` query parameter.
    #[must_use]
    pub fn check(&self, request: &Request) -> AuthOutcome {
        if !self.enabled() {
            return AuthOutcome::Open;
        }
        if let Some(value) = request.header("Authorization") {
            let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
            let credentials = credentials.trim();
            if scheme.eq_ignore_ascii_case("Basic")
                && let Some(expected) = &self.basic
                && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials)
                && ct_eq(&decoded, expected.expose().as_bytes())
            {
                return AuthOutcome::Basic;
            }
            if scheme.eq_ignore_ascii_case("Bearer")
                && let Some(expected) = &self.token
                && ct_eq(credentials.as_bytes(), expected.expose().as_bytes())
            {
                return AuthOutcome::Bearer;
            }
        }
        if let Some(expected) = &self.token
            && let Some(given) = request.query_param("token")
            && ct_eq(&given, expected.expose().as_bytes())
        {
            return AuthOutcome::QueryToken;
        }
        AuthOutcome::Denied
    }
}

/// Equal bytes, in a time that depends on the length of `expected` only:
/// every byte is compared whatever the first difference (and whatever the
/// length of `given`), with `subtle`'s barriers against the optimiser.
pub(super) fn ct_eq(given: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    let mut same = subtle::Choice::from(u8::from(given.len() == expected.len()));
    for (i, e) in expected.iter().enumerate() {
        same &= given.get(i).copied().unwrap_or(!*e).ct_eq(e);
    }
    bool::from(same)
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
