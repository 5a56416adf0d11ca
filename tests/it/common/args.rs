//! Command lines for the service under test, built from a few common bases.

use std::ops::Deref;

/// Small, quick frames: 10 fps at 160x120.
pub const SMALL: [&str; 6] = ["--fps", "10", "--width", "160", "--height", "120"];

/// The arguments of a service under test; derefs to the `&[&str]` that
/// [`super::Running`] and [`super::test_config`] take.
#[derive(Clone, Debug, Default)]
pub struct Args<'a>(Vec<&'a str>);

impl<'a> Args<'a> {
    /// [`SMALL`] frames.
    pub fn small() -> Self {
        Self(SMALL.to_vec())
    }

    /// The test pattern in [`SMALL`] frames, on the broker at `url` as
    /// `name` (service name and client id), reconnecting fast: from 0.1 s,
    /// at most 0.5 s apart.
    pub fn mqtt(url: &'a str, name: &'a str) -> Self {
        Self(vec![
            "--source",
            "test-pattern",
            "--mqtt-url",
            url,
            "--service-name",
            name,
            "--client-id",
            name,
            "--reconnect-min",
            "0.1",
            "--reconnect-max",
            "0.5",
        ])
        .and(&SMALL)
    }

    /// `more` after the arguments so far.
    #[must_use]
    pub fn and(mut self, more: &[&'a str]) -> Self {
        self.0.extend_from_slice(more);
        self
    }

    /// `flag` set to `value`: in place if the arguments have it, else added.
    #[must_use]
    pub fn set(mut self, flag: &'a str, value: &'a str) -> Self {
        match self.0.iter().position(|a| *a == flag) {
            Some(i) if i + 1 < self.0.len() => self.0[i + 1] = value,
            _ => self.0.extend([flag, value]),
        }
        self
    }
}

impl<'a> Deref for Args<'a> {
    type Target = [&'a str];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
