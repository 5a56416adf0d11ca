//! The `mqtt` section: 30 Hz frames from the service as a child process
//! through a broker to a subscriber: frames lost and their age.

use color_eyre::eyre;

use std::collections::BTreeSet;
use std::time::Instant;

use serde::Serialize;
use tokio::runtime::Runtime;

use super::child::{ChildConfig, ChildService};
use super::service_runs::sleep_s;
use super::subscriber::Subscriber;
use super::sys::CpuMeter;
use crate::encode::EncoderKind;

#[derive(Debug, Clone, Serialize)]
pub struct MqttRow {
    /// The service's JPEG encoder.
    pub encoder: &'static str,
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
    encoder: EncoderKind,
) -> eyre::Result<MqttRow> {
    let config = ChildConfig {
        fps: 30.0,
        mqtt_rate: 30.0,
        ..super::service_runs::quiet_config(url, quality, encoder)
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
        encoder: encoder.name(),
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
