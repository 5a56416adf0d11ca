//! Keys → commands, the preview cadence, and the real `run_loop` driven by a
//! stream of key events. Every wait is bounded.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tars_camera::control::Command;
use tars_camera::events::EventLog;
use tars_camera::frame::{Frame as VideoFrame, FrameHub};
use tars_camera::stats::Status;
use tars_camera::tui::{App, ColorMode, Refresh, UiLink, run_loop};
use tokio::sync::{mpsc, watch};

use common::ui::{SharedBackend, key_channel, wait_for_screen};

const BOUND: Duration = Duration::from_secs(5);

fn key(c: char) -> KeyEvent {
    KeyEvent::from(KeyCode::Char(c))
}

fn app_with(capacity: usize, hub: Arc<FrameHub>) -> (App, mpsc::Receiver<Command>) {
    let (tx, rx) = mpsc::channel(capacity);
    let app = App::new(
        Status::default(),
        hub,
        tx,
        4.0,
        EventLog::new(10),
        ColorMode::TrueColor,
    );
    (app, rx)
}

#[test]
fn each_key_sends_its_command() {
    let (mut app, mut rx) = app_with(16, Arc::new(FrameHub::new()));
    let now = Instant::now();
    for (c, want) in [
        ('+', Command::AdjustQuality(5)),
        ('=', Command::AdjustQuality(5)),
        ('-', Command::AdjustQuality(-5)),
        (']', Command::StepMqttRate(true)),
        ('[', Command::StepMqttRate(false)),
        ('p', Command::ToggleMqttPause),
        ('s', Command::SaveSnapshot),
        ('w', Command::SaveSettings),
        ('r', Command::ReconnectMqtt),
    ] {
        assert_eq!(app.on_key(&key(c), now), Refresh::Redraw, "key {c}");
        assert_eq!(rx.try_recv().ok(), Some(want), "key {c}");
    }
    // Shift is fine ('+' on many layouts); Ctrl/Alt combinations and releases are not keys of ours.
    app.on_key(&KeyEvent::new(KeyCode::Char('+'), KeyModifiers::SHIFT), now);
    assert_eq!(rx.try_recv().ok(), Some(Command::AdjustQuality(5)));
    app.on_key(
        &KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL),
        now,
    );
    app.on_key(&KeyEvent::new(KeyCode::Char('+'), KeyModifiers::ALT), now);
    let mut release = key('p');
    release.kind = KeyEventKind::Release;
    app.on_key(&release, now);
    assert!(rx.try_recv().is_err(), "nothing else was sent");
}

#[test]
fn local_keys_send_nothing_and_quit_keys_quit() {
    let (mut app, mut rx) = app_with(16, Arc::new(FrameHub::new()));
    let now = Instant::now();
    assert!(app.preview().visible());
    app.on_key(&key('v'), now);
    assert!(!app.preview().visible(), "v hides the preview");
    app.on_key(&key('?'), now);
    assert!(app.help_open());
    // Esc closes the help first instead of quitting.
    assert_eq!(
        app.on_key(&KeyEvent::from(KeyCode::Esc), now),
        Refresh::Redraw
    );
    assert!(!app.help_open());
    assert!(rx.try_recv().is_err());
    assert_eq!(app.on_key(&key('q'), now), Refresh::Quit);
    assert_eq!(
        app.on_key(&KeyEvent::from(KeyCode::Esc), now),
        Refresh::Quit
    );
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(&ctrl_c, now), Refresh::Quit);
    // Plain c opens the Controls view (a local change: nothing sent).
    assert_eq!(app.on_key(&key('c'), now), Refresh::Redraw);
    assert!(rx.try_recv().is_err());
}

#[test]
fn a_full_or_closed_channel_never_blocks_and_says_so() {
    let (mut app, mut rx) = app_with(1, Arc::new(FrameHub::new()));
    let now = Instant::now();
    app.on_key(&key('+'), now);
    let started = Instant::now();
    assert_eq!(app.on_key(&key('-'), now), Refresh::Redraw);
    assert!(started.elapsed() < Duration::from_millis(50));
    assert!(
        app.note().is_some_and(|n| n.contains("full")),
        "{:?}",
        app.note()
    );
    assert_eq!(rx.try_recv().ok(), Some(Command::AdjustQuality(5)));
    drop(rx);
    app.on_key(&key('p'), now);
    assert!(
        app.note().is_some_and(|n| n.contains("not listening")),
        "{:?}",
        app.note()
    );
}

fn test_jpeg() -> Bytes {
    let rgb = vec![120u8; 16 * 8 * 3];
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&rgb, 16, 8, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    Bytes::from(out)
}

fn publish(hub: &FrameHub, seq: u64, jpeg: &Bytes) {
    hub.publish(VideoFrame::captured_now(seq, jpeg.clone(), (16, 8), 80));
}

