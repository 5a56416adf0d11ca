//! What a Prometheus scrape costs: `GET /metrics` timed from outside on a
//! running service, and the rendering alone timed in this process on the
//! status that service served.

use std::time::{Duration, Instant};

use color_eyre::eyre;
use serde::Serialize;
use tokio::sync::watch;

use super::child::ChildService;
use super::encode::median;
use crate::encode::EncoderKind;
use crate::metrics::{Format, Metrics};
use crate::stats::Status;
use crate::stream_client;

/// Scrapes over the network, and renders in process.
const SCRAPES: usize = 200;
const RENDERS: usize = 2000;

#[derive(Debug, Clone, Serialize)]
pub struct MetricsRow {
    pub scrapes: usize,
    /// `GET /metrics` on a fresh loopback connection, request to last byte.
    pub get_ms_median: f64,
    pub get_ms_p99: f64,
    pub bytes: usize,
    /// The text rendered from a status snapshot, in this process.
    pub render_us_median: f64,
}

/// Time `GET /metrics` on a 640x480@10 service, then the rendering alone.
///
/// # Errors
/// The service failed to start or a scrape failed.
pub fn measure(broker_url: &str, quality: u8, encoder: EncoderKind) -> eyre::Result<MetricsRow> {
    let config = super::service_runs::quiet_config(broker_url, quality, encoder);
    let service = ChildService::start(&config)?;
    let timeout = Duration::from_secs(5);
    let mut get_ms = Vec::with_capacity(SCRAPES);
    let mut bytes = 0;
    for _ in 0..SCRAPES {
        let t0 = Instant::now();
        let response = stream_client::get(service.addr, "/metrics", "", timeout)?;
        get_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        eyre::ensure!(response.status == 200, "GET /metrics: {}", response.status);
        bytes = response.body.len();
    }
    let status = stream_client::get(service.addr, "/status", "", timeout)?;
    service.stop();
    let status: Status = serde_json::from_slice(&status.body)?;
    let (_tx, rx) = watch::channel(status);
    let metrics = Metrics::new(rx);
    let mut render_us = Vec::with_capacity(RENDERS);
    for _ in 0..RENDERS {
        let t0 = Instant::now();
        let text = metrics.render(Format::Prometheus)?;
        render_us.push(t0.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(text);
    }
    get_ms.sort_by(f64::total_cmp);
    let p99 = get_ms.get(SCRAPES * 99 / 100).copied().unwrap_or(f64::NAN);
    Ok(MetricsRow {
        scrapes: SCRAPES,
        get_ms_median: median(&mut get_ms),
        get_ms_p99: p99,
        bytes,
        render_us_median: median(&mut render_us),
    })
}
