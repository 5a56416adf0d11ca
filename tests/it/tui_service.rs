//! End to end: keys typed into the UI change the running service, and the
//! change shows on screen, in `/status` and in the next MQTT frame payload.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::broker::{BrokerKind, Observer, start_broker};
use common::status_json;
use common::ui::{SharedBackend, key_channel, wait_for_screen};
use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tars_camera::events::EventLog;
use tars_camera::service::Service;
use tars_camera::tui::{UiLink, run_loop};

const WAIT: Duration = Duration::from_secs(10);

fn key(c: char) -> Event {
    Event::Key(KeyEvent::from(KeyCode::Char(c)))
}

/// Poll `/status` (off the runtime) until `pred` holds.
async fn status_until(
    addr: std::net::SocketAddr,
    pred: impl Fn(&serde_json::Value) -> bool + Send + 'static,
) -> serde_json::Value {
    tokio::task::spawn_blocking(move || {
        common::eventually(WAIT, || {
            let v = status_json(addr);
            pred(&v).then_some(v)
        })
    })
    .await
    .expect("join")
    .expect("status reached in time")
}

/// Wait for a frame payload whose `field` is `value`.
async fn frame_with<T>(obs: &mut Observer, field: &str, value: T)
where
    serde_json::Value: PartialEq<T>,
    T: Copy + std::fmt::Debug,
{
    let frame = obs
        .next(WAIT, |m| {
            m.topic == "camera/frame" && m.json()[field] == value
        })
        .await
        .unwrap_or_else(|| panic!("no frame payload with {field} = {value:?}"));
    assert_eq!(frame.json()[field], value);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_change_quality_rate_and_pause_everywhere() {
    let broker = start_broker(BrokerKind::Embedded);
    let mut obs = Observer::connect(broker.port, &["camera/frame"]).await;
    let url = broker.url();
    let (config, listener) = common::test_config(&common::args::Args::small().and(&[
        "--mqtt-url",
        &url,
        "--mqtt-rate",
        "2",
        "--quality",
        "80",
    ]));
    let service = Service::start(config, listener).await.expect("service");
    let addr = service.http_addr;

    let backend = SharedBackend(Arc::new(std::sync::Mutex::new(TestBackend::new(120, 40))));
    let mut terminal = Terminal::new(backend.clone()).expect("terminal");
    let link = UiLink {
        status: service.status.clone(),
        frames: Arc::clone(&service.hub),
        commands: service.commands.clone(),
        preview_fps: 4.0,
        events: EventLog::new(50),
        codec: service.config.encoder.clone(),
    };
    let (keys, input) = key_channel();
    let ui = tokio::spawn(async move { run_loop(&mut terminal, link, input).await });
    obs.next(WAIT, |m| m.topic == "camera/frame")
        .await
        .expect("frames at start");

    // Quality: `+` twice → 90.
    keys.send(key('+')).expect("key");
    keys.send(key('+')).expect("key");
    let screen = wait_for_screen(&backend, |t| t.contains("q90")).await;
    assert!(
        screen.contains("q90"),
        "the UI shows the new quality:\n{screen}"
    );
    status_until(addr, |v| v["encoder"]["quality"] == 90).await;
    obs.drain();
    frame_with(&mut obs, "quality", 90).await;

    // Rate: `]` steps 2 → 5 Hz.
    keys.send(key(']')).expect("key");
    status_until(addr, |v| v["mqtt"]["rate_hz"] == 5.0).await;
    frame_with(&mut obs, "mqtt_rate", 5.0).await;

    // Pause: `p` → no more frames; `p` again → frames again.
    keys.send(key('p')).expect("key");
    status_until(addr, |v| v["mqtt"]["paused"] == true).await;
    let screen = wait_for_screen(&backend, |t| t.contains("p resume")).await;
    assert!(
        screen.contains("p resume"),
        "footer offers resume:\n{screen}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    obs.drain();
    assert!(
        obs.next(Duration::from_millis(1200), |m| m.topic == "camera/frame")
            .await
            .is_none(),
        "paused: no frame"
    );
    keys.send(key('p')).expect("key");
    obs.next(WAIT, |m| m.topic == "camera/frame")
        .await
        .expect("resumed");

    // Snapshot: `s` writes the current frame and the path shows.
    keys.send(key('s')).expect("key");
    let v = status_until(addr, |v| v["encoder"]["last_saved"].is_string()).await;
    let path = std::path::PathBuf::from(v["encoder"]["last_saved"].as_str().expect("path"));
    let jpeg = std::fs::read(&path).expect("snapshot file");
    let _ = std::fs::remove_file(&path);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned();
    let screen = wait_for_screen(&backend, |t| t.contains(&name[..20])).await;
    assert!(
        screen.contains(&name[..20]),
        "the UI shows where it saved:\n{screen}"
    );

    // Quit: the loop ends and the service hears it.
    keys.send(key('q')).expect("key");
    tokio::time::timeout(WAIT, service.quit_requested())
        .await
        .expect("quit reaches the service");
    tokio::time::timeout(WAIT, ui)
        .await
        .expect("ui ends")
        .expect("join")
        .expect("ui ok");
    service.shutdown().await;
}
