//! Shared helpers for the end-to-end tests: real sockets, the real binary
//! ([`args`]: its command lines; [`broker`]: MQTT brokers as child
//! processes and an observer client; [`clips`]: recordings made with the
//! service's own encoder; [`ui`]: a readable TestBackend and keys from a
//! channel).

/// The name the test harness knows test `name` of module `module` (its
/// `module_path!()`) by, for running that test again in a child process.
pub fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{name}"),
        None => name.to_owned(),
    }
}

pub mod args;
pub mod broker;
pub mod clips;
pub mod fake_camera;
pub mod ui;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary under test, as built: tests start it through [`command`] or
/// [`exe`], which honour [`RUNNER_VAR`].
const BIN: &str = env!("CARGO_BIN_EXE_tars-camera");

/// Names the program (with its arguments, split at spaces) that runs the
/// binary under test, for a build another machine's processor runs:
/// `TARS_CAMERA_TEST_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"`.
pub const RUNNER_VAR: &str = "TARS_CAMERA_TEST_RUNNER";

fn runner() -> Vec<String> {
    std::env::var(RUNNER_VAR)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A command that starts the binary under test (through the runner, when
/// [`RUNNER_VAR`] names one).
pub fn command() -> Command {
    command_of(Path::new(BIN))
}

/// A command that starts `program`, a binary of this build (the binary
/// under test, or a test binary re-running itself), through the runner
/// when [`RUNNER_VAR`] names one.
pub fn command_of(program: &Path) -> Command {
    match runner().split_first() {
        Some((runner, args)) => {
            let mut cmd = Command::new(runner);
            cmd.args(args).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// True when the binary runs under a runner (an emulator), whose own
/// memory and timing are then what a test sees of the process.
pub fn under_runner() -> bool {
    !runner().is_empty()
}

/// A file that starts the binary under test, for what takes a program's
/// path (the broker launcher, a terminal): the binary itself, or with a
/// runner a shell script that runs it through the runner.
pub fn exe() -> &'static Path {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let runner = runner();
        if runner.is_empty() {
            return PathBuf::from(BIN);
        }
        let script =
            std::env::temp_dir().join(format!("tars-test-{}-run-tars-camera", std::process::id()));
        let text = format!("#!/bin/sh\nexec {} {BIN} \"$@\"\n", runner.join(" "));
        std::fs::write(&script, text).expect("runner script");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&script, mode).expect("runner script mode");
        script
    })
}

/// Run the binary to completion; returns (status code, stderr).
pub fn run(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = command();
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tars-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Write `data` to `dir/name`.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write");
    path
}

/// A plain HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        tars_camera::stream_client::header(&self.headers, name)
    }
}

