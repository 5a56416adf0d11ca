//! The console in headless Chromium: what a person does with it, checked
//! against what the service reports. Every wait is bounded; screenshots go
//! to `target/tmp/web-console-*.png`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::common::{Running, raw_request};
use super::webdriver::Driver;

const TOKEN: &str = "console-test-token";
const BASIC: &str = "robot:console-pass";
const WAIT: Duration = Duration::from_secs(15);

/// How the browser proves itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// `--http-token`, the page opened as `/?token=…`.
    Token,
    /// `--http-auth`, the credentials given in the page's URL
    /// (`http://user:password@host/`): Chromium answers the server's Basic
    /// challenge with them, keeps them for the origin and sends them with
    /// the page's own requests, as after a login prompt.
    Basic,
}

impl Login {
    fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Basic => "basic",
        }
    }

    fn args(self) -> Vec<&'static str> {
        let mut args = vec!["--demo", "--fps", "15", "--quality", "80"];
        match self {
            Self::Token => args.extend(["--http-token", TOKEN]),
            Self::Basic => args.extend(["--http-auth", BASIC]),
        }
        args
    }

    fn page_url(self, addr: SocketAddr) -> String {
        match self {
            Self::Token => format!("http://{addr}/?token={TOKEN}"),
            Self::Basic => format!("http://{BASIC}@{addr}/"),
        }
    }

    fn authorization(self) -> String {
        match self {
            Self::Token => format!("Bearer {TOKEN}"),
            Self::Basic => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(BASIC)
            ),
        }
    }
}

/// `GET path` as JSON, with credentials; `None` for another status.
fn get_json(addr: SocketAddr, path: &str, login: Login) -> Option<Value> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        login.authorization()
    );
    let r = raw_request(addr, request.as_bytes());
    (r.status == 200)
        .then(|| serde_json::from_slice(&r.body).ok())
        .flatten()
}

fn status(addr: SocketAddr, login: Login) -> Value {
    get_json(addr, "/status", login).expect("/status")
}

fn shot(driver: &Driver, name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("web-console-{name}.png"));
    driver.screenshot(&path);
    eprintln!("screenshot: {}", path.display());
    path
}

/// Wait until `check` holds of the service's status.
fn until_status(addr: SocketAddr, login: Login, what: &str, check: impl Fn(&Value) -> bool) {
    let seen = super::common::eventually(WAIT, || {
        let s = status(addr, login);
        check(&s).then_some(s)
    });
    assert!(seen.is_some(), "{what}: not in /status within {WAIT:?}");
}

pub fn run(login: Login) {
    let args = login.args();
    let mut svc = Running::headless(&args, &[]);
    let addr = svc.http_addr();
    let driver = Driver::start(login.name());
    driver.goto(&login.page_url(addr));
    picture_and_status(&driver, addr, login);
    // The page asked for nothing the service does not serve: no 404 in the
    // browser's console.
    let requests = &status(addr, login)["stream"]["requests"];
    assert_eq!(requests["other"], 0, "{requests}");
    quality_and_pause(&driver, addr, login);
    camera_control(&driver, addr, login);
    let modes = get_json(addr, "/modes", login).is_some();
    let hidden = driver.script("return document.getElementById('mode').hidden;");
    assert_eq!(
        hidden,
        Value::Bool(!modes),
        "the mode section shows with /modes only"
    );
    shot(&driver, login.name());
    if login == Login::Token {
        quiet_link(&driver, &svc);
    }
    drop(svc);
    driver.wait(
        "the page says the service is gone",
        "document.getElementById('link').textContent === 'offline' && \
         !document.getElementById('banner').hidden",
        WAIT,
    );
    let before = driver.script("return document.getElementById('picture').src;");
    shot(&driver, &format!("{}-offline", login.name()));
    svc = Running::headless_on(addr.port(), &args, &[]);
    let _ = svc.http_addr();
    driver.wait(
        "the page is live again",
        "document.getElementById('link').textContent === 'live'",
        WAIT,
    );
    let after = driver.wait(
        "the picture is loaded again, with a new URL",
        &format!(
            "(() => {{ const p = document.getElementById('picture'); \
             return p.src !== {before} && p.complete && p.naturalWidth > 0 ? p.src : null; }})()"
        ),
        WAIT,
    );
    assert!(
        after.as_str().is_some_and(|s| s.contains("/stream")),
        "{after}"
    );
    picture_and_status(&driver, addr, login);
    if login == Login::Token {
        phone(&driver);
    }
    shot(&driver, &format!("{}-restarted", login.name()));
}

/// The picture shows with its real size, and the measured fps is live.
fn picture_and_status(driver: &Driver, addr: SocketAddr, login: Login) {
    driver.wait(
        "the picture",
        "document.getElementById('picture').naturalWidth > 0",
        WAIT,
    );
    let s = status(addr, login);
    let size = format!(
        "{}×{}",
        s["encoder"]["width"].as_u64().unwrap_or(0),
        s["encoder"]["height"].as_u64().unwrap_or(0)
    );
    driver.wait(
        "the picture's size",
        &format!("document.getElementById('size').textContent === '{size}'"),
        WAIT,
    );
    let natural = driver.script(
        "const p = document.getElementById('picture'); return p.naturalWidth + '×' + p.naturalHeight;",
    );
    assert_eq!(natural, Value::String(size));
    driver.wait(
        "a measured fps",
        "parseFloat(document.getElementById('fps').textContent) > 0",
        WAIT,
    );
    driver.wait(
        "changes allowed",
        "!document.getElementById('settings').disabled && document.getElementById('readonly').hidden",
        WAIT,
    );
    driver.wait(
        "the events",
        "document.querySelectorAll('#events li').length > 0",
        WAIT,
    );
}

