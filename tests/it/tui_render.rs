//! Render tests: each pane from a known status, the preview's cell colours,
//! the whole screen at 80x24 and 200x60.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::{Frame, Terminal};
use tars_camera::events::EventLog;
use tars_camera::frame::{Frame as VideoFrame, FrameHub};
use tars_camera::stats::Status;
use tars_camera::tui::App;
use tars_camera::tui::halfblock::{ColorMode, half_blocks};
use tars_camera::tui::panes::{View, capture, keepalive, mqtt, stream};
use tars_mqtt::{HealthStatus, LinkState};
use tokio::sync::mpsc;

const NOW_MS: u64 = 1_700_000_000_000;

fn status() -> Status {
    let mut s = Status::default();
    let c = &mut s.capture;
    c.source = "camera".into();
    c.backend = "v4l2".into();
    c.device = "/dev/video0".into();
    c.width = 1280;
    c.height = 720;
    c.pixel_format = "MJPEG".into();
    c.target_fps = 30.0;
    c.measured_fps = 29.8;
    c.fps_history = vec![30.0, 29.0, 15.0, 29.8];
    c.frame_time_ms = 12.34;
    c.consecutive_failures = 2;
    c.total_failures = 17;
    c.reopens = 3;
    c.last_error = Some("VIDIOC_DQBUF: No such device".into());
    c.passthrough = true;
    let e = &mut s.encoder;
    e.encoder = "jpeg-encoder".into();
    e.quality = 80;
    e.jpeg_bytes = 46_694;
    e.width = 1280;
    e.height = 720;
    e.last_saved = Some("/tmp/tars-snap-0001.jpg".into());
    let st = &mut s.stream;
    st.address = "http://0.0.0.0:8080/stream".into();
    st.clients = 2;
    st.max_clients = 16;
    st.dropped_stalled = 3;
    st.connections = 5;
    st.max_connections = 64;
    st.auth = "basic".into();
    st.frames_per_s = 3.9;
    st.bytes_per_s = 1_258_291.0;
    let m = &mut s.mqtt;
    m.frame_topic = "camera/frame".into();
    m.rate_hz = 2.0;
    m.client.broker = "mqtt://tars@10.0.0.2:1883".into();
    m.client.state = LinkState::Connected;
    m.client.since_unix_ms = NOW_MS - 65_000;
    m.client.reconnects = 4;
    m.client.published = 120;
    m.client.dropped = 7;
    m.client.deduplicated = 1;
    let h = &mut m.client.heartbeat;
    h.interval_ms = 5_000;
    h.sent = 12;
    h.last_unix_ms = Some(NOW_MS - 1_200);
    h.next_due_in_ms = Some(3_800);
    h.max_drift_ms = 3.1;
    h.round_trip_ms = Some(1.4);
    m.client.health = Some(HealthStatus {
        ok: true,
        event: "ready".into(),
        err: None,
        timestamp: 0.0,
    });
    s
}

fn view(s: &Status, age: Duration) -> View<'_> {
    View {
        status: s,
        status_age: age,
        now_unix_ms: NOW_MS,
    }
}

fn draw(w: u16, h: u16, f: impl FnOnce(&mut Frame)) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(f).expect("draw");
    t.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A pane's `render`, `w` cells wide and `h` high, from `s` as it is `age`
/// after it was taken.
fn pane(render: fn(&mut Frame, Rect, &View), w: u16, h: u16, s: &Status, age: Duration) -> Buffer {
    draw(w, h, |f| render(f, f.area(), &view(s, age)))
}

/// `buf` shows every one of `wants`.
fn assert_shows(buf: &Buffer, wants: &[&str]) {
    let t = text(buf);
    for want in wants {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
}

/// The foreground colour of the first cell of `needle`.
fn colour_of(buf: &Buffer, needle: &str) -> Color {
    let (x, y) = find(buf, needle).unwrap_or_else(|| panic!("{needle:?} not shown"));
    buf[(x, y)].fg
}

/// Position of the first occurrence of `needle` (by cell), for colour checks.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let first = needle.chars().next()?.to_string();
    let area = buf.area;
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if buf[(x, y)].symbol() == first {
                let word: String = (x..area.right().min(x + needle.chars().count() as u16))
                    .map(|xx| buf[(xx, y)].symbol().to_owned())
                    .collect();
                if word == needle {
                    return Some((x, y));
                }
            }
        }
    }
    None
}

