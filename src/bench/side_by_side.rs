//! The pipeline next to its references. A shared machine's speed moves
//! between runs by more than the margins judged here, so the references are
//! not taken from the encode section, seconds or minutes away: in each
//! round, each encoder (libjpeg-turbo first) is kept busy on one thread for
//! a second on the same frames right before and right after its pipeline
//! runs, the pipeline is judged against the mean of the two, and the
//! targets take the median ratio over the rounds.

use std::sync::Arc;

use color_eyre::eyre;
use tokio::runtime::Runtime;

use super::encode::{self, EncodeJob, Throughput};
use super::pipeline::{self, PipelineRow};
use crate::encode::EncoderKind;

/// How long each one-thread reference encodes.
const REFERENCE_SECONDS: f64 = 1.0;

/// What one size is measured with.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    /// Length of each pipeline window.
    pub seconds: f64,
    pub broker_url: &'a str,
}

/// `rounds` rounds of: for each encoder of this build (libjpeg-turbo first),
/// its one-thread reference, its unpaced pipeline, the reference again. One
/// row a round and encoder, with its ratios filled in.
///
/// # Errors
/// An encoder, the service, the reader or the subscriber failed.
pub fn measure(rt: &Runtime, setup: Setup<'_>, rounds: u32) -> eyre::Result<Vec<PipelineRow>> {
    let frames = Arc::new(encode::test_frames(setup.width, setup.height, 4)?);
    let mut kinds = EncoderKind::available();
    // The speed reference first, so that its own pipeline follows it at once.
    kinds.sort_by_key(|&k| k != EncoderKind::Turbo);
    let jobs: Vec<EncodeJob> = kinds
        .into_iter()
        .map(|kind| EncodeJob {
            frames: Arc::clone(&frames),
            kind,
            width: setup.width,
            height: setup.height,
            quality: setup.quality,
        })
        .collect();
    let mut rows = Vec::new();
    for round in 1..=rounds.max(1) {
        let mut turbo: Option<Throughput> = None;
        for job in &jobs {
            eprintln!(
                "pipeline {}x{} with {}, round {round} ...",
                setup.width,
                setup.height,
                job.kind.name()
            );
            let before = encode::sustained(job, 1, REFERENCE_SECONDS)?;
            let mut row = pipeline::measure(
                rt,
                setup.width,
                setup.height,
                setup.quality,
                setup.seconds,
                setup.broker_url,
                job.kind,
            )?;
            let after = encode::sustained(job, 1, REFERENCE_SECONDS)?;
            let bare = Throughput::mean(before, after);
            if job.kind == EncoderKind::Turbo {
                turbo = Some(bare);
            }
            fill(&mut row, round, bare, turbo);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Put a round's references and ratios into its pipeline row.
fn fill(row: &mut PipelineRow, round: u32, bare: Throughput, turbo: Option<Throughput>) {
    let (cpu_vs_bare, vs_turbo) = ratios(row.fps, row.cpu_ms_per_hub_frame, bare, turbo);
    row.round = round;
    row.one_thread_fps = bare.fps;
    row.bare_cpu_ms_per_frame = bare.cpu_ms_per_frame;
    row.cpu_vs_bare_encode = cpu_vs_bare;
    row.turbo_one_thread_fps = turbo.map(|t| t.fps);
    row.vs_one_thread_turbo = vs_turbo;
}

/// A pipeline's CPU per frame made over the bare encode's, and the frames
/// its reader got per second over one libjpeg-turbo thread's.
fn ratios(
    fps: f64,
    cpu_ms_per_frame_made: f64,
    bare: Throughput,
    turbo: Option<Throughput>,
) -> (f64, Option<f64>) {
    (
        cpu_ms_per_frame_made / bare.cpu_ms_per_frame.max(1e-9),
        turbo.map(|t| fps / t.fps.max(1e-9)),
    )
}

/// The median of a ratio over the rounds, and every round's value.
#[must_use]
pub fn median_over_rounds(values: &[f64]) -> (f64, String) {
    let listed = values
        .iter()
        .map(|v| format!("{v:.2}"))
        .collect::<Vec<_>>()
        .join(", ");
    (encode::median(&mut values.to_vec()), listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_to_the_references() {
        let bare = Throughput {
            fps: 400.0,
            cpu_ms_per_frame: 2.5,
        };
        let turbo = Throughput {
            fps: 200.0,
            cpu_ms_per_frame: 5.0,
        };
        let (cpu, speed) = ratios(300.0, 2.0, bare, Some(turbo));
        assert!((cpu - 0.8).abs() < 1e-9);
        assert_eq!(speed, Some(1.5));
        assert_eq!(ratios(300.0, 2.0, bare, None).1, None);
        assert_eq!(median_over_rounds(&[1.7, 1.2, 1.5]).0, 1.5);
        assert_eq!(median_over_rounds(&[1.7, 1.2]).1, "1.70, 1.20");
    }
}