/// The quality slider and the pause box, as a person uses them.
fn quality_and_pause(driver: &Driver, addr: SocketAddr, login: Login) {
    // A click in the middle of the slider sets about half, then → adds 3.
    driver.click("#quality");
    driver.keys("#quality", "\u{E014}\u{E014}\u{E014}");
    let wanted = driver.script("return Number(document.getElementById('quality').value);");
    let wanted = wanted.as_u64().expect("slider value");
    assert!((40..=60).contains(&wanted), "slider at {wanted}");
    until_status(addr, login, "the slider's quality", |s| {
        s["encoder"]["quality"].as_u64() == Some(wanted)
    });
    driver.wait(
        "the result line",
        "document.getElementById('result').textContent.includes('applied: quality')",
        WAIT,
    );
    // A value the service refuses: its error shows, the field goes back.
    driver.script("document.getElementById('mqtt-rate').value = ''; return null;");
    driver.keys("#mqtt-rate", "0.001\u{E004}");
    driver.wait(
        "the service's error",
        "(() => { const r = document.getElementById('result'); \
         return r.className.includes('err') && r.textContent.includes('mqtt_rate'); })()",
        WAIT,
    );
    driver.wait(
        "the rate shown again",
        "document.getElementById('mqtt-rate').value === '2'",
        WAIT,
    );
    driver.click("#paused");
    until_status(addr, login, "paused", |s| s["mqtt"]["paused"] == true);
    driver.wait(
        "the status strip says paused",
        "document.getElementById('s-mqtt').textContent.includes('paused')",
        WAIT,
    );
    driver.click("#paused");
    until_status(addr, login, "resumed", |s| s["mqtt"]["paused"] == false);
}

/// The test pattern's brightness, moved with the keyboard.
fn camera_control(driver: &Driver, addr: SocketAddr, login: Login) {
    driver.wait(
        "the brightness slider",
        "!document.getElementById('control-brightness').disabled",
        WAIT,
    );
    let value = |v: &Value| {
        v["controls"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["name"] == "brightness"))
            .and_then(|c| c["value"].as_i64())
    };
    let before = value(&get_json(addr, "/controls", login).expect("/controls"));
    driver.keys("#control-brightness", "\u{E012}\u{E012}");
    let shown =
        driver.script("return Number(document.getElementById('control-brightness').value);");
    let shown = shown.as_i64().expect("brightness value");
    assert_ne!(Some(shown), before, "the keys moved the slider");
    let seen = super::common::eventually(WAIT, || {
        let now = value(&get_json(addr, "/controls", login)?)?;
        (now == shown).then_some(now)
    });
    assert_eq!(seen, Some(shown), "brightness in /controls");
}

/// A link that stays open but carries nothing (the service stopped with
/// SIGSTOP, as behind a pulled cable): the page notices, then recovers.
fn quiet_link(driver: &Driver, svc: &Running) {
    svc.signal("STOP");
    let noticed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        driver.wait(
            "the page notices the quiet link",
            "document.getElementById('link').textContent === 'offline' && \
             document.getElementById('banner').textContent.includes('no update')",
            WAIT,
        )
    }));
    svc.signal("CONT");
    if let Err(panic) = noticed {
        std::panic::resume_unwind(panic);
    }
    driver.wait(
        "live again after the quiet link",
        "document.getElementById('link').textContent === 'live' && \
         document.getElementById('picture').naturalWidth > 0",
        WAIT,
    );
}

/// At a phone's width nothing is cut off sideways.
fn phone(driver: &Driver) {
    driver.window_size(360, 800);
    driver.wait(
        "a narrow window",
        "window.innerWidth <= 400 ? window.innerWidth : null",
        WAIT,
    );
    let overflow = driver.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    );
    assert_eq!(overflow, Value::from(0), "the page is wider than a phone");
    shot(driver, "phone");
    driver.window_size(1280, 900);
}

/// The mode picker, rotation and flips (needs `GET /modes`).
pub fn modes() {
    let login = Login::Token;
    let svc = Running::headless(&login.args(), &[]);
    let mut svc = svc;
    let addr = svc.http_addr();
    // The modes are known once the source has opened and the status after
    // it has been taken.
    let modes = super::common::eventually(WAIT, || {
        get_json(addr, "/modes", login)
            .filter(|m| m["modes"].as_array().is_some_and(|l| l.len() > 1))
    })
    .expect("GET /modes lists the source's modes");
    let driver = Driver::start("modes");
    driver.goto(&login.page_url(addr));
    driver.wait(
        "the mode section",
        "!document.getElementById('mode').hidden && !document.getElementById('mode').disabled",
        WAIT,
    );
    let list = modes["modes"].as_array().expect("a list of modes");
    let current = &modes["current"];
    let other = list
        .iter()
        .position(|m| m["width"] != current["width"] || m["height"] != current["height"])
        .expect("a second size");
    driver.script(&format!(
        "const s = document.getElementById('mode-size'); s.value = '{other}'; \
         s.dispatchEvent(new Event('change')); return null;"
    ));
    let (w, h) = (&list[other]["width"], &list[other]["height"]);
    until_status(addr, login, "the new size", |s| {
        &s["capture"]["width"] == w && &s["capture"]["height"] == h
    });
    driver.click("#flip-h");
    until_status(addr, login, "mirrored", |s| s["capture"]["flip_h"] == true);
    driver.script(
        "const r = document.getElementById('rotation'); r.value = '180'; \
         r.dispatchEvent(new Event('change')); return null;",
    );
    until_status(addr, login, "rotated", |s| s["capture"]["rotation"] == 180);
    shot(&driver, "modes");
}
