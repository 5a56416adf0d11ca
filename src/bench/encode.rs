//! Encode throughput: every encoder of this build on the same test-pattern
//! frames, median over many encodes.

use color_eyre::eyre;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::capture::FrameSource;
use crate::capture::test_pattern::{Clock, TestPattern};
use crate::encode::{Encoder, EncoderKind};

/// One row of the encode table.
#[derive(Debug, Clone, Serialize)]
pub struct EncodeRow {
    pub encoder: &'static str,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    /// Median over all encodes (wall time).
    pub ms_per_frame: f64,
    /// Mean CPU time of the encoding thread per encode: what the pipeline's
    /// CPU per frame is compared with (unlike wall time, not inflated when
    /// other programs take the cores).
    pub cpu_ms_per_frame: f64,
    pub mp_per_s: f64,
    /// 1000 / ms_per_frame: one core's FPS with this encoder.
    pub fps_one_core: f64,
    /// Total FPS with `threads` encoders at once (the pool's ceiling).
    pub fps_parallel: f64,
    pub threads: usize,
    pub jpeg_bytes: usize,
    pub encodes: usize,
}

/// Frames of the test pattern at `width` x `height`, deterministic.
///
/// # Errors
/// The pattern could not be drawn.
pub fn test_frames(width: u32, height: u32, count: usize) -> eyre::Result<Vec<Vec<u8>>> {
    let mut pattern = TestPattern::new(width, height, 30.0, Clock::FromFrameCount);
    pattern.open().map_err(|e| eyre::eyre!("{e}"))?;
    let mut frames = Vec::with_capacity(count);
    for i in 0..count * 7 {
        let mut rgb = Vec::new();
        pattern
            .next_frame(&mut rgb)
            .map_err(|e| eyre::eyre!("{e}"))?;
        // Spread over ~1 s of motion so the bars and text differ.
        if i % 7 == 0 {
            frames.push(rgb);
        }
    }
    Ok(frames)
}

/// Median of `v` (sorted in place); 0 when empty.
#[must_use]
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        f64::midpoint(v[mid - 1], v[mid])
    }
}

/// How long the pool's ceiling is measured for each encoder.
const CEILING_SECONDS: f64 = 0.7;

/// Encode rows for `frames` (packed RGB at `width` x `height`), as
/// [`measure_frames`], each with the pool's ceiling: `threads` encoders of
/// its kind at once on the same frames.
///
/// # Errors
/// An encoder failed.
pub fn rows_with_ceiling(
    frames: &Arc<Vec<Vec<u8>>>,
    (width, height): (u32, u32),
    quality: u8,
    runs: u32,
    threads: usize,
) -> eyre::Result<Vec<EncodeRow>> {
    let mut rows = measure_frames(frames, width, height, quality, runs)?;
    for (row, kind) in rows.iter_mut().zip(EncoderKind::available()) {
        let job = EncodeJob {
            frames: Arc::clone(frames),
            kind,
            width,
            height,
            quality,
        };
        row.fps_parallel = sustained(&job, threads, CEILING_SECONDS)?.fps;
        row.threads = threads;
    }
    Ok(rows)
}

