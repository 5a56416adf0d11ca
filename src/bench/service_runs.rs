//! Sections that run the service as a child process and measure it from
//! outside: `/stream` fan-out, quiet running, start-up, and an RSS soak
//! (MQTT loss and age: `mqtt_run`).

use color_eyre::eyre;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::child::{ChildConfig, ChildService, TmuxService};
use super::encode::median;
use super::reader::StreamReader;
use super::sys::{CpuMeter, rss_bytes};
use crate::encode::EncoderKind;

#[expect(
    clippy::cast_precision_loss,
    reason = "counts and bytes far below 2^52"
)]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub(super) fn sleep_s(s: f64) {
    std::thread::sleep(Duration::from_secs_f64(s));
}

/// One fan-out measurement.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutRow {
    /// The service's JPEG encoder.
    pub encoder: &'static str,
    pub clients: usize,
    pub width: u32,
    pub height: u32,
    pub target_fps: f64,
    /// Frames the service produced per second.
    pub service_fps: f64,
    pub client_fps_min: f64,
    pub client_fps_median: f64,
    pub service_cpu_percent: f64,
    pub service_cpu_ms_per_frame: f64,
    pub rss_mb: f64,
    pub seconds: f64,
}

/// Readers on `addr`, measured over `seconds` after a 1 s warm-up.
fn measure_readers(
    service: &ChildService,
    clients: usize,
    seconds: f64,
) -> eyre::Result<(Vec<f64>, f64, f64, f64)> {
    let readers = (0..clients)
        .map(|_| StreamReader::start(service.addr).map_err(|e| eyre::eyre!("{e}")))
        .collect::<Result<Vec<_>, _>>()?;
    sleep_s(1.0);
    let frames0: Vec<u64> = readers
        .iter()
        .map(|r| r.counts.frames.load(Ordering::Relaxed))
        .collect();
    let seq0 = readers[0].counts.last_seq.load(Ordering::Relaxed);
    let cpu = CpuMeter::start(Some(service.pid()));
    let t0 = Instant::now();
    sleep_s(seconds);
    let wall = t0.elapsed().as_secs_f64();
    let service_cpu = cpu.cpu().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
    let fps: Vec<f64> = readers
        .iter()
        .zip(frames0)
        .map(|(r, f0)| (r.counts.frames.load(Ordering::Relaxed) - f0) as f64 / wall)
        .collect();
    #[expect(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
    let produced = (readers[0].counts.last_seq.load(Ordering::Relaxed) - seq0) as f64;
    for r in readers {
        r.stop();
    }
    Ok((fps, produced / wall, service_cpu, wall))
}

/// 1 client, then `clients`, at 1280x720@30.
///
/// # Errors
/// The service or a reader failed.
pub fn fanout(
    clients: usize,
    seconds: f64,
    quality: u8,
    broker_url: &str,
    encoder: EncoderKind,
) -> eyre::Result<Vec<FanoutRow>> {
    let config = fanout_config(broker_url, quality, encoder, clients);
    let mut rows = Vec::new();
    for n in [1, clients.max(1)] {
        let service = ChildService::start(&config)?;
        let measured = measure_readers(&service, n, seconds);
        let rss = rss_bytes(&service.pid().to_string()).unwrap_or(0);
        service.stop();
        let (mut fps, service_fps, service_cpu, wall) = measured?;
        let min = fps.iter().copied().fold(f64::INFINITY, f64::min);
        rows.push(FanoutRow {
            encoder: encoder.name(),
            clients: n,
            width: config.width,
            height: config.height,
            target_fps: config.fps,
            service_fps,
            client_fps_min: min,
            client_fps_median: median(&mut fps),
            service_cpu_percent: 100.0 * service_cpu / wall,
            service_cpu_ms_per_frame: 1e3 * service_cpu / (service_fps * wall).max(1.0),
            rss_mb: mb(rss),
            seconds: wall,
        });
    }
    Ok(rows)
}

/// Frames through an MQTT broker at the full frame rate.
/// Quiet running: CPU and RSS of an idle-ish service.
#[derive(Debug, Clone, Serialize)]
pub struct QuietRow {
    /// The service's JPEG encoder.
    pub encoder: &'static str,
    pub mode: String,
    pub cpu_percent_of_one_core: f64,
    pub rss_mb: f64,
    pub seconds: f64,
}

/// 1280x720@30, MQTT 2 Hz, room for `clients` readers (and a probe): the
/// fan-out and soak setting.
fn fanout_config(
    broker_url: &str,
    quality: u8,
    encoder: EncoderKind,
    clients: usize,
) -> ChildConfig {
    ChildConfig {
        width: 1280,
        height: 720,
        fps: 30.0,
        quality,
        mqtt_rate: 2.0,
        mqtt_url: broker_url.to_owned(),
        encoder,
        max_clients: (clients + 1).clamp(16, 1024),
    }
}

pub(super) fn quiet_config(broker_url: &str, quality: u8, encoder: EncoderKind) -> ChildConfig {
    ChildConfig {
        width: 640,
        height: 480,
        fps: 10.0,
        quality,
        mqtt_rate: 2.0,
        mqtt_url: broker_url.to_owned(),
        encoder,
        max_clients: 16,
    }
}

