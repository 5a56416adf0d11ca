//! The systemd notification protocol: one datagram per message to the Unix
//! socket named in `NOTIFY_SOCKET` (a path, or an abstract name written with
//! a leading `@`), and the watchdog period from `WATCHDOG_USEC`.
//!
//! A few lines over `std`'s `UnixDatagram`: the protocol is one `sendto`,
//! and `std` already speaks abstract socket names, so no crate is needed.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Why a notification could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("NOTIFY_SOCKET {0:?}: {1}")]
    Address(String, std::io::Error),
    #[error("cannot make a datagram socket: {0}")]
    Socket(std::io::Error),
    #[error("sending to NOTIFY_SOCKET: {0}")]
    Send(std::io::Error),
}

/// A connection to the service manager's notification socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// From `NOTIFY_SOCKET`; `None` when it is not set (not run by systemd).
    ///
    /// # Errors
    /// The variable names an address that cannot be used.
    pub fn from_env() -> Result<Option<Self>, NotifyError> {
        match std::env::var_os("NOTIFY_SOCKET") {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Self::new(&v).map(Some),
        }
    }

    /// To the socket at `path` (`@name`: the abstract name `name`).
    ///
    /// # Errors
    /// The address cannot be used, or no socket could be made.
    pub fn new(path: &OsStr) -> Result<Self, NotifyError> {
        let bytes = path.as_bytes();
        let addr = match bytes.strip_prefix(b"@") {
            Some(name) => SocketAddr::from_abstract_name(name),
            None => SocketAddr::from_pathname(path),
        }
        .map_err(|e| NotifyError::Address(path.to_string_lossy().into_owned(), e))?;
        let socket = UnixDatagram::unbound().map_err(NotifyError::Socket)?;
        Ok(Self { socket, addr })
    }

    /// Send one message (`READY=1`, `STATUS=…`, several lines at once).
    ///
    /// # Errors
    /// The manager's socket refused the datagram.
    pub fn send(&self, message: &str) -> Result<(), NotifyError> {
        self.socket
            .send_to_addr(message.as_bytes(), &self.addr)
            .map(|_| ())
            .map_err(NotifyError::Send)
    }
}

/// The watchdog period systemd asks for: `WATCHDOG_USEC` microseconds, when
/// set, non-zero, and meant for this process (`WATCHDOG_PID`, when set).
#[must_use]
pub fn watchdog_from_env() -> Option<Duration> {
    watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_from(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    if pid.is_some_and(|p| p.trim().parse::<u32>().ok() != Some(own_pid)) {
        return None;
    }
    let usec = usec?.trim().parse::<u64>().ok().filter(|&u| u > 0)?;
    Some(Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_period_and_pid() {
        let s = Some(Duration::from_secs(2));
        assert_eq!(watchdog_from(Some("2000000"), None, 7), s);
        assert_eq!(watchdog_from(Some("2000000"), Some("7"), 7), s);
        assert_eq!(watchdog_from(Some("2000000"), Some("8"), 7), None);
        assert_eq!(watchdog_from(Some("0"), None, 7), None);
        assert_eq!(watchdog_from(Some("soon"), None, 7), None);
        assert_eq!(watchdog_from(None, Some("7"), 7), None);
    }

    #[test]
    fn datagrams_reach_a_path_and_an_abstract_name() {
        let dir = std::env::temp_dir().join(format!("tars-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).expect("bind");
        Notifier::new(path.as_os_str())
            .expect("path")
            .send("READY=1")
            .expect("send");
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"READY=1");
        let _ = std::fs::remove_dir_all(&dir);

        let name = format!("tars-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("name");
        let server = UnixDatagram::bind_addr(&addr).expect("bind abstract");
        Notifier::new(OsStr::new(&format!("@{name}")))
            .expect("abstract")
            .send("WATCHDOG=1")
            .expect("send");
        let n = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }
}