/// Send raw bytes and read the whole response (the server closes or sends Content-Length).
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> HttpResponse {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(patience(Duration::from_secs(5))))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut reader = BufReader::new(s);
    let (status, headers) =
        tars_camera::stream_client::read_head(&mut reader).expect("a response head");
    let len = tars_camera::stream_client::header(&headers, "Content-Length")
        .and_then(|v| v.parse::<usize>().ok());
    let head_only = request.starts_with(b"HEAD");
    let mut body = Vec::new();
    if !head_only {
        match len {
            Some(n) => {
                body.resize(n, 0);
                reader.read_exact(&mut body).expect("body");
            }
            None => {
                let _ = reader.read_to_end(&mut body);
            }
        }
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

pub fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// A `/stream` client (the library's reader) that panics on any failure.
pub struct StreamClient {
    inner: tars_camera::stream_client::StreamClient,
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

pub use tars_camera::stream_client::Part;

impl StreamClient {
    pub fn connect(addr: SocketAddr) -> Self {
        let inner =
            tars_camera::stream_client::StreamClient::connect(addr, "", Duration::from_secs(5))
                .expect("GET /stream");
        Self {
            headers: inner.headers.clone(),
            status: inner.status,
            inner,
        }
    }

    /// Read the next part; checks the boundary and Content-Length framing.
    pub fn next_part(&mut self) -> Part {
        let part = self.inner.next_part().expect("a well-framed part");
        assert_eq!(
            tars_camera::stream_client::header(&part.headers, "Content-Type"),
            Some("image/jpeg")
        );
        part
    }
}

/// A `/stream` viewer watching, off the runtime, for the "no signal"
/// picture: the first part marked `X-No-Signal` among its next 200.
pub fn no_signal_viewer(addr: SocketAddr) -> tokio::task::JoinHandle<Option<Part>> {
    tokio::task::spawn_blocking(move || {
        let mut client = StreamClient::connect(addr);
        (0..200)
            .map(|_| client.next_part())
            .find(|p| p.headers.iter().any(|(k, _)| k == "X-No-Signal"))
    })
}

/// The real binary, started with arguments and environment, stderr captured.
pub struct Running {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = command();
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn tars-camera");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The service headless, HTTP on a free loopback port, plus `args`.
    pub fn headless(args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::headless_on(0, args, envs)
    }

    /// The service headless, HTTP on loopback `port`, plus `args`.
    pub fn headless_on(port: u16, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let port = port.to_string();
        let mut all = vec!["--no-tui", "--http-host", "127.0.0.1", "--http-port", &port];
        all.extend_from_slice(args);
        Self::start(&all, envs)
    }

    /// Wait for a stderr line containing `needle`; returns it.
    pub fn wait_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no line with {needle:?} within {timeout:?}; saw:\n{}",
            self.seen.join("\n")
        );
    }

    /// The HTTP address the service printed: the port of its first
    /// `http://HOST:PORT/` on loopback (the tests bind 127.0.0.1).
    pub fn http_addr(&mut self) -> SocketAddr {
        let line = self.wait_line("HTTP on http://", Duration::from_secs(10));
        let port = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|host_port| host_port.rsplit(':').next())
            .and_then(|p| p.parse::<u16>().ok())
            .expect("port in the HTTP line");
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Send a signal with `kill`.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Wait for exit, bounded.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A validated test-pattern configuration with HTTP on a free loopback
/// port, plus `args`, and its bound listener: what `Service::start` takes.
pub fn test_config(args: &[&str]) -> (tars_camera::config::Config, std::net::TcpListener) {
    use clap::Parser as _;
    let mut argv = vec![
        "tars-camera",
        "--source",
        "test-pattern",
        "--http-host",
        "127.0.0.1",
        "--http-port",
        "0",
    ];
    argv.extend_from_slice(args);
    let cli = tars_camera::cli::Cli::try_parse_from(argv).expect("args");
    let config = tars_camera::config::validate(cli.options).expect("config");
    let listener = tars_camera::http::bind(config.http_host, config.http_port).expect("bind");
    (config, listener)
}

/// `POST path` with a JSON body and, if given, an `Authorization` value.
pub fn post(addr: SocketAddr, path: &str, body: &str, authorization: Option<&str>) -> HttpResponse {
    let header = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n\
         {header}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw_request(addr, request.as_bytes())
}

/// `POST /control` with `body`: the status code and the JSON answer.
pub fn control(addr: SocketAddr, body: &str) -> (u16, serde_json::Value) {
    let r = post(addr, "/control", body, None);
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null),
    )
}

/// Status JSON of a running service.
pub fn status_json(addr: SocketAddr) -> serde_json::Value {
    let r = get(addr, "/status");
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).expect("status is JSON")
}

/// A JPEG's size from its frame header (SOF0/SOF1/SOF2).
pub fn jpeg_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < jpeg.len() {
        if jpeg[i] != 0xFF {
            return None;
        }
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if matches!(marker, 0xC0..=0xC2) {
            let h = u16::from_be_bytes([jpeg[i + 5], jpeg[i + 6]]);
            let w = u16::from_be_bytes([jpeg[i + 7], jpeg[i + 8]]);
            return Some((u32::from(w), u32::from(h)));
        }
        i += 2 + len;
    }
    None
}

/// Poll `check` until it returns Some or the deadline passes.
pub fn eventually<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + patience(timeout);
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long to wait for what takes `timeout` natively: three times as long
/// under a runner (an emulated CPU), where everything is slower. Waits
/// end as soon as their condition holds, so this only gives room.
pub fn patience(timeout: Duration) -> Duration {
    if under_runner() { timeout * 3 } else { timeout }
}

/// A `w`x`h` RGB picture, `pixel(x, y, noise)` for each pixel in rows from
/// the top; `noise` is the next value of a xorshift generator started at
/// `seed` (the same picture every run).
pub fn rgb_picture(
    w: usize,
    h: usize,
    seed: u32,
    mut pixel: impl FnMut(usize, usize, u32) -> [u8; 3],
) -> Vec<u8> {
    let mut seed = seed;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            rgb.extend(pixel(x, y, seed));
        }
    }
    rgb
}

/// The status once it counts a capture failure (within `timeout`); the
/// last error names `device`.
pub fn status_after_a_failure(
    addr: SocketAddr,
    device: &str,
    timeout: Duration,
) -> serde_json::Value {
    let v = eventually(timeout, || {
        let v = status_json(addr);
        (v["capture"]["total_failures"].as_u64()? >= 1).then_some(v)
    })
    .expect("a capture failure counted");
    assert!(
        v["capture"]["last_error"]
            .as_str()
            .expect("error")
            .contains(device),
        "{v}"
    );
    v
}