fn measure_pid(pid: u32, seconds: f64) -> (f64, f64) {
    sleep_s(2.0);
    let cpu = CpuMeter::start(Some(pid));
    sleep_s(seconds);
    (cpu.percent(), mb(rss_bytes(&pid.to_string()).unwrap_or(0)))
}

/// 640x480@10, MQTT 2 Hz, no HTTP client: headless, then with the UI in a
/// 120x40 tmux session when tmux is installed.
///
/// # Errors
/// The service failed to start.
pub fn quiet(
    seconds: f64,
    quality: u8,
    broker_url: &str,
    encoder: EncoderKind,
) -> eyre::Result<Vec<QuietRow>> {
    let config = quiet_config(broker_url, quality, encoder);
    let service = ChildService::start(&config)?;
    let (cpu, rss) = measure_pid(service.pid(), seconds);
    service.stop();
    let mut rows = vec![QuietRow {
        encoder: encoder.name(),
        mode: "headless".into(),
        cpu_percent_of_one_core: cpu,
        rss_mb: rss,
        seconds,
    }];
    match TmuxService::start(&config) {
        Ok(ui) => {
            let (cpu, rss) = measure_pid(ui.pid, seconds);
            rows.push(QuietRow {
                encoder: encoder.name(),
                mode: "terminal UI 120x40 (tmux)".into(),
                cpu_percent_of_one_core: cpu,
                rss_mb: rss,
                seconds,
            });
        }
        Err(e) => tracing::warn!("quiet with the UI skipped: {e}"),
    }
    Ok(rows)
}

/// Start-up to the first frame on `/snapshot`.
#[derive(Debug, Clone, Serialize)]
pub struct StartupRow {
    /// The service's JPEG encoder.
    pub encoder: &'static str,
    pub runs: usize,
    pub ms_median: f64,
    pub ms_min: f64,
    pub ms_max: f64,
}

/// Start the (640x480@10) service `runs` times.
///
/// # Errors
/// A start failed.
pub fn startup(
    runs: usize,
    quality: u8,
    broker_url: &str,
    encoder: EncoderKind,
) -> eyre::Result<StartupRow> {
    let config = quiet_config(broker_url, quality, encoder);
    let mut ms = Vec::new();
    for _ in 0..runs.max(1) {
        let service = ChildService::start(&config)?;
        ms.push(service.first_frame.as_secs_f64() * 1e3);
        service.stop();
    }
    let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ms.iter().copied().fold(0.0, f64::max);
    Ok(StartupRow {
        encoder: encoder.name(),
        runs: ms.len(),
        ms_median: median(&mut ms),
        ms_min: min,
        ms_max: max,
    })
}

/// RSS over a soak with many `/stream` clients.
#[derive(Debug, Clone, Serialize)]
pub struct SoakRow {
    /// The service's JPEG encoder.
    pub encoder: &'static str,
    pub clients: usize,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub seconds: f64,
    pub rss_mb_start: f64,
    pub rss_mb_end: f64,
    pub rss_mb_max: f64,
    pub client_fps_min: f64,
    pub service_cpu_percent: f64,
}

/// `clients` readers on a 1280x720@30 service for `seconds`, RSS sampled
/// every 5 s (the first sample 5 s in).
///
/// # Errors
/// The service or a reader failed.
pub fn soak(
    clients: usize,
    seconds: f64,
    quality: u8,
    broker_url: &str,
    encoder: EncoderKind,
) -> eyre::Result<SoakRow> {
    let config = fanout_config(broker_url, quality, encoder, clients);
    let service = ChildService::start(&config)?;
    let pid = service.pid().to_string();
    let readers = (0..clients.max(1))
        .map(|_| StreamReader::start(service.addr).map_err(|e| eyre::eyre!("{e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let cpu = CpuMeter::start(Some(service.pid()));
    let t0 = Instant::now();
    let mut samples = Vec::new();
    while t0.elapsed().as_secs_f64() < seconds {
        sleep_s(5.0_f64.min(seconds));
        samples.push(mb(rss_bytes(&pid).unwrap_or(0)));
    }
    let wall = t0.elapsed().as_secs_f64();
    let service_cpu = cpu.percent();
    #[expect(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
    let client_fps_min = readers
        .iter()
        .map(|r| r.counts.frames.load(Ordering::Relaxed) as f64 / wall)
        .fold(f64::INFINITY, f64::min);
    for r in readers {
        r.stop();
    }
    service.stop();
    Ok(SoakRow {
        encoder: encoder.name(),
        clients,
        width: config.width,
        height: config.height,
        fps: config.fps,
        seconds: wall,
        rss_mb_start: samples.first().copied().unwrap_or(0.0),
        rss_mb_end: samples.last().copied().unwrap_or(0.0),
        rss_mb_max: samples.iter().copied().fold(0.0, f64::max),
        client_fps_min,
        service_cpu_percent: service_cpu,
    })
}
