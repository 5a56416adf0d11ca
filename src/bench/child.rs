//! The service as a child process (this same binary), for the sections that
//! measure what the service alone costs: its CPU and RSS come from
//! `/proc/<pid>`, while the clients run here.

use color_eyre::eyre;

use std::net::SocketAddr;
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
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }
}

/// This binary.
fn exe() -> eyre::Result<PathBuf> {
    std::env::current_exe().map_err(|e| eyre::eyre!("cannot find this program: {e}"))
}

impl ChildService {
    /// Start the child headless and wait for its first frame.
    ///
    /// # Errors
    /// It could not start or served no frame within 5 s.
    pub fn start(config: &ChildConfig) -> eyre::Result<Self> {
        let port = super::broker_process::free_port();
        let started = Instant::now();
        let child = Command::new(exe()?)
            .args(config.args(port))
            .arg("--no-tui")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| eyre::eyre!("cannot start the service: {e}"))?;
        Self::ready(child, port, started)
    }

    fn ready(mut child: Child, port: u16, started: Instant) -> eyre::Result<Self> {
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
                Err(eyre::eyre!("the service served no frame within 5 s"))
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
    pub fn start(config: &ChildConfig) -> eyre::Result<Self> {
        let port = super::broker_process::free_port();
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
            .map_err(|e| eyre::eyre!("tmux: {e}"))?;
        if !status.success() {
            return Err(eyre::eyre!("tmux could not start a session"));
        }
        let mut this = Self { session, pid: 0 };
        let out = Command::new("tmux")
            .args(["list-panes", "-t", &this.session, "-F", "#{pane_pid}"])
            .output()
            .map_err(|e| eyre::eyre!("tmux: {e}"))?;
        let pid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .map_err(|_| eyre::eyre!("tmux gave no pane pid"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if super::reader::wait_first_frame(addr, Duration::from_secs(5)).is_none() {
            return Err(eyre::eyre!(
                "the service under tmux served no frame within 5 s"
            ));
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
