//! Benchmarks of the UI, not timed tests: run them on purpose, in release.
//!
//! ```text
//! cargo test --release --test it -- --ignored --nocapture tui_cost::
//! ```

use crate::common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tars_camera::bench::ui_cost as cost;
use tars_camera::encode::{Codec, EncoderKind};
use tars_camera::events::EventLog;
use tars_camera::frame::{Frame, FrameHub};
use tars_camera::stats::Status;
use tars_camera::tui::UiLink;
use tars_camera::tui::halfblock::{RgbImage, downscale, half_blocks};
use tars_mqtt::{HealthStatus, LinkState};
use tokio::sync::{mpsc, watch};

/// A moving test picture with a little sensor-like noise.
fn picture(w: usize, h: usize, t: usize) -> Vec<u8> {
    let seed = 0x9E37_79B9_u32.wrapping_mul(t as u32 + 1);
    common::rgb_picture(w, h, seed, |x, y, random| {
        let noise = (random % 9) as i32 - 4;
        let bar = ((x + t * 8) / 40) % 6;
        let base = [
            (bar * 50) as i32,
            (y * 255 / h) as i32,
            (255 - bar * 40) as i32,
        ];
        base.map(|v| (v + noise).clamp(0, 255) as u8)
    })
}

fn jpeg(rgb: &[u8], w: usize, h: usize, quality: u8) -> Bytes {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    Bytes::from(out)
}

fn per_call(n: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn preview_conversion_costs() {
    let (w, h) = (1280, 720);
    let big = picture(w, h, 0);
    let down = per_call(200, || {
        black_box(downscale(black_box(&big), w, h, 80, 48));
    });
    let small = downscale(&big, w, h, 80, 48);
    let halves = per_call(2_000, || {
        black_box(half_blocks(black_box(&small), 80, 48));
    });
    let mut img = RgbImage::default();
    let mut decode = Vec::new();
    for kind in EncoderKind::available() {
        let mut decoder = kind.codec().expect("available").decoder();
        for (w, h) in [(640, 480), (1280, 720), (1920, 1080)] {
            let j = jpeg(&picture(w, h, 1), w, h, 80);
            for (label, cols, rows) in [("full", 100_000, 100_000), ("116x38 pane", 116, 38)] {
                let t = per_call(30, || {
                    img.decode(&mut decoder, &j, cols, rows).expect("decode");
                });
                decode.push((kind.name(), (w, h), label, (img.width, img.height), t));
            }
        }
    }
    let codec = Codec::auto();
    let mut decoder = codec.decoder();
    img.decode(
        &mut decoder,
        &jpeg(&picture(w, h, 1), w, h, 80),
        100_000,
        100_000,
    )
    .expect("decode");
    let to_cells_120x40 = per_call(200, || {
        black_box(img.to_cells(116, 38));
    });
    println!("downscale 1280x720 -> 80x48: {down:?}");
    println!("half_blocks 80x48 -> 80x24 cells: {halves:?}");
    for (name, (w, h), label, (dw, dh), d) in decode {
        println!("decode {w}x{h} JPEG (q80) with {name}, {label} -> {dw}x{dh}: {d:?}");
    }
    println!("1280x720 -> cells for a 116x38 pane (downscale + half-blocks): {to_cells_120x40:?}");
}

fn synthetic_status(tick: u64) -> Status {
    let mut s = Status {
        uptime_s: tick as f64 / 4.0,
        ..Status::default()
    };
    let c = &mut s.capture;
    c.source = "test-pattern".into();
    c.backend = "test-pattern".into();
    c.width = 640;
    c.height = 480;
    c.target_fps = 30.0;
    c.measured_fps = 29.5 + (tick % 7) as f64 / 10.0;
    c.fps_history = (0..60)
        .map(|i| 29.0 + ((i + tick) % 5) as f64 / 5.0)
        .collect();
    c.frame_time_ms = 8.0 + (tick % 5) as f64 / 3.0;
    c.frames = tick * 30 / 4;
    s.encoder.quality = 80;
    s.encoder.jpeg_bytes = 40_000 + tick % 1000;
    s.encoder.width = 640;
    s.encoder.height = 480;
    s.stream.address = "http://0.0.0.0:8080/stream".into();
    s.stream.clients = 1;
    s.stream.max_clients = 16;
    s.stream.frames_per_s = 30.0;
    s.stream.bytes_per_s = 1_200_000.0 + (tick % 13) as f64 * 1000.0;
    let m = &mut s.mqtt;
    m.frame_topic = "camera/frame".into();
    m.rate_hz = 2.0;
    m.client.broker = "mqtt://127.0.0.1:1883".into();
    m.client.state = LinkState::Connected;
    m.client.published = tick / 2;
    m.client.heartbeat.interval_ms = 5_000;
    m.client.heartbeat.sent = tick / 20;
    m.client.heartbeat.round_trip_ms = Some(0.8);
    m.client.heartbeat.next_due_in_ms = Some(5_000 - (tick % 20) * 250);
    m.client.health = Some(HealthStatus {
        ok: true,
        event: "ready".into(),
        err: None,
        timestamp: 0.0,
    });
    s
}

/// The service at 640x480@30 (frames pre-encoded, so the producer thread is
/// cheap), status at 4 Hz, a log line a second; the UI measured for 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
async fn ui_cost_with_the_service_at_640x480_30fps() {
    let frames: Vec<Bytes> = (0..60)
        .map(|t| jpeg(&picture(640, 480, t), 640, 480, 80))
        .collect();
    let duration = Duration::from_secs(10);
    for (cols, rows, preview_fps) in [(120, 40, 4.0), (80, 24, 4.0), (120, 40, 0.001)] {
        let hub = Arc::new(FrameHub::new());
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let (hub, stop, frames) = (Arc::clone(&hub), Arc::clone(&stop), frames.clone());
            std::thread::spawn(move || {
                let mut seq = 0;
                while !stop.load(Ordering::Relaxed) {
                    seq += 1;
                    hub.publish(Frame::captured_now(
                        seq,
                        frames[(seq as usize) % frames.len()].clone(),
                        (640, 480),
                        80,
                    ));
                    std::thread::sleep(Duration::from_millis(33));
                }
            })
        };
        let (status_tx, status_rx) = watch::channel(synthetic_status(0));
        let events = EventLog::new(100);
        let feeder = {
            let events = events.clone();
            tokio::spawn(async move {
                let mut tick = 0;
                let mut every = tokio::time::interval(Duration::from_millis(250));
                loop {
                    every.tick().await;
                    tick += 1;
                    status_tx.send_replace(synthetic_status(tick));
                    if tick % 4 == 0 {
                        events.push(
                            tracing::Level::INFO,
                            format!("12:00:{:02} INFO  bench: tick {tick}", tick / 4 % 60),
                        );
                    }
                }
            })
        };
        let (commands, _keep) = mpsc::channel(8);
        let link = UiLink {
            status: status_rx,
            frames: hub,
            commands,
            preview_fps,
            events,
            codec: tars_camera::encode::Codec::auto(),
        };
        let c = cost::measure(link, cols, rows, duration).await;
        feeder.abort();
        stop.store(true, Ordering::Relaxed);
        producer.join().expect("producer");
        println!(
            "UI {cols}x{rows}, preview {preview_fps} fps: CPU {:.2} % of one core, {:.1} KB/s to the terminal, {} redraws in {duration:?}",
            c.cpu_percent_of_one_core,
            c.bytes_per_s / 1024.0,
            c.redraws
        );
        assert!(c.redraws > 0);
    }
}
