//! The service as a child process (this same binary), for the sections that
//! measure what the service alone costs: its CPU and RSS come from
//! `/proc/<pid>`, while the clients run here.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running child service.
#[derive(Debug)]
pub struct ChildService {
    child: Child,
    pub addr: SocketAddr,
    /// Spawn to first 200 on `/snapshot`.
    pub first_frame: Duration,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ChildConfig {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub quality: u8,
    pub mqtt_rate: f64,
    pub mqtt_url: String,
    /// Passed as `--encoder`.
    pub encoder: crate::encode::EncoderKind,
    /// Passed as `--max-clients`.
    pub max_clients: usize,
}

impl ChildConfig {
    fn args(&self, port: u16) -> Vec<String> {
        [
            "--source",
            "test-pattern",
            "--width",
            &self.width.to_string(),
            "--height",
            &self.height.to_string(),
            "--fps",
            &self.fps.to_string(),
            "--quality",
            &self.quality.to_string(),
            "--mqtt-rate",
            &self.mqtt_rate.to_string(),
            "--mqtt-url",
            &self.mqtt_url,
            "--http-host",
            "127.0.0.1",
            "--http-port",
            &port.to_string(),
            "--log-level",
            "warn",
            "--encoder",
            match self.encoder {
                crate::encode::EncoderKind::Turbo => "turbo",
                crate::encode::EncoderKind::JpegEncoder => "rust",
            },
            "--max-clients",
            &self.max_clients.to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }
}

/// This binary.
fn exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))
}

/// A free loopback port (bound then released: a small race, fine for a bench).
fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl ChildService {
    /// Start the child headless and wait for its first frame.
    ///
    /// # Errors
    /// It could not start or served no frame within 5 s.
    pub fn start(config: &ChildConfig) -> Result<Self, String> {
        let port = free_port()?;
        let started = Instant::now();
        let child = Command::new(exe()?)
            .args(config.args(port))
            .arg("--no-tui")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the service: {e}"))?;
        Self::ready(child, port, started)
    }

    fn ready(mut child: Child, port: u16, started: Instant) -> Result<Self, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let waited = super::reader::wait_first_frame(addr, Duration::from_secs(5));
        match waited {
            Some(_) => Ok(Self {
                child,
                addr,
                first_frame: started.elapsed(),
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err("the service served no frame within 5 s".into())
            }
        }
    }

    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (through `kill`), then SIGKILL after 3 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildService {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The service with its terminal UI, in a detached 120x40 tmux session.
#[derive(Debug)]
pub struct TmuxService {
    session: String,
    pub pid: u32,
}

impl TmuxService {
    /// Start it; `None`-like error when tmux is missing.
    ///
    /// # Errors
    /// tmux is not installed or the service did not come up.
    pub fn start(config: &ChildConfig) -> Result<Self, String> {
        let port = free_port()?;
        let session = format!("tars-bench-{}", std::process::id());
        let exe = exe()?;
        let mut command = format!("exec '{}'", exe.display());
        for a in config.args(port) {
            command.push_str(&format!(" '{a}'"));
        }
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "120", "-y", "40"])
            .arg(&command)
            .env("TERM", "xterm-256color")
            .env("COLORTERM", "truecolor")
            .status()
            .map_err(|e| format!("tmux: {e}"))?;
        if !status.success() {
            return Err("tmux could not start a session".into());
        }
        let mut this = Self { session, pid: 0 };
        let out = Command::new("tmux")
            .args(["list-panes", "-t", &this.session, "-F", "#{pane_pid}"])
            .output()
            .map_err(|e| format!("tmux: {e}"))?;
        let pid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .map_err(|_| "tmux gave no pane pid".to_owned())?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if super::reader::wait_first_frame(addr, Duration::from_secs(5)).is_none() {
            return Err("the service under tmux served no frame within 5 s".into());
        }
        this.pid = pid;
        Ok(this)
    }
}

impl Drop for TmuxService {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

/// `mosquitto -p PORT` on loopback, killed on drop.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    pub url: String,
}

impl Mosquitto {
    /// Start it and wait until it accepts connections.
    ///
    /// # Errors
    /// `mosquitto` is not installed or did not listen within 3 s.
    pub fn start() -> Result<Self, String> {
        let port = free_port()?;
        let child = Command::new("mosquitto")
            .args(["-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start mosquitto (apt-get install mosquitto, or give --mqtt-url): {e}"
                )
            })?;
        let this = Self {
            child,
            url: format!("mqtt://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(this);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("mosquitto did not listen within 3 s".into())
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
