//! `bench --file`: the encode and pipeline measurements on recorded footage,
//! printed next to the test pattern's rows at the same size. Real pictures
//! compress worse than colour bars, so these are the figures to trust.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use color_eyre::eyre;
use serde::Serialize;
use tokio::runtime::Runtime;

use super::encode::{self, EncodeRow, median};
use super::pipeline::{self, PipelineRow};
use crate::capture::FrameSource;
use crate::capture::file::FileSource;
use crate::config::Options;
use crate::encode::{Codec, EncoderKind};

/// Pictures of the recording the encode rows use.
const SAMPLES: usize = 4;
/// Frames read to find them (spread over the recording's first seconds).
const SPREAD: usize = 7;

/// What `--file` measured.
#[derive(Debug, Clone, Serialize)]
pub struct FootageReport {
    pub path: String,
    pub width: u32,
    pub height: u32,
    /// Mean size of the recording's own JPEGs among the samples.
    pub source_jpeg_bytes: f64,
    /// Median time to decode one of them (what a re-encode adds), ms.
    pub decode_ms: f64,
    pub encode: Vec<EncodeRow>,
    pub pipeline: Vec<PipelineRow>,
}

/// The recording's picture size.
///
/// # Errors
/// The recording cannot be played (named as `--file`).
pub fn size(path: &Path) -> eyre::Result<(u32, u32)> {
    crate::capture::file::probe(path)
        .map(|r| (r.width, r.height))
        .map_err(|e| eyre::eyre!("--file: {e}"))
}

/// Up to `SAMPLES` frames of the recording at its first frame's size.
fn samples(path: &Path) -> eyre::Result<(Vec<Bytes>, u32, u32)> {
    let mut source = FileSource::new(path, true, 30.0);
    let info = source.open().map_err(|e| eyre::eyre!("--file: {e}"))?;
    let mut rgb = Vec::new();
    let mut out = Vec::new();
    for i in 0..SAMPLES * SPREAD * 4 {
        match source.next_frame(&mut rgb) {
            Ok(crate::capture::SourceFrame::Jpeg {
                width,
                height,
                data,
            }) if (width, height) == (info.width, info.height) && i % SPREAD == 0 => {
                out.push(data);
            }
            Ok(_) | Err(crate::capture::CaptureError::Corrupt(_)) => {}
            Err(e) => return Err(eyre::eyre!("--file: {e}")),
        }
        if out.len() == SAMPLES {
            break;
        }
    }
    if out.is_empty() {
        return Err(eyre::eyre!("--file: no usable frame in {}", path.display()));
    }
    Ok((out, info.width, info.height))
}

/// Decode and encode rows on the recording's pictures.
///
/// # Errors
/// Unplayable recording, undecodable pictures or a failing encoder.
pub fn measure_encode(path: &Path, quality: u8, runs: u32) -> eyre::Result<FootageReport> {
    let (jpegs, width, height) = samples(path)?;
    let mut pictures = Vec::new();
    let mut decode_times = Vec::new();
    let mut decoder = Codec::auto().decoder();
    for _ in 0..runs.max(1) {
        pictures.clear();
        for jpeg in &jpegs {
            let mut rgb = Vec::new();
            let t = Instant::now();
            decoder
                .decode(jpeg, &mut rgb)
                .map_err(|e| eyre::eyre!("--file: {e}"))?;
            decode_times.push(t.elapsed().as_secs_f64() * 1e3);
            pictures.push(rgb);
        }
    }
    let threads = crate::capture::encode_pool::default_workers();
    let rows =
        encode::rows_with_ceiling(&Arc::new(pictures), (width, height), quality, runs, threads)?;
    let source_jpeg_bytes = jpegs.iter().map(Bytes::len).sum::<usize>() as f64 / jpegs.len() as f64;
    Ok(FootageReport {
        path: path.display().to_string(),
        width,
        height,
        source_jpeg_bytes,
        decode_ms: median(&mut decode_times),
        encode: rows,
        pipeline: Vec::new(),
    })
}

