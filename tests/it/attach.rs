//! The attached UI over a real service in a child process, rendered into a
//! TestBackend: keys change the service's `/status`, its log lines reach the
//! Events pane, the service killed → "unreachable", restarted on the same
//! port → live again by itself; `q` leaves the service running.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::args::Args;
use common::ui::{SharedBackend, key_channel, wait_for_screen};
use common::{Running, eventually, get, status_json};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tars_camera::attach::{self, Credentials, Target};
use tars_camera::events::EventLog;
use tars_camera::tui::run_loop_attached;

const WAIT: Duration = Duration::from_secs(10);

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn service_on(port: u16, extra: &[&str]) -> (Running, SocketAddr) {
    let args = Args::small().and(&["--demo"]).and(extra);
    let mut svc = Running::headless_on(port, &args, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

/// Waits for the service's `/status` to satisfy `pred`; on timeout fails
/// with the last status and the UI's log (a key refused or not sent).
#[track_caller]
fn status_until(addr: SocketAddr, events: &EventLog, pred: impl Fn(&serde_json::Value) -> bool) {
    let mut last = serde_json::Value::Null;
    let held = eventually(WAIT, || {
        last = status_json(addr);
        pred(&last).then_some(())
    });
    assert!(
        held.is_some(),
        "the service's status did not change: {last}\nlog: {:?}",
        events.recent(20)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_reach_the_service_and_the_ui_outlives_a_restart() {
    let (mut svc, addr) = service_on(0, &[]);
    let port = addr.port();
    let target =
        Target::parse(&format!("http://127.0.0.1:{port}"), Credentials::default()).expect("target");
    let events = EventLog::new(100);
    let (link, remote, guard) = attach::start(target, 4.0, events.clone()).expect("attach");
    let backend = SharedBackend(Arc::new(std::sync::Mutex::new(TestBackend::new(80, 24))));
    let mut terminal = Terminal::new(backend.clone()).expect("terminal");
    let (keys, input) = key_channel();
    let ui =
        tokio::spawn(async move { run_loop_attached(&mut terminal, link, input, remote).await });

    let title = format!("attached to http://127.0.0.1:{port}");
    let screen = wait_for_screen(&backend, |t| t.contains(&title) && t.contains("q80")).await;
    assert!(
        screen.contains(&title),
        "title names the service:\n{screen}"
    );
    assert!(screen.contains("q80"), "its status shows:\n{screen}");
    assert!(
        screen.contains("q leave"),
        "the footer says q leaves:\n{screen}"
    );

    // Keys: `+` → quality 85 in the service; `p` → paused.
    keys.send(key('+')).expect("key");
    status_until(addr, &events, |v| v["encoder"]["quality"] == 85);
    let screen = wait_for_screen(&backend, |t| t.contains("q85")).await;
    assert!(screen.contains("q85"), "{screen}");
    keys.send(key('p')).expect("key");
    status_until(addr, &events, |v| v["mqtt"]["paused"] == true);
    // The service's own log line reaches the Events pane's log.
    let line = eventually(WAIT, || {
        events
            .recent(100)
            .into_iter()
            .find(|l| l.text.contains("JPEG quality 85"))
    });
    assert!(
        line.is_some(),
        "events from the service: {:?}",
        events.recent(100)
    );

    // The service goes away: the panes say so, counting.
    let _ = svc.child.kill();
    let _ = svc.child.wait();
    let screen = wait_for_screen(&backend, |t| t.contains("unreachable for")).await;
    assert!(screen.contains("unreachable for"), "{screen}");

    // Back on the same port (a `systemctl restart`): live again by itself.
    let (svc2, addr2) = service_on(port, &["--quality", "70"]);
    assert_eq!(addr2.port(), port);
    let screen = wait_for_screen(&backend, |t| {
        t.contains("q70") && !t.contains("unreachable")
    })
    .await;
    assert!(
        screen.contains("q70") && !screen.contains("unreachable"),
        "live again:\n{screen}"
    );
    keys.send(key('+')).expect("key");
    status_until(addr2, &events, |v| v["encoder"]["quality"] == 75);

    // `q` leaves the UI; the service keeps running.
    keys.send(key('q')).expect("key");
    tokio::time::timeout(WAIT, ui)
        .await
        .expect("ui ends")
        .expect("join")
        .expect("ui ok");
    drop(guard);
    assert_eq!(get(addr2, "/status").status, 200, "the service still runs");
    drop(svc2);
}

/// `brightness` as `GET /controls` serves it.
fn brightness(addr: SocketAddr) -> Option<i64> {
    let r = get(addr, "/controls");
    let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
    v["controls"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == "brightness")?["value"]
        .as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controls_view_reads_and_sets_the_services_controls() {
    let (_svc, addr) = service_on(0, &[]);
    let target = Target::parse(&format!("http://{addr}"), Credentials::default()).expect("target");
    let (link, remote, guard) = attach::start(target, 4.0, EventLog::new(100)).expect("attach");
    let backend = SharedBackend(Arc::new(std::sync::Mutex::new(TestBackend::new(100, 30))));
    let mut terminal = Terminal::new(backend.clone()).expect("terminal");
    let (keys, input) = key_channel();
    let ui =
        tokio::spawn(async move { run_loop_attached(&mut terminal, link, input, remote).await });
    wait_for_screen(&backend, |t| t.contains("q80")).await;
    assert_eq!(brightness(addr), Some(0));

    // `c`: the list comes from the service's `/controls`.
    keys.send(key('c')).expect("key");
    let listed = |t: &str| {
        ["brightness", "contrast", "saturation", "-100 to 100"]
            .iter()
            .all(|w| t.contains(w))
    };
    let screen = wait_for_screen(&backend, listed).await;
    assert!(
        listed(&screen),
        "the test pattern's controls:
{screen}"
    );

    // → on brightness (the first): the service sets it, and says so.
    keys.send(Event::Key(KeyEvent::new(
        KeyCode::Right,
        KeyModifiers::NONE,
    )))
    .expect("key");
    let set = eventually(WAIT, || (brightness(addr) == Some(1)).then_some(()));
    assert!(set.is_some(), "GET /controls: {:?}", brightness(addr));
    let screen = wait_for_screen(&backend, |t| t.contains("brightness = 1")).await;
    assert!(screen.contains("brightness = 1"), "confirmed:\n{screen}");

    keys.send(key('q')).expect("key");
    tokio::time::timeout(WAIT, ui)
        .await
        .expect("ui ends")
        .expect("join")
        .expect("ui ok");
    drop(guard);
}

#[test]
fn is_tars_camera_tells_a_service_from_other_listeners() {
    let (_svc, addr) = service_on(0, &[]);
    let ours = Target::parse(&format!("http://{addr}"), Credentials::default()).expect("target");
    assert!(attach::is_tars_camera(&ours));
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let t = Target::parse(
        &format!("http://{}", other.local_addr().expect("addr")),
        Credentials::default(),
    )
    .expect("target");
    let silent = std::thread::spawn(move || {
        // Accept and answer something that is not HTTP.
        if let Ok((mut s, _)) = other.accept() {
            use std::io::Write as _;
            let _ = s.write_all(b"SSH-2.0-OpenSSH\r\n");
        }
    });
    assert!(!attach::is_tars_camera(&t));
    let _ = silent.join();
}