/// Encode rows for `frames` (packed RGB at `width` x `height`): each encoder
/// of this build in [`EncoderKind::available`]'s order, on the same frames,
/// interleaved so a frequency change or a noisy neighbour hits both alike.
///
/// # Errors
/// An encoder failed.
pub fn measure_frames(
    frames: &[Vec<u8>],
    width: u32,
    height: u32,
    quality: u8,
    runs: u32,
) -> eyre::Result<Vec<EncodeRow>> {
    let kinds = EncoderKind::available();
    let mut encoders = kinds
        .iter()
        .map(|&k| Encoder::new(k).map_err(|e| eyre::eyre!("{e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    let mut cpu = vec![std::time::Duration::ZERO; kinds.len()];
    let mut sizes = vec![0usize; kinds.len()];
    // Warm up (buffers, caches, frequency).
    for enc in &mut encoders {
        for f in frames {
            enc.encode_rgb(f, width, height, quality)
                .map_err(|e| eyre::eyre!("{e}"))?;
        }
    }
    for _ in 0..runs.max(1) {
        for f in frames {
            for (i, enc) in encoders.iter_mut().enumerate() {
                let c = super::sys::thread_cpu_time();
                let t = Instant::now();
                let jpeg = enc
                    .encode_rgb(f, width, height, quality)
                    .map_err(|e| eyre::eyre!("{e}"))?;
                times[i].push(t.elapsed().as_secs_f64() * 1e3);
                cpu[i] += super::sys::thread_cpu_time().saturating_sub(c);
                sizes[i] = jpeg.len();
            }
        }
    }
    let mp = f64::from(width) * f64::from(height) / 1e6;
    Ok(kinds
        .iter()
        .zip(times.iter_mut())
        .zip(sizes)
        .zip(cpu)
        .map(|(((kind, t), jpeg_bytes), cpu)| {
            let encodes = t.len();
            let ms = median(t);
            #[expect(clippy::cast_precision_loss, reason = "a few hundred encodes")]
            let cpu_ms_per_frame = cpu.as_secs_f64() * 1e3 / encodes.max(1) as f64;
            EncodeRow {
                encoder: kind.name(),
                width,
                height,
                quality,
                ms_per_frame: ms,
                cpu_ms_per_frame,
                mp_per_s: mp / (ms / 1e3).max(1e-9),
                fps_one_core: 1e3 / ms.max(1e-9),
                fps_parallel: 0.0,
                threads: 0,
                jpeg_bytes,
                encodes,
            }
        })
        .collect())
}

/// What encoders do with the same frames.
#[derive(Debug, Clone)]
pub struct EncodeJob {
    /// Packed RGB frames, encoded in turn.
    pub frames: Arc<Vec<Vec<u8>>>,
    pub kind: EncoderKind,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
}

/// Encoding kept up for a while: frames per second and CPU per frame.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Throughput {
    /// All threads' frames over the wall time.
    pub fps: f64,
    /// All threads' CPU time over their frames, ms.
    pub cpu_ms_per_frame: f64,
}

impl Throughput {
    /// The mean of two measurements of the same work (one before and one
    /// after something, to follow a machine whose speed drifts).
    #[must_use]
    pub fn mean(a: Self, b: Self) -> Self {
        Self {
            fps: f64::midpoint(a.fps, b.fps),
            cpu_ms_per_frame: f64::midpoint(a.cpu_ms_per_frame, b.cpu_ms_per_frame),
        }
    }
}

/// `threads` encoders at once on `job`'s frames for `seconds`: sustained
/// frames per second (every stall included, unlike a median) and CPU per
/// frame from each thread's CPU clock.
///
/// # Errors
/// An encoder failed.
pub fn sustained(job: &EncodeJob, threads: usize, seconds: f64) -> eyre::Result<Throughput> {
    let start = Instant::now();
    let deadline = start + std::time::Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let job = job.clone();
            std::thread::spawn(move || -> eyre::Result<(u64, std::time::Duration)> {
                let mut enc = Encoder::new(job.kind).map_err(|e| eyre::eyre!("{e}"))?;
                let cpu = super::sys::thread_cpu_time();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    for f in job.frames.iter() {
                        enc.encode_rgb(f, job.width, job.height, job.quality)
                            .map_err(|e| eyre::eyre!("{e}"))?;
                        n += 1;
                    }
                }
                Ok((n, super::sys::thread_cpu_time().saturating_sub(cpu)))
            })
        })
        .collect();
    let (mut frames, mut cpu) = (0, std::time::Duration::ZERO);
    for h in handles {
        let (n, c) = h
            .join()
            .map_err(|_| eyre::eyre!("encode thread panicked"))??;
        frames += n;
        cpu += c;
    }
    let wall = start.elapsed().as_secs_f64().max(seconds);
    #[expect(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
    let frames = frames.max(1) as f64;
    Ok(Throughput {
        fps: frames / wall,
        cpu_ms_per_frame: cpu.as_secs_f64() * 1e3 / frames,
    })
}

/// What drawing one test-pattern frame costs (the pipeline's source), ms.
///
/// # Errors
/// The pattern could not be drawn.
pub fn render_ms(width: u32, height: u32, frames: u32) -> eyre::Result<f64> {
    let mut pattern = TestPattern::new(width, height, 30.0, Clock::Wall);
    pattern.open().map_err(|e| eyre::eyre!("{e}"))?;
    let mut rgb = Vec::new();
    pattern
        .next_frame(&mut rgb)
        .map_err(|e| eyre::eyre!("{e}"))?;
    let mut times = Vec::new();
    for _ in 0..frames.max(1) {
        let t = Instant::now();
        pattern
            .next_frame(&mut rgb)
            .map_err(|e| eyre::eyre!("{e}"))?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(&mut times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn rows_for_every_encoder_with_sane_fields() {
        let frames = test_frames(64, 48, 4).expect("frames");
        let rows = measure_frames(&frames, 64, 48, 80, 1).expect("measure");
        assert_eq!(rows.len(), EncoderKind::available().len());
        for r in rows {
            assert_eq!((r.width, r.height, r.quality), (64, 48, 80));
            assert!(r.jpeg_bytes > 100 && r.encodes == 4, "{r:?}");
            assert!(r.ms_per_frame > 0.0 && r.mp_per_s > 0.0);
        }
    }
}