/// Pipeline rows on the recording: its JPEGs passed through, then decoded
/// and re-encoded with each encoder.
///
/// # Errors
/// The service, the reader or the subscriber failed.
pub fn measure_pipeline(
    rt: &Runtime,
    path: &Path,
    quality: u8,
    seconds: f64,
    broker_url: &str,
) -> eyre::Result<Vec<PipelineRow>> {
    let config = || {
        let options = Options {
            source: Some("file".into()),
            file: Some(path.to_path_buf()),
            ..super::pipeline::loopback_options(quality, broker_url)
        };
        let mut config = crate::config::validate(options).map_err(|e| eyre::eyre!("{e}"))?;
        // Unpaced, as the test pattern's rows.
        config.fps = 100_000.0;
        Ok::<_, eyre::Report>(config)
    };
    let mut rows = Vec::new();
    eprintln!("pipeline on {}: passthrough ...", path.display());
    let mut row = pipeline::measure_config(
        rt,
        config()?,
        seconds,
        broker_url,
        Codec::auto().kind(),
        false,
    )?;
    row.encoder = "passthrough";
    rows.push(row);
    for kind in EncoderKind::available() {
        eprintln!(
            "pipeline on {}: decode + {} ...",
            path.display(),
            kind.name()
        );
        rows.push(pipeline::measure_config(
            rt,
            config()?,
            seconds,
            broker_url,
            kind,
            true,
        )?);
    }
    Ok(rows)
}

/// Keep the pipeline rows in the footage report (made now, without encode
/// rows, when the encode section did not run).
///
/// # Errors
/// The recording could not be sampled.
pub fn attach_pipeline(
    report: &mut Option<FootageReport>,
    path: &Path,
    quality: u8,
    rows: Vec<PipelineRow>,
) -> eyre::Result<()> {
    if report.is_none() {
        let mut fresh = measure_encode(path, quality, 1)?;
        fresh.encode.clear();
        *report = Some(fresh);
    }
    if let Some(f) = report.as_mut() {
        f.pipeline = rows;
    }
    Ok(())
}

/// Print the footage's rows, in the test pattern's table layout.
pub fn print(report: &FootageReport, pattern: &[EncodeRow], pipeline_rows: &[PipelineRow]) {
    let (w, h) = (report.width, report.height);
    println!(
        "\nFootage {} ({w}x{h}): its JPEGs {:.1} KB, decode {:.2} ms",
        report.path,
        report.source_jpeg_bytes / 1024.0,
        report.decode_ms
    );
    println!(
        "{:<14} {:<13} {:>10} {:>8} {:>10} {:>14} {:>9}",
        "encoder", "pictures", "ms/frame", "MP/s", "fps/core", "fps N threads", "JPEG KB"
    );
    let at_size = |r: &EncodeRow| (r.width, r.height) == (w, h);
    for (what, r) in pattern_then_footage(pattern, &report.encode, at_size) {
        println!(
            "{:<14} {:<13} {:>10.2} {:>8.1} {:>10.1} {:>14} {:>9.1}",
            r.encoder,
            what,
            r.ms_per_frame,
            r.mp_per_s,
            r.fps_one_core,
            format!("{:.1} ({})", r.fps_parallel, r.threads),
            r.jpeg_bytes as f64 / 1024.0,
        );
    }
    if report.pipeline.is_empty() {
        return;
    }
    println!(
        "{:<14} {:<13} {:>8} {:>8} {:>12} {:>9}",
        "pipeline", "pictures", "fps", "hub fps", "CPU % proc", "CPU ms/f"
    );
    let at_size = |r: &PipelineRow| (r.width, r.height) == (w, h);
    for (what, r) in pattern_then_footage(pipeline_rows, &report.pipeline, at_size) {
        println!(
            "{:<14} {:<13} {:>8.1} {:>8.1} {:>12.0} {:>9.2}",
            r.encoder, what, r.fps, r.hub_fps, r.cpu_percent, r.cpu_ms_per_frame,
        );
    }
}

/// The test pattern's rows that `at_size` keeps, then the footage's, each
/// with the pictures it measured.
fn pattern_then_footage<'a, R>(
    pattern: &'a [R],
    footage: &'a [R],
    at_size: impl Fn(&R) -> bool + 'a,
) -> impl Iterator<Item = (&'static str, &'a R)> {
    let same_size = pattern.iter().filter(move |r| at_size(r));
    same_size
        .map(|r| ("test pattern", r))
        .chain(footage.iter().map(|r| ("footage", r)))
}