#[test]
fn the_preview_decodes_only_new_frames_at_the_preview_rate_and_not_when_hidden() {
    let hub = Arc::new(FrameHub::new());
    let jpeg = test_jpeg();
    let (mut app, _rx) = app_with(4, Arc::clone(&hub));
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    app.on_tick(at(0));
    assert_eq!(app.preview().decodes(), 0, "no frame yet");
    publish(&hub, 1, &jpeg);
    app.on_tick(at(100));
    assert_eq!(app.preview().decodes(), 1);
    publish(&hub, 2, &jpeg);
    app.on_tick(at(200));
    assert_eq!(app.preview().decodes(), 1, "4 fps: not before 250 ms");
    app.on_tick(at(350));
    assert_eq!(app.preview().decodes(), 2);
    // On a 100 ms tick the schedule keeps 4 a second on average (due at
    // 600, 850, …, 2100: 7 by 2300 ms), where "250 ms since the last" would
    // decode every 300 ms (6).
    for (i, ms) in (400..=2_300).step_by(100).enumerate() {
        publish(&hub, 10 + i as u64, &jpeg);
        app.on_tick(at(ms));
    }
    assert_eq!(app.preview().decodes(), 2 + 7);
    app.on_tick(at(2_400));
    assert_eq!(
        app.preview().decodes(),
        10,
        "the frame of 2300 ms, once due"
    );
    app.on_tick(at(2_700));
    assert_eq!(app.preview().decodes(), 10, "no new frame, no decode");
    app.on_key(&key('v'), at(2_700));
    publish(&hub, 99, &jpeg);
    app.on_tick(at(3_000));
    assert_eq!(app.preview().decodes(), 10, "hidden: no decode");
    app.on_key(&key('v'), at(3_000));
    app.on_tick(at(3_100));
    assert_eq!(
        app.preview().decodes(),
        11,
        "shown again: the newest frame at once"
    );
}

struct Service {
    status: watch::Sender<Status>,
    commands: mpsc::Receiver<Command>,
    link: Option<UiLink>,
}

fn service() -> Service {
    let mut first = Status::default();
    first.encoder.quality = 80;
    let (status, status_rx) = watch::channel(first);
    let (tx, commands) = mpsc::channel(16);
    let link = UiLink {
        status: status_rx,
        frames: Arc::new(FrameHub::new()),
        commands: tx,
        preview_fps: 4.0,
        events: EventLog::new(20),
        codec: tars_camera::encode::Codec::auto(),
    };
    Service {
        status,
        commands,
        link: Some(link),
    }
}

fn screen(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    buf.content().iter().map(|c| c.symbol()).collect()
}

#[tokio::test]
async fn run_loop_sends_the_commands_of_the_keys_and_q_ends_it() {
    let mut svc = service();
    let link = svc.link.take().expect("link");
    let keys = ['+', ']', 'p', 'v', 's', 'q', '-'];
    let input = futures_util::stream::iter(keys.map(|c| Ok(Event::Key(key(c)))))
        .chain(futures_util::stream::pending());
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    tokio::time::timeout(BOUND, run_loop(&mut terminal, link, input))
        .await
        .expect("q ends the loop")
        .expect("no error");
    let mut got = Vec::new();
    while let Ok(c) = svc.commands.try_recv() {
        got.push(c);
    }
    assert_eq!(
        got,
        [
            Command::AdjustQuality(5),
            Command::StepMqttRate(true),
            Command::ToggleMqttPause,
            Command::SaveSnapshot,
            Command::Quit,
        ],
        "v is local and nothing after q is read"
    );
}

/// A `TestBackend` the test can read while the loop owns the terminal.
#[tokio::test]
async fn a_status_change_shows_on_screen_within_a_redraw() {
    let mut svc = service();
    let link = svc.link.take().expect("link");
    let (keys, input) = key_channel();
    let backend = SharedBackend(Arc::new(std::sync::Mutex::new(TestBackend::new(80, 24))));
    let mut terminal = Terminal::new(backend.clone()).expect("terminal");
    let ui = tokio::spawn(async move { run_loop(&mut terminal, link, input).await });
    let text = wait_for_screen(&backend, |t| t.contains("q80")).await;
    assert!(text.contains("q80"), "first status drawn:\n{text}");
    let changed_at = Instant::now();
    svc.status.send_modify(|s| {
        s.encoder.quality = 85;
        s.mqtt.paused = true;
    });
    let text = wait_for_screen(&backend, |t| t.contains("q85") && t.contains("p resume")).await;
    assert!(
        text.contains("q85") && text.contains("PAUSED") && text.contains("p resume"),
        "{text}"
    );
    assert!(
        changed_at.elapsed() < Duration::from_millis(500),
        "shown at once"
    );
    keys.send(Event::Key(key('q'))).expect("send");
    tokio::time::timeout(BOUND, ui)
        .await
        .expect("bounded")
        .expect("join")
        .expect("loop");
}

#[tokio::test]
async fn the_loop_survives_the_status_channel_closing() {
    let mut svc = service();
    let link = svc.link.take().expect("link");
    let (keys, input) = key_channel();
    let ui = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        run_loop(&mut terminal, link, input)
            .await
            .map(|()| terminal)
    });
    drop(svc.status);
    tokio::time::sleep(Duration::from_millis(250)).await;
    keys.send(Event::Key(key('q'))).expect("send");
    let terminal = tokio::time::timeout(BOUND, ui)
        .await
        .expect("bounded")
        .expect("join")
        .expect("loop");
    assert!(screen(&terminal).contains("service stopped sending status"));
    assert_eq!(svc.commands.try_recv().ok(), Some(Command::Quit));
}

#[tokio::test]
async fn the_end_of_input_quits_and_an_input_error_is_returned() {
    let mut svc = service();
    let link = svc.link.take().expect("link");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let ended = tokio::time::timeout(
        BOUND,
        run_loop(&mut terminal, link, futures_util::stream::empty()),
    )
    .await
    .expect("bounded");
    assert!(ended.is_ok());
    assert_eq!(svc.commands.try_recv().ok(), Some(Command::Quit));

    let mut svc = service();
    let link = svc.link.take().expect("link");
    let failing = futures_util::stream::iter([Err(std::io::Error::other("tty gone"))]);
    let result = tokio::time::timeout(BOUND, run_loop(&mut terminal, link, failing))
        .await
        .expect("bounded");
    assert_eq!(result.expect_err("error").to_string(), "tty gone");
}
