//! The unpaced pipeline inside this process: the real `Service` with the test
//! pattern asked for far more frames than it can encode, one `/stream` reader
//! over loopback, MQTT at 2 Hz through the broker; and the UI's cost over a
//! 640x480@30 service.

use color_eyre::eyre;

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::runtime::Runtime;

use super::reader::StreamReader;
use super::subscriber::Subscriber;
use crate::config::{Config, Options};
use crate::encode::{Codec, EncoderKind};
use crate::service::Service;

/// One row of the pipeline table.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineRow {
    pub width: u32,
    pub height: u32,
    pub encoder: &'static str,
    /// Frames per second the `/stream` reader received.
    pub fps: f64,
    /// CPU of the service (this process but the `/stream` reader thread,
    /// which is the client's: with the embedded broker and the MQTT
    /// subscriber), % of one core.
    pub cpu_percent: f64,
    /// The `/stream` reader thread (the client), % of one core.
    pub reader_cpu_percent: f64,
    /// Of the service's CPU, the capture thread (drawing the test pattern
    /// or reading the file), % of one core.
    pub source_cpu_percent: f64,
    /// Service CPU per frame the reader got, ms.
    pub cpu_ms_per_frame: f64,
    /// Service CPU per frame made (published to the hub), ms: differs from
    /// `cpu_ms_per_frame` when the reader skips frames (a starved core).
    pub cpu_ms_per_hub_frame: f64,
    /// `cpu_ms_per_hub_frame` over `bare_cpu_ms_per_frame`.
    pub cpu_vs_bare_encode: f64,
    /// Round of the side-by-side measurement (1-based; 0: measured alone).
    pub round: u32,
    /// This encoder alone on one thread, same frames, kept up for a second
    /// right before and right after the pipeline ran (the mean of the
    /// two): frames per second ...
    pub one_thread_fps: f64,
    /// ... and CPU ms per frame.
    pub bare_cpu_ms_per_frame: f64,
    /// libjpeg-turbo on one thread, measured the same way in the same round
    /// (the speed reference), when the library is there.
    pub turbo_one_thread_fps: Option<f64>,
    /// `fps` (what the reader got) over `turbo_one_thread_fps`.
    pub vs_one_thread_turbo: Option<f64>,
    /// Frames published to the hub per second.
    pub hub_fps: f64,
    pub mqtt_frames: usize,
    pub seconds: f64,
}

/// Options every measured service shares: HTTP on a free loopback port,
/// headless, quiet, MQTT 2 Hz to `broker_url`.
#[must_use]
pub fn loopback_options(quality: u8, broker_url: &str) -> Options {
    Options {
        quality: Some(i64::from(quality)),
        mqtt_rate: Some(2.0),
        mqtt_url: Some(broker_url.to_owned()),
        http_host: Some("127.0.0.1".into()),
        http_port: Some(0),
        no_tui: true,
        log_level: Some("warn".into()),
        ..Options::default()
    }
}

/// The configuration of a test-pattern service on loopback.
///
/// # Errors
/// A value the configuration refuses.
pub fn service_config(
    width: u32,
    height: u32,
    fps: f64,
    quality: u8,
    mqtt_rate: f64,
    broker_url: &str,
) -> eyre::Result<Config> {
    let options = Options {
        source: Some("test-pattern".into()),
        width: Some(i64::from(width)),
        height: Some(i64::from(height)),
        fps: Some(fps.min(240.0)),
        mqtt_rate: Some(mqtt_rate),
        ..loopback_options(quality, broker_url)
    };
    let mut config = crate::config::validate(options).map_err(|e| eyre::eyre!("{e}"))?;
    // Unpaced: far above what --fps allows, so the encoders set the pace.
    config.fps = fps;
    Ok(config)
}

/// Start a service on a free loopback port.
///
/// # Errors
/// The port or the service could not start.
pub fn start_service(rt: &Runtime, config: Config) -> eyre::Result<Service> {
    let listener = crate::http::bind(config.http_host, 0).map_err(|e| eyre::eyre!("{e}"))?;
    rt.block_on(Service::start(config, listener))
        .map_err(|e| eyre::eyre!("{e}"))
}