#[test]
fn capture_pane_shows_measured_against_target_and_the_failures() {
    let s = status();
    let buf = pane(capture::render, 60, capture::HEIGHT, &s, Duration::ZERO);
    assert_shows(
        &buf,
        &[
            " Capture ",
            "1280x720 MJPEG v4l2 /dev/video0",
            "fps 29.8 / 30 target",
            "frame 12.3 ms  jpeg 45.6 KB  q80",
            "failures 2 now, 17 total  reopens 3",
            "passthrough",
            "error VIDIOC_DQBUF: No such device",
            "saved /tmp/tars-snap-0001.jpg",
        ],
    );
    // The sparkline row has bars (the dip to 15 fps is a lower bar).
    let spark_row: String = text(&buf).lines().nth(3).expect("row").chars().collect();
    assert!(spark_row.contains('█'), "sparkline row: {spark_row:?}");
    assert_eq!(colour_of(&buf, "29.8"), Color::Green, "on target is green");
    // At 80 columns (a 38-wide pane) a long path keeps its file name.
    let mut long = status();
    long.encoder.last_saved =
        Some("/var/lib/tars-camera/snapshots/snapshot-20261204-181500-000123.jpg".into());
    let narrow = pane(capture::render, 38, capture::HEIGHT, &long, Duration::ZERO);
    assert_shows(&narrow, &["saved …ot-20261204-181500-000123.jpg"]);
}

#[test]
fn stream_pane_shows_address_clients_and_rates() {
    let s = status();
    let buf = pane(stream::render, 40, stream::HEIGHT, &s, Duration::ZERO);
    assert_shows(
        &buf,
        &[
            " Stream ",
            "http://0.0.0.0:8080/stream",
            "clients 2/16  auth basic",
            "3.9 fps  1.2 MB/s  conns 5/64",
        ],
    );
    // A wide terminal shows the rest: the stalled and refused counts.
    let wide = pane(stream::render, 80, stream::HEIGHT, &s, Duration::ZERO);
    let t = text(&wide);
    assert!(t.contains("auth basic  dropped 3  rejected 0"), "{t}");
    assert!(t.contains("conns 5/64  refused 0"), "{t}");
}

#[test]
fn mqtt_pane_counts_down_to_the_next_attempt_and_colours_the_state() {
    let mut s = status();
    s.mqtt.client.state = LinkState::Waiting;
    s.mqtt.client.attempt = 3;
    s.mqtt.client.next_attempt_in_ms = Some(2_300);
    s.mqtt.client.last_error = Some("connection refused".into());
    let buf = pane(mqtt::render, 50, mqtt::HEIGHT, &s, Duration::ZERO);
    let t = text(&buf);
    assert!(t.contains("waiting: attempt 3, next try in 2.3 s"), "{t}");
    assert!(t.contains("error connection refused"), "{t}");
    assert_eq!(
        colour_of(&buf, "waiting"),
        Color::Red,
        "an error and no link is red"
    );

    // A second later, with the same snapshot, the countdown has moved on.
    let later = pane(
        mqtt::render,
        50,
        mqtt::HEIGHT,
        &s,
        Duration::from_millis(1_000),
    );
    assert!(
        text(&later).contains("next try in 1.3 s"),
        "{}",
        text(&later)
    );

    s.mqtt.client.last_error = None;
    let buf = pane(mqtt::render, 50, mqtt::HEIGHT, &s, Duration::ZERO);
    assert_eq!(
        colour_of(&buf, "waiting"),
        Color::Yellow,
        "waiting without an error is yellow"
    );
}

