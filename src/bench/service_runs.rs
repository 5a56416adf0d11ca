//! Sections that run the service as a child process and measure it from
//! outside: `/stream` fan-out, MQTT loss and age, quiet running, start-up,
//! and an RSS soak.

use color_eyre::eyre;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::runtime::Runtime;

use super::child::{ChildConfig, ChildService, TmuxService};
use super::encode::median;
use super::reader::StreamReader;
use super::subscriber::Subscriber;
use super::sys::{CpuMeter, rss_bytes};

#[expect(
    clippy::cast_precision_loss,
    reason = "counts and bytes far below 2^52"
)]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn sleep_s(s: f64) {
    std::thread::sleep(Duration::from_secs_f64(s));
}

/// One fan-out measurement.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutRow {
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
) -> eyre::Result<Vec<FanoutRow>> {
    let config = fanout_config(broker_url, quality);
    let mut rows = Vec::new();
    for n in [1, clients.max(1)] {
        let service = ChildService::start(&config)?;
        let measured = measure_readers(&service, n, seconds);
        let rss = rss_bytes(&service.pid().to_string()).unwrap_or(0);
        service.stop();
        let (mut fps, service_fps, service_cpu, wall) = measured?;
        let min = fps.iter().copied().fold(f64::INFINITY, f64::min);
        rows.push(FanoutRow {
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
#[derive(Debug, Clone, Serialize)]
pub struct MqttRow {
    pub broker: String,
    pub width: u32,
    pub height: u32,
    pub rate_hz: f64,
    pub seconds: f64,
    pub received: usize,
    /// Sequence numbers missing between the first and last received.
    pub lost: u64,
    pub age_ms_p50: f64,
    pub age_ms_p99: f64,
    pub age_ms_max: f64,
    pub service_cpu_percent: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list"
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// 640x480 at 30 Hz through the broker at `url` for `seconds`.
///
/// # Errors
/// The service or the subscriber failed.
pub fn mqtt(
    rt: &Runtime,
    url: &str,
    broker_name: &str,
    seconds: f64,
    quality: u8,
) -> eyre::Result<MqttRow> {
    let config = ChildConfig {
        width: 640,
        height: 480,
        fps: 30.0,
        quality,
        mqtt_rate: 30.0,
        mqtt_url: url.to_owned(),
    };
    let subscriber = rt.block_on(Subscriber::start(url, "camera/frame"))?;
    let service = ChildService::start(&config)?;
    sleep_s(1.5); // connect, first heartbeat
    let _ = subscriber.take();
    let cpu = CpuMeter::start(Some(service.pid()));
    let t0 = Instant::now();
    sleep_s(seconds);
    let wall = t0.elapsed().as_secs_f64();
    let service_cpu = cpu.percent();
    sleep_s(0.3); // frames in flight at the end of the window
    let arrivals: Vec<_> = subscriber
        .take()
        .into_iter()
        .filter(|a| a.at.duration_since(std::time::UNIX_EPOCH).is_ok())
        .collect();
    service.stop();
    rt.block_on(subscriber.stop());
    let seqs: BTreeSet<u64> = arrivals.iter().map(|a| a.seq).collect();
    let lost = match (seqs.first(), seqs.last()) {
        (Some(a), Some(b)) => (b - a + 1) - seqs.len() as u64,
        _ => 0,
    };
    let mut ages: Vec<f64> = arrivals.iter().map(|a| a.age_ms).collect();
    ages.sort_by(f64::total_cmp);
    Ok(MqttRow {
        broker: broker_name.to_owned(),
        width: config.width,
        height: config.height,
        rate_hz: config.mqtt_rate,
        seconds: wall,
        received: arrivals.len(),
        lost,
        age_ms_p50: percentile(&ages, 0.5),
        age_ms_p99: percentile(&ages, 0.99),
        age_ms_max: ages.last().copied().unwrap_or(0.0),
        service_cpu_percent: service_cpu,
    })
}

/// Quiet running: CPU and RSS of an idle-ish service.
#[derive(Debug, Clone, Serialize)]
pub struct QuietRow {
    pub mode: String,
    pub cpu_percent_of_one_core: f64,
    pub rss_mb: f64,
    pub seconds: f64,
}

/// 1280x720@30, MQTT 2 Hz: the fan-out and soak setting.
fn fanout_config(broker_url: &str, quality: u8) -> ChildConfig {
    ChildConfig {
        width: 1280,
        height: 720,
        fps: 30.0,
        quality,
        mqtt_rate: 2.0,
        mqtt_url: broker_url.to_owned(),
    }
}

fn quiet_config(broker_url: &str, quality: u8) -> ChildConfig {
    ChildConfig {
        width: 640,
        height: 480,
        fps: 10.0,
        quality,
        mqtt_rate: 2.0,
        mqtt_url: broker_url.to_owned(),
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
pub fn quiet(seconds: f64, quality: u8, broker_url: &str) -> eyre::Result<Vec<QuietRow>> {
    let config = quiet_config(broker_url, quality);
    let service = ChildService::start(&config)?;
    let (cpu, rss) = measure_pid(service.pid(), seconds);
    service.stop();
    let mut rows = vec![QuietRow {
        mode: "headless".into(),
        cpu_percent_of_one_core: cpu,
        rss_mb: rss,
        seconds,
    }];
    match TmuxService::start(&config) {
        Ok(ui) => {
            let (cpu, rss) = measure_pid(ui.pid, seconds);
            rows.push(QuietRow {
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
    pub runs: usize,
    pub ms_median: f64,
    pub ms_min: f64,
    pub ms_max: f64,
}

/// Start the (640x480@10) service `runs` times.
///
/// # Errors
/// A start failed.
pub fn startup(runs: usize, quality: u8, broker_url: &str) -> eyre::Result<StartupRow> {
    let config = quiet_config(broker_url, quality);
    let mut ms = Vec::new();
    for _ in 0..runs.max(1) {
        let service = ChildService::start(&config)?;
        ms.push(service.first_frame.as_secs_f64() * 1e3);
        service.stop();
    }
    let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ms.iter().copied().fold(0.0, f64::max);
    Ok(StartupRow {
        runs: ms.len(),
        ms_median: median(&mut ms),
        ms_min: min,
        ms_max: max,
    })
}

/// RSS over a soak with many `/stream` clients.
#[derive(Debug, Clone, Serialize)]
pub struct SoakRow {
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
pub fn soak(clients: usize, seconds: f64, quality: u8, broker_url: &str) -> eyre::Result<SoakRow> {
    let config = fanout_config(broker_url, quality);
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
