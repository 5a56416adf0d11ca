//! A small W3C WebDriver client (JSON over HTTP/1.1 on a std socket) and
//! the `chromedriver` it talks to, driving headless Chromium. Only what the
//! console's tests use: a session, navigation, scripts, elements (find,
//! click, keys), the window size and screenshots.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key WebDriver names an element reference with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver` with one Chromium session; both end on drop.
pub struct Driver {
    addr: SocketAddr,
    child: Child,
    session: String,
    profile: PathBuf,
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl Driver {
    /// Start `chromedriver` (or `$CHROMEDRIVER`) on a free port and open a
    /// headless Chromium session with a fresh profile.
    pub fn start(name: &str) -> Self {
        let port = free_port();
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} did not start ({e}): install chromium-driver"));
        let profile =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("web-console-profile-{name}"));
        let _ = std::fs::remove_dir_all(&profile);
        let mut driver = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
            session: String::new(),
            profile,
        };
        driver.wait_ready(Duration::from_secs(20));
        driver.session = driver.new_session();
        driver
    }

    fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(v) = request(self.addr, "GET", "/status", None)
                && v["value"]["ready"] == true
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chromedriver not ready within {timeout:?}");
    }

    fn new_session(&self) -> String {
        let mut options = json!({"args": [
            "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic", "--no-first-run", "--window-size=1280,900",
            format!("--user-data-dir={}", self.profile.display()),
        ]});
        if Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options,
        }}});
        let v = request(self.addr, "POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("new session: {e}"));
        v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"))
            .to_owned()
    }

    /// A command of this session; panics with WebDriver's error.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        match request(self.addr, method, &path, body) {
            Ok(v) => v["value"].clone(),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Run `body` (a function body: `return …`) in the page.
    pub fn script(&self, body: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({"script": body, "args": []})),
        )
    }

    /// Poll the expression `expr` until it is truthy (its value) or the
    /// time is up (a panic naming `what` and the last value).
    pub fn wait(&self, what: &str, expr: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            last = self.script(&format!(
                "try {{ return ({expr}); }} catch (e) {{ return null; }}"
            ));
            if !matches!(&last, Value::Null | Value::Bool(false))
                && last != json!("")
                && last != json!(0)
            {
                return last;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{what}: not within {timeout:?} (last {last})");
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// A real click in the middle of the element.
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), Some(&json!({})));
    }

    /// Type `text` into the element (WebDriver key codes: `\u{E014}` →).
    pub fn keys(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(&json!({ "text": text })),
        );
    }

    pub fn window_size(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(&json!({"width": width, "height": height})),
        );
    }

    /// A PNG of the viewport, written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let v = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or(""))
            .expect("a base64 screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = request(self.addr, "DELETE", &path, None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One WebDriver request: the JSON answer, or the error WebDriver gave.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body.as_bytes()))
        .map_err(|e| e.to_string())?;
    let (status, payload) = read_response(&mut s)?;
    let value: Value = serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))?;
    if status == 200 {
        Ok(value)
    } else {
        Err(format!("{status}: {}", value["value"]))
    }
}

/// The status and body of a response: by its `Content-Length` (the
/// driver may keep the connection open), chunked, or up to the close.
fn read_response(s: &mut TcpStream) -> Result<(u16, String), String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut need: Option<usize> = None;
    for _ in 0..100_000 {
        if let Some(n) = need
            && raw.len() >= n
        {
            break;
        }
        let got = s.read(&mut buf).map_err(|e| e.to_string())?;
        if got == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..got]);
        if need.is_none()
            && let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n")
        {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            need = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .map(|len| end + 4 + len);
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("no response head")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Ok((
        status,
        if chunked {
            unchunk(rest)
        } else {
            rest.to_owned()
        },
    ))
}

/// The body of a chunked response.
fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    for _ in 0..10_000 {
        let Some((size, after)) = rest.split_once("\r\n") else {
            break;
        };
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let (Some(chunk), Some(next)) = (after.get(..n), after.get(n..)) else {
            break;
        };
        if n == 0 {
            break;
        }
        out.push_str(chunk);
        rest = next.trim_start_matches("\r\n");
    }
    out
}
