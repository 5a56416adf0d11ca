//! MQTT brokers as child processes, for the benchmark and the tests: the
//! embedded broker (`tars-camera broker`) or Mosquitto, on a free loopback
//! port, killed (`kill -9`) and restarted on the same port at will.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which broker to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// This program's embedded rumqttd, through `tars-camera broker`.
    Embedded,
    /// `mosquitto -p PORT` (must be installed).
    Mosquitto,
}

/// How many fresh ports a start tries before it gives up.
const PORT_ATTEMPTS: usize = 5;

/// A free loopback port, outside the kernel's ephemeral range.
///
/// A broker is restarted on the same port, so the port is free for a moment.
/// A port from `bind(0)` lies in the ephemeral range, where any outgoing
/// connection may take it as its source port in that moment; worst of all,
/// the client reconnecting to it can get it and connect to itself (TCP
/// self-connect). Ports below the range are never handed out that way; and
/// a start that finds its port taken after all moves to another one.
#[must_use]
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let floor = low.saturating_sub(12_000).max(1024);
    for _ in 0..200 {
        let port = fastrand::u16(floor..low);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(low.saturating_sub(1), |a| a.port())
}

/// The Mosquitto executable (Debian installs it in /usr/sbin).
#[must_use]
pub fn mosquitto_path() -> &'static str {
    if Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}

/// A broker child process on one port for its whole life.
#[derive(Debug)]
pub struct BrokerProcess {
    pub kind: BrokerKind,
    pub port: u16,
    program: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl BrokerProcess {
    /// Start a broker on a free port and wait until it accepts. `exe` is the
    /// tars-camera program (for [`BrokerKind::Embedded`]).
    ///
    /// # Errors
    /// The broker cannot be started or did not listen on any of a few ports.
    pub fn start(kind: BrokerKind, exe: &Path) -> io::Result<Self> {
        let mut last = io::Error::other("no attempt");
        for _ in 0..PORT_ATTEMPTS {
            match Self::start_on(kind, exe, free_port()) {
                Ok(broker) => return Ok(broker),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Start a broker on `port` and wait until it accepts.
    ///
    /// # Errors
    /// The broker cannot be started or did not listen within 10 s.
    pub fn start_on(kind: BrokerKind, exe: &Path, port: u16) -> io::Result<Self> {
        let (program, args) = match kind {
            BrokerKind::Embedded => (
                exe.to_owned(),
                vec!["broker".into(), "--host".into(), "127.0.0.1".into()],
            ),
            BrokerKind::Mosquitto => (PathBuf::from(mosquitto_path()), Vec::new()),
        };
        let mut broker = Self {
            kind,
            port,
            program,
            args,
            child: None,
        };
        broker.restart()?;
        Ok(broker)
    }

    /// Mosquitto with a configuration file of the caller's, which must make
    /// it listen on `port` (TLS listeners, say).
    ///
    /// # Errors
    /// Mosquitto cannot be started or did not listen within 10 s.
    pub fn mosquitto_with_config(config: &Path, port: u16) -> io::Result<Self> {
        let mut broker = Self {
            kind: BrokerKind::Mosquitto,
            port,
            program: PathBuf::from(mosquitto_path()),
            args: vec!["-c".into(), config.display().to_string()],
            child: None,
        };
        broker.restart()?;
        Ok(broker)
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// kill -9 and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        if !self.args.iter().any(|a| a == "-c") {
            c.args(["--port", &self.port.to_string()]);
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// (Re)start the broker on the same port and wait until it accepts;
    /// retried for a while, as the killed broker's socket may linger.
    ///
    /// # Errors
    /// It cannot be started or did not listen within 10 s.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        for _ in 0..20 {
            let mut child = self.command().spawn().map_err(|e| {
                io::Error::new(e.kind(), format!("{}: {e}", self.program.display()))
            })?;
            if wait_listening(self.addr(), &mut child, deadline) {
                self.child = Some(child);
                return Ok(());
            }
            let _ = child.kill();
            let _ = child.wait();
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(io::Error::other(format!(
            "{:?} broker did not listen on port {}",
            self.kind, self.port
        )))
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// True once `addr` accepts TCP; false if the child exits or time runs out.
fn wait_listening(addr: SocketAddr, child: &mut Child, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
