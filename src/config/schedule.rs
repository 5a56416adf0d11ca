//! The failure schedule of the test-only `--fail-schedule` option: which
//! calls of a frame source fail, and how. Parsed here, once, when the
//! configuration is validated; the capture side's failing wrapper plays it.

use std::fmt;

/// A schedule that does not parse: the message names the item that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

/// What one step of the schedule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Deliver the wrapped source's frame.
    Ok,
    /// Wait the timeout, then a read timeout.
    Timeout,
    /// `open` fails with an open error.
    OpenFail,
    /// A JPEG that the frame check rejects (truncated).
    Corrupt,
    /// a disconnect, as when the camera is unplugged.
    Disconnect,
    /// The read never returns, as with a wedged driver.
    Hang,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Timeout => "timeout",
            Self::OpenFail => "open-fail",
            Self::Corrupt => "corrupt",
            Self::Disconnect => "disconnect",
            Self::Hang => "hang",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ok" => Self::Ok,
            "timeout" => Self::Timeout,
            "open-fail" => Self::OpenFail,
            "corrupt" => Self::Corrupt,
            "disconnect" => Self::Disconnect,
            "hang" => Self::Hang,
            _ => return None,
        })
    }
}

/// A fault and how many times it happens (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub fault: Fault,
    pub count: Option<u32>,
}

/// An ordered list of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    steps: Vec<Step>,
}

impl Schedule {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `kind[*count]` items separated by commas: `ok*20,timeout*5,ok*`.
    /// Kinds: `ok`, `timeout`, `open-fail`, `corrupt`, `disconnect`, `hang`. No count
    /// means once; `*` alone means for ever and must be last.
    ///
    /// # Errors
    /// A message naming the item that is wrong.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let mut schedule = Self::new();
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Err(ScheduleError("empty fail schedule".to_owned()));
        }
        for (i, item) in items.iter().enumerate() {
            let (kind, count) = match item.split_once('*') {
                None => (*item, Some(1)),
                Some((kind, "")) => {
                    if i + 1 != items.len() {
                        return Err(ScheduleError(format!(
                            "'{item}': only the last step can repeat for ever"
                        )));
                    }
                    (kind, None)
                }
                Some((kind, n)) => match n.parse::<u32>() {
                    Ok(n) => (kind, Some(n)),
                    Err(_) => {
                        return Err(ScheduleError(format!("'{item}': count must be a number")));
                    }
                },
            };
            let fault = Fault::parse(kind.trim()).ok_or_else(|| {
                ScheduleError(format!(
                    "'{item}': unknown step '{kind}' (expected ok, timeout, open-fail, corrupt, disconnect, hang)"
                ))
            })?;
            schedule.steps.push(Step { fault, count });
        }
        Ok(schedule)
    }

    fn push(mut self, fault: Fault, count: Option<u32>) -> Self {
        self.steps.push(Step { fault, count });
        self
    }
    pub fn ok(self, n: u32) -> Self {
        self.push(Fault::Ok, Some(n))
    }
    pub fn timeout(self, n: u32) -> Self {
        self.push(Fault::Timeout, Some(n))
    }
    pub fn open_fail(self, n: u32) -> Self {
        self.push(Fault::OpenFail, Some(n))
    }
    pub fn corrupt(self, n: u32) -> Self {
        self.push(Fault::Corrupt, Some(n))
    }
    pub fn disconnect(self, n: u32) -> Self {
        self.push(Fault::Disconnect, Some(n))
    }
    /// Ends the schedule with `fault` for ever.
    pub fn forever(self, fault: Fault) -> Self {
        self.push(fault, None)
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match step.count {
                Some(n) => write!(f, "{}*{n}", step.fault.name())?,
                None => write!(f, "{}*", step.fault.name())?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let text = "ok*20,timeout*5,open-fail*3,corrupt*2,ok*";
        assert_eq!(
            Schedule::parse("ok*3,hang").expect("valid").steps()[1].fault,
            Fault::Hang
        );
        let s = Schedule::parse(text).expect("valid");
        assert_eq!(s.to_string(), text);
        assert_eq!(s.steps().len(), 5);
        assert_eq!(
            s.steps()[2],
            Step {
                fault: Fault::OpenFail,
                count: Some(3)
            }
        );
        assert_eq!(
            Schedule::parse(" timeout , disconnect*2 ")
                .expect("valid")
                .to_string(),
            "timeout*1,disconnect*2"
        );
        let built = Schedule::new()
            .ok(20)
            .timeout(5)
            .open_fail(3)
            .corrupt(2)
            .forever(Fault::Ok);
        assert_eq!(built, s);
        assert_eq!(
            "ok*".parse::<Schedule>(),
            Ok(Schedule::new().forever(Fault::Ok))
        );
    }

    #[test]
    fn parse_errors_name_the_item() {
        for (bad, needle) in [
            ("", "empty"),
            ("ok*2,explode*1", "explode"),
            ("ok*x", "'ok*x'"),
            ("ok*,timeout*2", "last"),
            ("ok*-1", "number"),
        ] {
            let err = Schedule::parse(bad).expect_err(bad);
            assert!(err.to_string().contains(needle), "{bad}: {err}");
        }
    }
}