#[test]
fn mqtt_pane_when_connected() {
    let mut s = status();
    s.mqtt.paused = true;
    let buf = pane(mqtt::render, 50, mqtt::HEIGHT, &s, Duration::ZERO);
    assert_shows(
        &buf,
        &[
            " MQTT ",
            "mqtt://tars@10.0.0.2:1883",
            "connected for 1m 05s",
            "reconnects 4",
            "published 120  dropped 7  deduped 1",
            "frames → camera/frame 2 Hz PAUSED",
        ],
    );
    assert_eq!(colour_of(&buf, "connected"), Color::Green);
}

#[test]
fn keepalive_pane_shows_timing_round_trip_and_health() {
    let mut s = status();
    let buf = pane(keepalive::render, 44, keepalive::HEIGHT, &s, Duration::ZERO);
    assert_shows(
        &buf,
        &[
            " Keepalive ",
            "every 5.0 s  sent 12",
            "last 1.2 s ago  next in 3.8 s",
            "broker round trip 1.4 ms",
            "max drift 3.1 ms",
            "health ok ready",
        ],
    );
    s.mqtt.client.health = Some(HealthStatus {
        ok: false,
        event: "camera_error".into(),
        err: Some("no frames for 5 s".into()),
        timestamp: 0.0,
    });
    let buf = pane(keepalive::render, 60, keepalive::HEIGHT, &s, Duration::ZERO);
    let t = text(&buf);
    assert!(
        t.contains("health NOT OK camera_error (no frames for 5 s)"),
        "{t}"
    );
    assert_eq!(colour_of(&buf, "NOT OK"), Color::Red);
}

#[test]
fn a_known_4x4_picture_gives_the_expected_cell_colours() {
    const R: [u8; 3] = [255, 0, 0];
    const G: [u8; 3] = [0, 255, 0];
    const B: [u8; 3] = [0, 0, 255];
    const W: [u8; 3] = [255, 255, 255];
    let rows = [[R, G, B, W], [W, B, G, R], [G, G, R, R], [B, B, W, W]];
    let rgb: Vec<u8> = rows.iter().flatten().flatten().copied().collect();
    let cells = half_blocks(&rgb, 4, 4);
    let area = Rect::new(0, 0, 6, 3);
    let rgb_color = |p: [u8; 3]| Color::Rgb(p[0], p[1], p[2]);
    for (mode, color) in [
        (
            ColorMode::TrueColor,
            Box::new(rgb_color) as Box<dyn Fn([u8; 3]) -> Color>,
        ),
        (
            ColorMode::Palette256,
            Box::new(|p| Color::Indexed(tars_camera::tui::color::ansi256(p))),
        ),
    ] {
        let mut buf = Buffer::empty(area);
        cells.render((1, 0), area, mode, &mut buf);
        for (y, pair) in rows.chunks(2).enumerate() {
            for x in 0..4 {
                let cell = &buf[(x as u16 + 1, y as u16)];
                assert_eq!(cell.symbol(), "▀");
                assert_eq!(cell.fg, color(pair[0][x]), "fg at ({x},{y}) {mode:?}");
                assert_eq!(cell.bg, color(pair[1][x]), "bg at ({x},{y}) {mode:?}");
            }
        }
        assert_eq!(buf[(0, 0)].symbol(), " ", "left of the origin untouched");
        assert_eq!(buf[(5, 0)].symbol(), " ", "right of the picture untouched");
    }
    assert_eq!(tars_camera::tui::color::ansi256(R), 196);
}

