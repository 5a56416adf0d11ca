//! The UI on a real terminal against a fake service, to try by hand (tmux,
//! SSH): `cargo run --example ui_fake_service`.
//!
//! The fake applies the UI's commands to its status (quality, rate, pause,
//! snapshot path, reconnect) and cycles the MQTT link through connected →
//! waiting (countdown) → connecting. `TUI_DEMO_PANIC=3` panics the program after
//! 3 s to check that the terminal is restored before the report prints.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tars_camera::capture::FrameSource as _;
use tars_camera::capture::test_pattern::{Clock, TestPattern};
use tars_camera::control::{Command, step_rate};
use tars_camera::encode::Encoder;
use tars_camera::events::EventLog;
use tars_camera::frame::{Frame, FrameHub};
use tars_camera::stats::Status;
use tars_camera::tui::{UiLink, run_terminal};
use tars_mqtt::{HealthStatus, LinkState};
use tokio::sync::{mpsc, watch};
use tracing_subscriber::layer::SubscriberExt;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events = EventLog::default();
    let subscriber = tracing_subscriber::registry().with(events.layer());
    let _ = tracing::subscriber::set_global_default(subscriber);

    let hub = Arc::new(FrameHub::new());
    let quality = Arc::new(AtomicU8::new(80));
    let bytes = Arc::new(AtomicU64::new(0));
    {
        let (hub, quality, bytes) = (Arc::clone(&hub), Arc::clone(&quality), Arc::clone(&bytes));
        std::thread::spawn(move || {
            // The service's own test pattern and encoder.
            let mut source = TestPattern::new(640, 480, 10.0, Clock::Wall);
            let mut encoder = Encoder::rust();
            let mut rgb = Vec::new();
            let opened = source.open().is_ok();
            for seq in 1.. {
                let q = quality.load(Ordering::Relaxed);
                let jpeg = if opened && source.next_frame(&mut rgb).is_ok() {
                    encoder.encode_rgb(&rgb, 640, 480, q).ok()
                } else {
                    None
                };
                if let Some(jpeg) = jpeg {
                    bytes.store(jpeg.len() as u64, Ordering::Relaxed);
                    hub.publish(Frame::captured_now(seq, jpeg, (640, 480), q));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    }

    let mut status = Status::default();
    status.capture.source = "test-pattern".into();
    status.capture.backend = "test-pattern".into();
    status.capture.width = 640;
    status.capture.height = 480;
    status.capture.target_fps = 10.0;
    status.encoder.encoder = "jpeg-encoder".into();
    status.encoder.width = 640;
    status.encoder.height = 480;
    status.stream.address = "http://127.0.0.1:8080/stream".into();
    status.stream.max_clients = 16;
    status.mqtt.frame_topic = "camera/frame".into();
    status.mqtt.rate_hz = 2.0;
    status.mqtt.client.broker = "mqtt://tars@127.0.0.1:1883".into();
    status.mqtt.client.heartbeat.interval_ms = 5_000;
    let (status_tx, status_rx) = watch::channel(status.clone());
    let (cmd_tx, mut cmd_rx) = mpsc::channel(16);
    let service = tokio::spawn(async move {
        let started = Instant::now();
        let mut every = tokio::time::interval(Duration::from_millis(250));
        let mut snapshots = 0u32;
        let mut link_since = Instant::now();
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => {
                    let Some(cmd) = cmd else { return };
                    tracing::info!(target: "tars_camera::service", "command {cmd:?}");
                    match cmd {
                        Command::AdjustQuality(d) => {
                            let q = (i32::from(quality.load(Ordering::Relaxed)) + d).clamp(1, 100);
                            quality.store(q as u8, Ordering::Relaxed);
                        }
                        Command::StepMqttRate(up) => status.mqtt.rate_hz = step_rate(status.mqtt.rate_hz, up, 10.0),
                        Command::SetMqttRate(r) => status.mqtt.rate_hz = r,
                        Command::ToggleMqttPause => status.mqtt.paused = !status.mqtt.paused,
                        Command::SaveSnapshot => {
                            snapshots += 1;
                            status.encoder.last_saved = Some(format!("/tmp/tars-camera-{snapshots:04}.jpg"));
                        }
                        Command::ReconnectMqtt => link_since = Instant::now() - Duration::from_secs(20),
                        Command::Rotate => status.capture.rotation = (status.capture.rotation + 90) % 360,
                        // Requests from outside (POST /control, MQTT) never
                        // reach the fake, which has no config file to save.
                        Command::Apply(..) | Command::SaveSettings => {}
                        Command::Quit => return,
                    }
                }
                _ = every.tick() => {}
            }
            let now = unix_ms();
            let up = started.elapsed();
            status.uptime_s = up.as_secs_f64();
            status.encoder.quality = quality.load(Ordering::Relaxed);
            status.encoder.jpeg_bytes = bytes.load(Ordering::Relaxed);
            let c = &mut status.capture;
            c.measured_fps = 9.6 + (up.as_millis() % 7) as f64 / 10.0;
            c.fps_history.push(c.measured_fps);
            if c.fps_history.len() > 60 {
                c.fps_history.remove(0);
            }
            c.frame_time_ms = 6.0 + (up.as_millis() % 5) as f64;
            // The link: 20 s connected, then 3 s waiting, 1 s connecting.
            let m = &mut status.mqtt.client;
            let phase = link_since.elapsed().as_millis() as u64;
            let was = m.state;
            if phase < 20_000 {
                m.state = LinkState::Connected;
                m.last_error = None;
                m.heartbeat.last_unix_ms = Some(now - (phase % 5_000));
                m.heartbeat.next_due_in_ms = Some(5_000 - phase % 5_000);
                m.heartbeat.round_trip_ms = Some(0.9);
                m.health = Some(HealthStatus {
                    ok: true,
                    event: "ready".into(),
                    err: None,
                    timestamp: 0.0,
                });
            } else if phase < 23_000 {
                m.state = LinkState::Waiting;
                m.last_error = Some("connection refused (os error 111)".into());
                m.next_attempt_in_ms = Some(23_000 - phase);
                m.heartbeat.next_due_in_ms = None;
            } else if phase < 24_000 {
                m.state = LinkState::Connecting;
            } else {
                link_since = Instant::now();
                m.reconnects += 1;
                m.attempt = 0;
                m.since_unix_ms = now;
            }
            if m.state != was {
                if m.state == LinkState::Waiting {
                    m.attempt += 1;
                    tracing::warn!(target: "tars_mqtt", attempt = m.attempt, "broker gone: connection refused");
                } else if m.state == LinkState::Connected {
                    m.since_unix_ms = now;
                    tracing::info!(target: "tars_mqtt", "connected");
                }
            }
            status_tx.send_replace(status.clone());
        }
    });

    let link = UiLink {
        status: status_rx,
        frames: hub,
        commands: cmd_tx,
        preview_fps: 4.0,
        events,
        codec: tars_camera::encode::Codec::auto(),
    };
    if let Some(secs) = std::env::var("TUI_DEMO_PANIC")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        tokio::spawn(run_terminal(link));
        tokio::time::sleep(Duration::from_secs(secs)).await;
        panic!("demo panic: the terminal should be restored above this line");
    }
    run_terminal(link).await.expect("terminal");
    let _ = service.await;
    println!("UI ended, terminal restored");
}
