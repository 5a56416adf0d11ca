//! The UI in a real terminal (a tmux session), as an operator starts it on
//! the robot: a second `tars-camera` on the port of a running one attaches
//! to it, `q` leaves the first one serving; on a port held by something
//! else it exits 2 naming `--http-port`. Headless, a taken port is always
//! exit 2: two headless services on one port is a configuration error.

use crate::common;

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

use common::broker::free_port;
use common::{Running, eventually, exe, get};

const WAIT: Duration = Duration::from_secs(15);

/// A detached tmux session running one command; killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(command: &str) -> Self {
        let name = format!("tars-attach-{}", fastrand::u64(..));
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "120", "-y", "40"])
            .arg(command)
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux new-session");
        // Keep the pane (and its last words) when the command ends.
        let _ = Command::new("tmux")
            .args(["set-option", "-t", &name, "remain-on-exit", "on"])
            .status();
        Self { name }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        eventually(WAIT, || {
            let screen = self.screen();
            screen.contains(needle).then_some(screen)
        })
        .unwrap_or_else(|| panic!("'{needle}' never on screen:\n{}", self.screen()))
    }

    fn keys(&self, keys: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, keys])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys");
    }

    /// True once the command in the pane has ended (the pane is dead, or
    /// the session closed with it).
    fn ended(&self) -> bool {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, "#{pane_dead}"])
            .output()
            .expect("tmux display-message");
        !out.status.success() || String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

/// A test-pattern service on loopback `port`, with no broker to reach.
fn args(port: u16) -> Vec<String> {
    let port = port.to_string();
    [
        "--source",
        "test-pattern",
        "--http-host",
        "127.0.0.1",
        "--http-port",
        &port,
        "--mqtt-url",
        "mqtt://127.0.0.1:1",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `args(port)` headless.
fn headless(port: u16) -> Vec<String> {
    let mut all = vec!["--no-tui".to_owned()];
    all.extend(args(port));
    all
}

/// The first service on `port`, headless.
fn first_service(port: u16) -> (Running, SocketAddr) {
    let all = headless(port);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut svc = Running::start(&all, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

/// The second one, for a terminal.
fn second_command(port: u16) -> String {
    format!("{} {}", exe().display(), args(port).join(" "))
}

#[test]
#[ignore = "needs tmux; .ci/run installs it"]
fn a_second_ui_on_the_port_attaches_and_q_leaves_the_service_running() {
    let port = free_port();
    let (_svc, addr) = first_service(port);
    let ui = Tmux::start(&second_command(port));
    let screen = ui.wait_for("attached to it");
    assert!(
        screen.contains(&format!("http://127.0.0.1:{port}")),
        "{screen}"
    );
    // The panes of the running service, read over HTTP.
    ui.wait_for("Capture");
    ui.keys("q");
    eventually(WAIT, || ui.ended().then_some(())).expect("the attached UI ends on q");
    assert_eq!(get(addr, "/status").status, 200, "the service still serves");
}

#[test]
#[ignore = "needs tmux; .ci/run installs it"]
fn a_port_held_by_something_else_exits_2_naming_the_option() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    // Answer nothing: not a tars-camera.
    // The shell stays a while after, so the screen can be read.
    let ui = Tmux::start(&format!("{}; echo exit=$?; sleep 30", second_command(port)));
    let screen = ui.wait_for("exit=");
    assert!(screen.contains("exit=2"), "{screen}");
    assert!(screen.contains("--http-port"), "{screen}");
    drop(holder);
}

#[test]
fn headless_on_a_running_services_port_stays_exit_2() {
    let port = free_port();
    let (_svc, addr) = first_service(port);
    let all = headless(port);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let (code, err) = common::run(&all, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--http-port"), "{err}");
    assert_eq!(
        get(addr, "/status").status,
        200,
        "the first one still serves"
    );
}
