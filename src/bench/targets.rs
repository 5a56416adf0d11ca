//! The pipeline's targets: speed against one libjpeg-turbo thread, and CPU
//! per frame against the bare encode, each the median over the rounds of a
//! ratio taken side by side.

use super::pipeline::PipelineRow;
use super::report::{Report, Target};
use super::side_by_side::median_over_rounds;

/// The size the pipeline targets are judged at.
const JUDGED: (u32, u32) = (1280, 720);

impl Report {
    /// Pipeline targets for each encoder measured at 720p: what the reader
    /// got against one libjpeg-turbo thread, and CPU per frame made against
    /// the bare encode.
    pub(super) fn judge_pipeline(&self, t: &mut Vec<Target>) {
        // The speed target is the default build's with the library there,
        // where `--encoder auto` picks libjpeg-turbo; jpeg-encoder (the
        // fallback) is judged on its CPU per frame only.
        for (encoder, speed, cpu) in [
            (
                "jpeg-encoder",
                None,
                "720p pipeline CPU/frame / bare encode (jpeg-encoder)",
            ),
            (
                "libjpeg-turbo",
                Some("720p pipeline / 1-thread libjpeg-turbo (libjpeg-turbo)"),
                "720p pipeline CPU/frame / bare encode (libjpeg-turbo)",
            ),
        ] {
            let rows: Vec<&PipelineRow> = self
                .pipeline
                .iter()
                .filter(|r| r.encoder == encoder && (r.width, r.height) == JUDGED)
                .collect();
            if rows.is_empty() {
                continue;
            }
            if let Some(speed) = speed {
                t.push(speed_target(speed, 1.6, &rows));
            }
            t.push(cpu_target(cpu, &rows));
        }
    }
}

fn speed_target(name: &'static str, wanted: f64, rows: &[&PipelineRow]) -> Target {
    let ratios: Vec<f64> = rows.iter().filter_map(|r| r.vs_one_thread_turbo).collect();
    let (measured, met) = if ratios.is_empty() {
        let fps: Vec<f64> = rows.iter().map(|r| r.fps).collect();
        let (fps, _) = median_over_rounds(&fps);
        (
            format!("pipeline {fps:.0} fps; no reference (libturbojpeg0 not installed)"),
            None,
        )
    } else {
        let (ratio, listed) = median_over_rounds(&ratios);
        let fps: Vec<f64> = rows.iter().map(|r| r.fps).collect();
        let turbo: Vec<f64> = rows.iter().filter_map(|r| r.turbo_one_thread_fps).collect();
        (
            format!(
                "{ratio:.2} (median of {}: {listed}; reader {:.0} fps / one thread {:.0} fps)",
                ratios.len(),
                median_over_rounds(&fps).0,
                median_over_rounds(&turbo).0,
            ),
            Some(ratio >= wanted),
        )
    };
    Target {
        name,
        wanted: format!(">= {wanted}"),
        measured,
        met,
    }
}

fn cpu_target(name: &'static str, rows: &[&PipelineRow]) -> Target {
    let ratios: Vec<f64> = rows.iter().map(|r| r.cpu_vs_bare_encode).collect();
    let (ratio, listed) = median_over_rounds(&ratios);
    let made: Vec<f64> = rows.iter().map(|r| r.cpu_ms_per_hub_frame).collect();
    let bare: Vec<f64> = rows.iter().map(|r| r.bare_cpu_ms_per_frame).collect();
    let per_read: Vec<f64> = rows
        .iter()
        .map(|r| r.cpu_ms_per_frame / r.bare_cpu_ms_per_frame.max(1e-9))
        .collect();
    Target {
        name,
        wanted: "<= 1.15".into(),
        measured: format!(
            "{ratio:.2} (median of {}: {listed}; {:.2} / {:.2} ms per frame made; {:.2} per frame the reader got)",
            ratios.len(),
            median_over_rounds(&made).0,
            median_over_rounds(&bare).0,
            median_over_rounds(&per_read).0,
        ),
        met: Some(ratio <= 1.15),
    }
}