fn jpeg_top_red_bottom_blue(w: u16, h: u16) -> Bytes {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for _ in 0..w {
            rgb.extend_from_slice(if y < h / 2 {
                &[230, 20, 20]
            } else {
                &[20, 20, 230]
            });
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    Bytes::from(out)
}

fn publish(hub: &FrameHub, seq: u64, jpeg: Bytes, w: u32, h: u32) {
    hub.publish(VideoFrame::captured_now(seq, jpeg, (w, h), 90));
}

fn app(s: Status, hub: Arc<FrameHub>, events: EventLog) -> App {
    let (tx, _rx) = mpsc::channel(8);
    App::new(s, hub, tx, 4.0, events, ColorMode::TrueColor)
}

fn draw_app(app: &mut App, w: u16, h: u16) -> Buffer {
    draw(w, h, |f| app.draw(f, Instant::now()))
}

#[test]
fn whole_screen_at_80x24_and_200x60_has_every_pane_and_the_preview_picture() {
    let hub = Arc::new(FrameHub::new());
    publish(&hub, 1, jpeg_top_red_bottom_blue(64, 48), 64, 48);
    let events = EventLog::new(50);
    events.push(
        tracing::Level::WARN,
        "12:00:00 WARN  mqtt: connection refused",
    );
    let mut s = status();
    s.encoder.width = 64;
    s.encoder.height = 48;
    let mut app = app(s, hub, events);
    let now = Instant::now();
    assert_eq!(app.on_tick(now), tars_camera::tui::Refresh::Redraw);
    assert_eq!(app.preview().decodes(), 1);
    for (w, h) in [(80, 24), (200, 60)] {
        let buf = draw_app(&mut app, w, h);
        let t = text(&buf);
        for title in [
            " Capture ",
            " Stream ",
            " MQTT ",
            " Keepalive ",
            " Preview 64x48 ",
            " Events ",
        ] {
            assert!(t.contains(title), "{title:?} missing at {w}x{h}:\n{t}");
        }
        assert!(t.contains("connection refused"), "event line at {w}x{h}");
        assert!(
            t.lines().last().expect("footer").starts_with(
                "q quit ? help +/- quality s snapshot w save ]/[ rate p pause r reconnect"
            ),
            "{t}"
        );
        // Upper half of the picture red, lower half blue, drawn as half-blocks.
        let (px, py) = find(&buf, "▀").expect("preview cells");
        let top = &buf[(px, py)];
        assert!(
            matches!(top.fg, Color::Rgb(r, _, b) if r > 180 && b < 80),
            "{:?}",
            top.fg
        );
        let bottom_y = (py..h)
            .rev()
            .find(|&y| buf[(px, y)].symbol() == "▀")
            .expect("last row");
        let bottom = &buf[(px, bottom_y)];
        assert!(
            matches!(bottom.bg, Color::Rgb(r, _, b) if b > 180 && r < 80),
            "{:?}",
            bottom.bg
        );
    }
}

#[test]
fn a_long_event_line_is_wrapped_whole_at_80x24() {
    let hub = Arc::new(FrameHub::new());
    publish(&hub, 1, jpeg_top_red_bottom_blue(64, 48), 64, 48);
    let events = EventLog::new(50);
    events.push(
        tracing::Level::WARN,
        "12:00:00 WARN  tars_mqtt: connection to mqtt://robot.local:1883 refused: the broker is not running, retrying in 5.0 s",
    );
    let mut app = app(status(), hub, events);
    let buf = draw_app(&mut app, 80, 24);
    let t = text(&buf);
    for words in [
        "connection to",
        "broker is not",
        "running, retrying in 5.0 s",
    ] {
        assert!(t.contains(words), "{words:?} lost at 80x24:\n{t}");
    }
}

#[test]
fn no_size_panics_and_small_terminals_drop_preview_and_events_first() {
    let hub = Arc::new(FrameHub::new());
    publish(&hub, 1, jpeg_top_red_bottom_blue(32, 24), 32, 24);
    let mut app = app(status(), hub, EventLog::new(10));
    app.on_tick(Instant::now());
    for (w, h) in [
        (1, 1),
        (10, 5),
        (40, 12),
        (80, 18),
        (79, 23),
        (80, 24),
        (120, 40),
        (300, 90),
    ] {
        let t = text(&draw_app(&mut app, w, h));
        if h <= 18 {
            assert!(
                !t.contains("Preview") && !t.contains("Events"),
                "{w}x{h}:\n{t}"
            );
        }
    }
}

#[test]
fn footer_and_help_follow_the_state() {
    let mut s = status();
    s.mqtt.paused = true;
    let mut app = app(s, Arc::new(FrameHub::new()), EventLog::new(10));
    let t = text(&draw_app(&mut app, 200, 40));
    let footer = t.lines().last().expect("footer");
    assert!(footer.contains("p resume"), "{footer}");
    assert!(footer.contains("v hide preview"), "{footer}");
    let key = |c| crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
    app.on_key(&key('?'), Instant::now());
    app.on_key(&key('v'), Instant::now());
    let t = text(&draw_app(&mut app, 80, 24));
    assert!(t.contains("Help — keys"), "{t}");
    assert!(t.contains("pause or resume MQTT frames"), "{t}");
    assert!(!t.contains("Preview"), "v hid the preview:\n{t}");
}

mod controls_view {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent};
    use ratatui::style::Modifier;
    use serde_json::json;
    use tars_camera::capture::controls::{
        ControlInfo, ControlKind, ControlValue, MenuItem, resolve,
    };
    use tars_camera::control::{Applied, Command, ControlError, ControlRequest, ControlState};

    fn control(
        name: &str,
        kind: ControlKind,
        (min, max, step): (i64, i64, u64),
        value: i64,
    ) -> ControlInfo {
        ControlInfo {
            name: name.into(),
            label: name.into(),
            kind,
            min,
            max,
            step,
            default: value,
            value,
            menu: Vec::new(),
            inactive: false,
            read_only: false,
            grabbed: false,
            id: 1,
        }
    }

    fn menu(items: &[(i64, &str)]) -> Vec<MenuItem> {
        items
            .iter()
            .map(|(index, name)| MenuItem {
                index: *index,
                name: (*name).into(),
            })
            .collect()
    }

    /// What a UVC webcam offers: integers, a boolean, menus and a manual
    /// value that is inactive while its automatic mode is on.
    fn webcam() -> Vec<ControlInfo> {
        let mut auto = control("auto_exposure", ControlKind::Menu, (0, 3, 1), 3);
        auto.menu = menu(&[(1, "Manual Mode"), (3, "Aperture Priority Mode")]);
        let mut exposure = control(
            "exposure_time_absolute",
            ControlKind::Integer,
            (3, 2047, 1),
            250,
        );
        exposure.inactive = true;
        let mut power = control("power_line_frequency", ControlKind::Menu, (0, 2, 1), 2);
        power.menu = menu(&[(0, "Disabled"), (1, "50 Hz"), (2, "60 Hz")]);
        vec![
            control("brightness", ControlKind::Integer, (0, 255, 1), 128),
            control(
                "white_balance_automatic",
                ControlKind::Boolean,
                (0, 1, 1),
                1,
            ),
            auto,
            exposure,
            power,
        ]
    }

    fn press(app: &mut App, code: KeyCode) {
        app.on_key(&KeyEvent::from(code), Instant::now());
    }

    fn open_app() -> (App, mpsc::Receiver<Command>) {
        let mut s = status();
        s.controls = webcam();
        let (tx, rx) = mpsc::channel(8);
        let mut app = App::new(
            s,
            Arc::new(FrameHub::new()),
            tx,
            4.0,
            EventLog::new(10),
            ColorMode::TrueColor,
        );
        press(&mut app, KeyCode::Char('c'));
        assert!(app.controls_open(), "c opens the controls view");
        (app, rx)
    }

    /// The command a key sent: one control request.
    fn sent(rx: &mut mpsc::Receiver<Command>) -> (ControlRequest, tars_camera::control::Reply) {
        match rx.try_recv() {
            Ok(Command::Apply(request, reply)) => (request, reply),
            other => panic!("expected a control request, got {other:?}"),
        }
    }

    fn asks(name: &str, value: ControlValue) -> ControlRequest {
        ControlRequest {
            controls: vec![(name.into(), value)],
            ..ControlRequest::default()
        }
    }

    /// The service's answer to `request`, as it applies it: checked against
    /// `offered` by the same rules, the applied values by their names.
    fn answer(offered: &[ControlInfo], request: &ControlRequest) -> Result<Applied, ControlError> {
        let writes = resolve(offered, &request.controls)?;
        let mut applied = serde_json::Map::new();
        for w in writes {
            let mut c = offered
                .iter()
                .find(|c| c.name == w.name)
                .expect("offered")
                .clone();
            c.value = w.value;
            applied.insert(w.name, json!(c.value_text()));
        }
        Ok(Applied {
            applied: [("controls".to_owned(), serde_json::Value::Object(applied))]
                .into_iter()
                .collect(),
            status: ControlState {
                quality: 80,
                mqtt_rate: 2.0,
                max_mqtt_rate: 30.0,
                paused: false,
                last_saved: None,
            },
        })
    }

    /// The row showing `name`.
    fn row_of<'a>(t: &'a str, name: &str) -> &'a str {
        t.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{t}"))
    }

    fn modifiers_at(buf: &Buffer, needle: &str) -> Modifier {
        let (x, y) = find(buf, needle).unwrap_or_else(|| panic!("{needle:?} not shown"));
        buf[(x, y)].modifier
    }

    #[test]
    fn lists_name_value_and_range_dims_the_inactive_and_moves_the_selection() {
        let (mut app, _rx) = open_app();
        let buf = draw_app(&mut app, 120, 30);
        let t = text(&buf);
        assert!(t.contains(" Controls /dev/video0 "), "{t}");
        assert!(row_of(&t, "brightness").contains("128"), "{t}");
        assert!(row_of(&t, "brightness").contains("0 to 255"), "{t}");
        assert!(
            row_of(&t, "white_balance_automatic").contains("true"),
            "{t}"
        );
        let auto = row_of(&t, "auto_exposure ");
        assert!(
            auto.contains("Aperture Priority Mode")
                && auto.contains("one of Manual Mode (1), Aperture Priority Mode (3)"),
            "a menu shows its item's name and its items:\n{t}"
        );
        assert!(
            row_of(&t, "exposure_time_absolute").contains("(inactive) 3 to 2047"),
            "{t}"
        );
        assert!(
            !t.contains(" Capture "),
            "the view replaces the panes:\n{t}"
        );
        let footer = t.lines().last().expect("footer");
        assert!(
            footer.contains("Esc/c close") && footer.contains("←/→ step"),
            "{footer}"
        );
        assert!(
            modifiers_at(&buf, "exposure_time_absolute").contains(Modifier::DIM),
            "inactive is dimmed"
        );
        assert!(!modifiers_at(&buf, "brightness").contains(Modifier::DIM));
        assert!(
            modifiers_at(&buf, "brightness").contains(Modifier::REVERSED),
            "the first control is selected"
        );

        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        let buf = draw_app(&mut app, 120, 30);
        assert!(modifiers_at(&buf, "auto_exposure").contains(Modifier::REVERSED));
        assert!(!modifiers_at(&buf, "brightness").contains(Modifier::REVERSED));
        assert!(
            text(&buf).contains("auto_exposure (auto_exposure): one of Manual Mode (1)"),
            "the selected control's details:\n{}",
            text(&buf)
        );
        press(&mut app, KeyCode::Up);
        let buf = draw_app(&mut app, 120, 30);
        assert!(modifiers_at(&buf, "white_balance_automatic").contains(Modifier::REVERSED));

        press(&mut app, KeyCode::Esc);
        assert!(!app.controls_open(), "Esc leaves the view, not the UI");
        assert!(text(&draw_app(&mut app, 120, 30)).contains(" Capture "));
        press(&mut app, KeyCode::Char('c'));
        press(&mut app, KeyCode::Char('c'));
        assert!(!app.controls_open(), "c leaves it too");
    }

    #[test]
    fn a_step_sends_the_request_and_the_value_shows_once_the_service_confirms() {
        let (mut app, mut rx) = open_app();
        press(&mut app, KeyCode::Right);
        let (request, reply) = sent(&mut rx);
        assert_eq!(request, asks("brightness", ControlValue::Number(129)));
        let t = text(&draw_app(&mut app, 120, 30));
        assert!(
            row_of(&t, "brightness").contains("128"),
            "not before it applied:\n{t}"
        );
        assert!(
            t.lines()
                .last()
                .expect("footer")
                .contains("brightness → 129…"),
            "{t}"
        );

        reply.send(answer(&webcam(), &request));
        app.on_tick(Instant::now());
        let t = text(&draw_app(&mut app, 120, 30));
        assert!(row_of(&t, "brightness").contains("129"), "{t}");
        assert!(
            t.lines()
                .last()
                .expect("footer")
                .contains("brightness = 129"),
            "{t}"
        );

        // PgDn: ten steps down from the confirmed value; d: the default.
        press(&mut app, KeyCode::PageDown);
        assert_eq!(
            sent(&mut rx).0,
            asks("brightness", ControlValue::Number(119))
        );
        press(&mut app, KeyCode::Char('d'));
        assert_eq!(
            sent(&mut rx).0,
            asks("brightness", ControlValue::Number(128))
        );

        // A boolean toggles; a menu steps to its next item, Enter cycles round.
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Left);
        assert_eq!(
            sent(&mut rx).0,
            asks("white_balance_automatic", ControlValue::Bool(false))
        );
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Enter);
        let (request, reply) = sent(&mut rx);
        assert_eq!(request, asks("auto_exposure", ControlValue::Number(1)));
        reply.send(answer(&webcam(), &request));
        app.on_tick(Instant::now());
        let t = text(&draw_app(&mut app, 120, 30));
        assert!(row_of(&t, "auto_exposure ").contains("Manual Mode"), "{t}");
        press(&mut app, KeyCode::Left);
        assert!(
            rx.try_recv().is_err(),
            "already the first item: nothing sent"
        );
        assert!(
            app.note()
                .is_some_and(|n| n.contains("auto_exposure is Manual Mode already"))
        );
    }

    #[test]
    fn a_refused_change_shows_the_services_reason_and_keeps_the_value() {
        let (mut app, mut rx) = open_app();
        for _ in 0..3 {
            press(&mut app, KeyCode::Down);
        }
        press(&mut app, KeyCode::Right);
        let (request, reply) = sent(&mut rx);
        assert_eq!(
            request,
            asks("exposure_time_absolute", ControlValue::Number(251)),
            "an inactive control's change is still asked: the service says why not"
        );
        reply.send(answer(&webcam(), &request));
        app.on_tick(Instant::now());
        let why = "exposure_time_absolute: inactive while auto_exposure is automatic: \
                   set auto_exposure to manual first";
        let t = text(&draw_app(&mut app, 200, 30));
        assert!(t.lines().last().expect("footer").contains(why), "{t}");
        assert!(row_of(&t, "exposure_time_absolute").contains("250"), "{t}");
        assert!(app.note().is_some_and(|n| n.starts_with(why)));
        // At 80 columns the footer is cut; the view shows the whole reason.
        let t = text(&draw_app(&mut app, 80, 24));
        let joined: String = t
            .lines()
            .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            joined.contains("set auto_exposure to manual first (or in the same"),
            "{t}"
        );
    }
}
mod modes_view;

#[test]
fn attached_and_unreachable_a_key_says_it_was_not_sent() {
    use crossterm::event::{KeyCode, KeyEvent};
    use tars_camera::tui::remote::RemoteView;
    let (tx, mut rx) = mpsc::channel(8);
    let mut app = App::new(
        status(),
        Arc::new(FrameHub::new()),
        tx,
        4.0,
        EventLog::new(10),
        ColorMode::TrueColor,
    );
    let remote = RemoteView::new("http://10.0.0.7:8080");
    remote.failed(Instant::now(), Duration::from_secs(2), "connection refused");
    app.attach(remote);
    app.on_key(&KeyEvent::from(KeyCode::Char('+')), Instant::now());
    assert!(rx.try_recv().is_err(), "nothing sent while unreachable");
    assert_eq!(
        app.note(),
        Some("quality +5 not sent: http://10.0.0.7:8080 does not answer")
    );
}