/// Measure the unpaced pipeline at one size with one encoder.
///
/// # Errors
/// The service, the reader or the subscriber failed.
pub fn measure(
    rt: &Runtime,
    width: u32,
    height: u32,
    quality: u8,
    seconds: f64,
    broker_url: &str,
    encoder: EncoderKind,
) -> eyre::Result<PipelineRow> {
    let config = service_config(width, height, 100_000.0, quality, 2.0, broker_url)?;
    measure_config(rt, config, seconds, broker_url, encoder, false)
}

/// Measure the unpaced pipeline of a service configured as `config` (its
/// `fps` far above what it can deliver) with one encoder; `re_encode` sets
/// the quality at start, which ends passthrough of a source's own JPEGs.
///
/// # Errors
/// The encoder is not available, or the service, the reader or the
/// subscriber failed.
pub fn measure_config(
    rt: &Runtime,
    mut config: Config,
    seconds: f64,
    broker_url: &str,
    encoder: EncoderKind,
    re_encode: bool,
) -> eyre::Result<PipelineRow> {
    let (width, height) = (config.width, config.height);
    config.encoder = encoder.codec()?;
    let topic = config.frame_topic.clone();
    let subscriber = rt.block_on(Subscriber::start(broker_url, &topic))?;
    let service = start_service(rt, config)?;
    if re_encode {
        // An operator's quality change, even to the same value, ends passthrough.
        let _ = service
            .commands
            .try_send(crate::control::Command::AdjustQuality(0));
    }
    let result = (|| {
        if super::reader::wait_first_frame(service.http_addr, Duration::from_secs(5)).is_none() {
            return Err(eyre::eyre!("no first frame within 5 s"));
        }
        let reader = StreamReader::start(service.http_addr).map_err(|e| eyre::eyre!("{e}"))?;
        std::thread::sleep(Duration::from_millis(700)); // warm up: workers, buffers, MQTT link
        let _ = subscriber.take();
        let first = Sample::take(&service, &reader);
        std::thread::sleep(Duration::from_secs_f64(seconds));
        let last = Sample::take(&service, &reader);
        reader.stop();
        let mqtt_frames = subscriber.take().len();
        let wall = (last.at - first.at).as_secs_f64();
        let reader_cpu = last
            .reader_cpu
            .saturating_sub(first.reader_cpu)
            .as_secs_f64();
        // The reader is the client: its CPU is not the service's.
        let service_cpu = (last
            .process_cpu
            .saturating_sub(first.process_cpu)
            .as_secs_f64()
            - reader_cpu)
            .max(0.0);
        let source_cpu = last
            .source_cpu
            .zip(first.source_cpu)
            .map_or(0.0, |(end, start)| end.saturating_sub(start).as_secs_f64());
        #[expect(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
        let (frames, hub_frames) = (
            (last.frames - first.frames) as f64,
            (last.seq - first.seq) as f64,
        );
        Ok(PipelineRow {
            width,
            height,
            encoder: encoder.name(),
            fps: frames / wall,
            cpu_percent: 100.0 * service_cpu / wall,
            reader_cpu_percent: 100.0 * reader_cpu / wall,
            source_cpu_percent: 100.0 * source_cpu / wall,
            cpu_ms_per_frame: 1e3 * service_cpu / frames.max(1.0),
            cpu_ms_per_hub_frame: 1e3 * service_cpu / hub_frames.max(1.0),
            cpu_vs_bare_encode: 0.0,
            round: 0,
            one_thread_fps: 0.0,
            bare_cpu_ms_per_frame: 0.0,
            turbo_one_thread_fps: None,
            vs_one_thread_turbo: None,
            hub_fps: hub_frames / wall,
            mqtt_frames,
            seconds: wall,
        })
    })();
    rt.block_on(async {
        service.shutdown().await;
        subscriber.stop().await;
    });
    result
}

/// What the pipeline's counters and clocks read at one moment.
struct Sample {
    at: Instant,
    process_cpu: Duration,
    reader_cpu: Duration,
    /// The capture thread's, when it is found.
    source_cpu: Option<Duration>,
    /// Frames the reader got.
    frames: u64,
    /// The newest frame made.
    seq: u64,
}

