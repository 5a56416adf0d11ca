//! Micro-benchmarks of the hot functions, so a regression shows as a number:
//! encode (each encoder of this build), the checks of a camera JPEG served
//! as it is, rotation, half-block conversion and the MQTT frame payload.
//!
//! ```text
//! cargo bench --bench hot_paths                      # all
//! cargo bench --bench hot_paths -- encode            # a group
//! ```
//!
//! Pictures are the service's own test pattern, so the numbers match what
//! `tars-camera bench` encodes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tars_camera::bench::encode::test_frames;
use tars_camera::capture::jpeg_check::validate;
use tars_camera::encode::{Codec, Encoder, EncoderKind, JpegChecker, Transform};
use tars_camera::frame::Frame;
use tars_camera::service::publisher::frame_payload;
use tars_camera::tui::halfblock::{downscale, half_blocks};

const SIZES: [(u32, u32); 2] = [(640, 480), (1280, 720)];

fn picture(w: u32, h: u32) -> Vec<u8> {
    test_frames(w, h, 1)
        .ok()
        .and_then(|mut v| v.pop())
        .unwrap_or_else(|| vec![128; (w * h * 3) as usize])
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_q80");
    group.sample_size(20);
    for (w, h) in SIZES {
        let rgb = picture(w, h);
        group.throughput(Throughput::Elements(u64::from(w * h)));
        for kind in EncoderKind::available() {
            let Ok(mut encoder) = Encoder::new(kind) else {
                continue;
            };
            group.bench_with_input(
                BenchmarkId::new(kind.name(), format!("{w}x{h}")),
                &rgb,
                |b, rgb| {
                    b.iter(|| {
                        encoder
                            .encode_rgb(black_box(rgb), w, h, 80)
                            .map(|j| j.len())
                    });
                },
            );
        }
    }
    group.finish();
}

/// What a passthrough frame costs to check: the marker walk, the reduced
/// decode that finds damaged scan data, and a full decode beside them.
fn passthrough_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("passthrough_check");
    group.sample_size(30);
    let codec = Codec::auto();
    for (w, h) in SIZES {
        let rgb = picture(w, h);
        let Ok(jpeg) =
            Encoder::new(EncoderKind::JpegEncoder).and_then(|mut e| e.encode_rgb(&rgb, w, h, 80))
        else {
            continue;
        };
        let size = format!("{w}x{h}");
        group.bench_function(BenchmarkId::new("markers", &size), |b| {
            b.iter(|| validate(black_box(&jpeg)).is_ok());
        });
        if let Some(mut checker) = JpegChecker::new(codec.library().cloned()) {
            group.bench_function(BenchmarkId::new("turbo_reduced_decode", &size), |b| {
                b.iter(|| checker.check(black_box(&jpeg)).is_ok());
            });
        }
        let mut decoder = codec.decoder();
        let mut out = Vec::new();
        group.bench_function(BenchmarkId::new("full_decode", &size), |b| {
            b.iter(|| decoder.decode(black_box(&jpeg), &mut out).is_ok());
        });
    }
    group.finish();
}

/// The test pattern's software brightness, contrast and saturation on a
/// 720p picture (all three away from neutral: the most work).
fn picture_adjust(c: &mut Criterion) {
    use tars_camera::capture::adjust::PictureAdjust;
    use tars_camera::capture::controls::{ControlValue, resolve};
    let mut adjust = PictureAdjust::default();
    let values: Vec<(String, ControlValue)> =
        [("brightness", 10), ("contrast", 120), ("saturation", 80)]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), ControlValue::Number(v)))
            .collect();
    if let Ok(writes) = resolve(&adjust.controls(), &values) {
        let _ = adjust.set(&writes);
    }
    let rgb = picture(1280, 720);
    c.bench_function("picture_adjust_1280x720", |b| {
        let mut out = rgb.clone();
        b.iter(|| {
            out.copy_from_slice(&rgb);
            adjust.apply(black_box(&mut out));
        });
    });
}

fn rotation(c: &mut Criterion) {
    let mut group = c.benchmark_group("transform_1280x720");
    let rgb = picture(1280, 720);
    let mut out = Vec::new();
    for (name, t) in [
        (
            "rot90",
            Transform {
                rotation: 90,
                ..Transform::default()
            },
        ),
        (
            "rot180",
            Transform {
                rotation: 180,
                ..Transform::default()
            },
        ),
        (
            "flip_h",
            Transform {
                flip_h: true,
                ..Transform::default()
            },
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| t.apply(black_box(&rgb), 1280, 720, &mut out));
        });
    }
    group.finish();
}

fn preview(c: &mut Criterion) {
    let rgb = picture(1280, 720);
    let small = downscale(&rgb, 1280, 720, 116, 76);
    c.bench_function("half_blocks_116x76", |b| {
        b.iter(|| half_blocks(black_box(&small), 116, 76));
    });
    c.bench_function("downscale_1280x720_to_116x76", |b| {
        b.iter(|| downscale(black_box(&rgb), 1280, 720, 116, 76));
    });
}

fn payload(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_payload");
    for (w, h) in SIZES {
        let rgb = picture(w, h);
        let Ok(jpeg) =
            Encoder::new(EncoderKind::JpegEncoder).and_then(|mut e| e.encode_rgb(&rgb, w, h, 80))
        else {
            continue;
        };
        group.throughput(Throughput::Bytes(jpeg.len() as u64));
        let frame = Frame::captured_now(1, jpeg, (w, h), 80);
        group.bench_function(format!("{w}x{h}"), |b| {
            b.iter(|| frame_payload(black_box(&frame), 80, 2.0).map_or(0, |p| p.len()));
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    encode,
    passthrough_check,
    picture_adjust,
    rotation,
    preview,
    payload
);
criterion_main!(benches);
