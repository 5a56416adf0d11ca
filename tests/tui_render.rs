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
use tars_camera::frame::{Frame as VideoFrame, FrameHub};
use tars_camera::mqtt::{HealthStatus, LinkState};
use tars_camera::stats::Status;
use tars_camera::tui::halfblock::{ColorMode, half_blocks};
use tars_camera::tui::panes::{View, capture, keepalive, mqtt, stream};
use tars_camera::tui::{App, EventLog};
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
            "clients 2/16",
            "dropped 3",
            "3.9 fps  1.2 MB/s  conns 5/64",
        ],
    );
    // A wide terminal shows the rest: refused connections and the auth mode.
    let wide = pane(stream::render, 80, stream::HEIGHT, &s, Duration::ZERO);
    let t = text(&wide);
    assert!(t.contains("conns 5/64  refused 0  auth basic"), "{t}");
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
            t.lines()
                .last()
                .expect("footer")
                .starts_with("q quit ? help +/- quality s snapshot ]/[ rate p pause r reconnect"),
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
        "12:00:00 WARN  tars_camera::mqtt: connection to mqtt://robot.local:1883 refused: the broker is not running, retrying in 5.0 s",
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