impl Sample {
    fn take(service: &Service, reader: &StreamReader) -> Self {
        Self {
            at: Instant::now(),
            process_cpu: super::sys::own_process_cpu(),
            reader_cpu: reader.counts.cpu(),
            source_cpu: super::sys::named_threads_cpu(crate::capture::thread::THREAD_NAME),
            frames: reader
                .counts
                .frames
                .load(std::sync::atomic::Ordering::Relaxed),
            seq: service.hub.latest().map_or(0, |f| f.seq),
        }
    }
}

/// The UI's cost, as `ui_cost::measure` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct UiRow {
    /// The service's codec, which also decodes the preview.
    pub encoder: &'static str,
    /// Size the preview decodes a frame to for this pane (reduced by
    /// libjpeg-turbo to the smallest size still covering the pane).
    pub decoded_width: usize,
    pub decoded_height: usize,
    /// One such preview decode, ms (median), and a full-size decode.
    pub preview_decode_ms: f64,
    pub full_decode_ms: f64,
    pub cols: u16,
    pub rows: u16,
    pub service: String,
    pub cpu_percent_of_one_core: f64,
    pub bytes_per_s: f64,
    pub redraws: u64,
    pub seconds: f64,
}

/// A 120x40 UI over a `width` x `height` @30 test-pattern service encoding
/// (and the preview decoding) with `codec`, measured for `seconds`.
///
/// # Errors
/// The service failed to start.
pub fn measure_ui(
    rt: &Runtime,
    (width, height): (u32, u32),
    codec: &Codec,
    seconds: f64,
    broker_url: &str,
) -> eyre::Result<UiRow> {
    let mut config = service_config(width, height, 30.0, 80, 2.0, broker_url)?;
    config.encoder = codec.clone();
    let preview_fps = config.preview_fps;
    let service = start_service(rt, config)?;
    let link = crate::tui::UiLink {
        status: service.status.clone(),
        frames: std::sync::Arc::clone(&service.hub),
        commands: service.commands.clone(),
        preview_fps,
        events: crate::events::EventLog::new(100),
        codec: codec.clone(),
    };
    let (cols, rows) = (120, 40);
    let cost = rt.block_on(super::ui_cost::measure(
        link,
        cols,
        rows,
        Duration::from_secs_f64(seconds),
    ));
    let frame = service.hub.latest();
    rt.block_on(service.shutdown());
    let frame = frame.ok_or_else(|| eyre::eyre!("the service made no frame"))?;
    let (decoded, preview_decode_ms, full_decode_ms) =
        decode_costs(codec, &frame.jpeg, (cols - 4, rows - 2))?;
    Ok(UiRow {
        encoder: codec.name(),
        decoded_width: decoded.width,
        decoded_height: decoded.height,
        preview_decode_ms,
        full_decode_ms,
        cols,
        rows,
        service: format!("test pattern {width}x{height}@30, MQTT 2 Hz"),
        cpu_percent_of_one_core: cost.cpu_percent_of_one_core,
        bytes_per_s: cost.bytes_per_s,
        redraws: cost.redraws,
        seconds,
    })
}

/// What the preview's decode of `jpeg` for a `pane` (cells) costs, and a
/// full-size decode, with `codec` (medians of 20).
fn decode_costs(
    codec: &Codec,
    jpeg: &[u8],
    pane: (u16, u16),
) -> eyre::Result<(crate::tui::halfblock::RgbImage, f64, f64)> {
    let mut decoder = codec.decoder();
    let mut image = crate::tui::halfblock::RgbImage::default();
    let (cols, rows) = (usize::from(pane.0), usize::from(pane.1));
    let mut time = |cols: usize, rows: usize, image: &mut crate::tui::halfblock::RgbImage| {
        let mut ms = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            image.decode(&mut decoder, jpeg, cols, rows)?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        Ok::<f64, crate::encode::DecodeError>(super::encode::median(&mut ms))
    };
    let full = time(usize::MAX / 4, usize::MAX / 4, &mut image)?;
    let preview = time(cols, rows, &mut image)?;
    Ok((image, preview, full))
}
