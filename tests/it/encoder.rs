//! `--encoder auto|turbo|rust`: libjpeg-turbo loaded at run time when the
//! system has it, the pure-Rust codecs otherwise, and the same pictures from
//! both. The loader is pointed at a library name that does not exist
//! (`CAMERA_TURBOJPEG_LIB`) to prove the fallback on any machine; the tests
//! that need the real library say so and pass without it.

use crate::common;

use std::time::Duration;

use common::{Running, eventually, get, status_json};
use tars_camera::capture::FrameSource;
use tars_camera::capture::test_pattern::{Clock, TestPattern};
use tars_camera::encode::{Codec, EncoderChoice, EncoderKind, turbo::TurboLib};

const MISSING: &str = "libturbojpeg-missing.so.0";

fn installed() -> bool {
    let ok = TurboLib::system().is_ok();
    if !ok {
        eprintln!("libturbojpeg.so.0 is not installed: libjpeg-turbo half skipped");
    }
    ok
}

#[test]
fn turbo_without_the_library_exits_2_naming_the_option_and_the_package() {
    for (args, envs) in [
        (
            &["--demo", "--no-tui", "--encoder", "turbo"][..],
            &[("CAMERA_TURBOJPEG_LIB", MISSING)][..],
        ),
        (
            &["--demo", "--no-tui"][..],
            &[
                ("CAMERA_TURBOJPEG_LIB", MISSING),
                ("CAMERA_ENCODER", "turbo"),
            ][..],
        ),
    ] {
        let (code, err) = common::run(args, envs);
        assert_eq!(code, Some(2), "{err}");
        // Named as given: the flag, or the variable it came from.
        assert!(
            err.contains("--encoder") || err.contains("CAMERA_ENCODER=turbo"),
            "{err}"
        );
        assert!(err.contains("libturbojpeg0"), "{err}");
        assert!(err.contains(MISSING), "{err}");
    }
}

#[test]
fn a_bad_encoder_value_exits_2_naming_the_option() {
    let (code, err) = common::run(&["--encoder", "fast"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--encoder: must be auto, turbo or rust"),
        "{err}"
    );
}

/// The encoder in the start line and in `/status`, then a stop.
fn encoder_of(args: &[&str], envs: &[(&str, &str)]) -> (String, String) {
    let mut all = vec![
        "--source",
        "test-pattern",
        "--mqtt-url",
        "mqtt://127.0.0.1:9",
        "--width",
        "160",
        "--height",
        "120",
    ];
    all.extend_from_slice(args);
    let mut svc = Running::headless(&all, envs);
    let line = svc.wait_line("JPEG encoder", Duration::from_secs(10));
    let addr = svc.http_addr();
    let encoder = eventually(Duration::from_secs(5), || {
        let s = status_json(addr);
        let frames = s["capture"]["frames"].as_u64().unwrap_or(0);
        (frames > 0).then(|| s["encoder"]["encoder"].as_str().unwrap_or("").to_owned())
    })
    .expect("frames within 5 s");
    let snapshot = get(addr, "/snapshot");
    assert_eq!(snapshot.status, 200);
    assert!(snapshot.body.starts_with(&[0xFF, 0xD8]), "a JPEG");
    svc.signal("TERM");
    assert!(svc.wait_exit(Duration::from_secs(5)).is_some());
    (line, encoder)
}

#[test]
fn auto_falls_back_to_jpeg_encoder_when_the_library_cannot_load() {
    let (line, encoder) = encoder_of(&[], &[("CAMERA_TURBOJPEG_LIB", MISSING)]);
    assert_eq!(encoder, "jpeg-encoder");
    assert!(line.contains("JPEG encoder jpeg-encoder"), "{line}");
    assert!(
        line.contains(MISSING) && line.contains("libturbojpeg0"),
        "says why: {line}"
    );
}

#[test]
fn each_choice_shows_its_encoder_in_the_start_line_and_status() {
    let (line, encoder) = encoder_of(&["--encoder", "rust"], &[]);
    assert_eq!(encoder, "jpeg-encoder", "{line}");
    if !installed() {
        return;
    }
    for (args, envs) in [
        (&[][..], &[][..]),
        (&["--encoder", "turbo"][..], &[][..]),
        (&[][..], &[("CAMERA_ENCODER", "turbo")][..]),
    ] {
        let (line, encoder) = encoder_of(args, envs);
        assert_eq!(encoder, "libjpeg-turbo", "{args:?} {envs:?}: {line}");
        assert!(
            line.contains("JPEG encoder libjpeg-turbo (libturbojpeg.so.0)"),
            "{line}"
        );
    }
}

/// A photograph-like picture: smooth gradients, soft shapes and a little
/// sensor noise (harder for JPEG than the flat test-pattern bars).
fn natural(w: usize, h: usize) -> Vec<u8> {
    common::rgb_picture(w, h, 0x2545_F491, |x, y, random| {
        let noise = (random % 7) as f64 - 3.0;
        let (fx, fy) = (x as f64 / w as f64, y as f64 / h as f64);
        let d = ((fx - 0.4).powi(2) + (fy - 0.5).powi(2)).sqrt();
        let blob = 120.0 * (-d * d * 18.0).exp();
        let px = [
            40.0 + 150.0 * fx + blob,
            60.0 + 120.0 * fy + 0.5 * blob,
            200.0 - 140.0 * fx * fy,
        ];
        px.map(|v| (v + noise).clamp(0.0, 255.0) as u8)
    })
}

fn psnr_of(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let mse = se / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10()
}

/// PSNR over the R, G and B samples.
fn psnr_rgb(a: &[u8], b: &[u8]) -> f64 {
    let f = |v: &[u8]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    psnr_of(&f(a), &f(b))
}

/// PSNR of the luma (BT.601), the channel 4:2:0 keeps at full resolution.
fn psnr_luma(a: &[u8], b: &[u8]) -> f64 {
    let y = |v: &[u8]| {
        v.chunks_exact(3)
            .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
            .collect::<Vec<_>>()
    };
    psnr_of(&y(a), &y(b))
}

/// On the same frames, at the same quality (80, the default), each encoder
/// gives a valid JPEG (decoded by each decoder) within 10 % of the other's
/// size, decoding back to the source at >= 35 dB. For the natural picture
/// that is PSNR over R, G and B. The test pattern's saturated colour bars
/// lose their one-pixel colour edges to 4:2:0 chroma subsampling in any
/// encoder (33.5 dB RGB for both at every quality): there the full-resolution
/// luma is held to 35 dB and the two encoders' RGB PSNR to within 0.5 dB.
#[test]
fn both_encoders_give_valid_jpegs_of_like_size_and_psnr_at_least_35_db() {
    let (w, h) = (640u32, 480u32);
    let mut pattern = TestPattern::new(w, h, 30.0, Clock::FromFrameCount);
    pattern.open().expect("open");
    let mut bars = Vec::new();
    pattern.next_frame(&mut bars).expect("frame");
    let pictures = [
        ("test pattern", bars, false),
        ("natural", natural(640, 480), true),
    ];
    let kinds = EncoderKind::available();
    if kinds.len() < 2 {
        eprintln!("libturbojpeg.so.0 is not installed: only jpeg-encoder checked");
    }
    let decoders: Vec<Codec> = kinds
        .iter()
        .map(|k| k.codec().expect("available"))
        .collect();
    for (name, rgb, judge_rgb) in &pictures {
        let mut sizes = Vec::new();
        let mut rgb_db = Vec::new();
        for &kind in &kinds {
            let mut encoder = kind.codec().expect("available").encoder();
            assert_eq!(encoder.kind(), kind);
            let jpeg = encoder.encode_rgb(rgb, w, h, 80).expect("encode");
            assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]));
            for codec in &decoders {
                let mut out = Vec::new();
                let got = codec.decoder().decode(&jpeg, &mut out).expect("decodes");
                assert_eq!((got.width, got.height), (w, h));
                let (db, luma) = (psnr_rgb(rgb, &out), psnr_luma(rgb, &out));
                eprintln!(
                    "{name}: {} {} bytes, decoded by {}: PSNR {db:.1} dB RGB, {luma:.1} dB luma",
                    kind.name(),
                    jpeg.len(),
                    codec.name()
                );
                let judged = if *judge_rgb { db } else { luma };
                assert!(
                    judged >= 35.0,
                    "{name} {kind:?} via {}: {judged:.1} dB",
                    codec.name()
                );
                rgb_db.push(db);
            }
            sizes.push(jpeg.len() as f64);
        }
        if let [a, b] = sizes[..] {
            let ratio = a.max(b) / a.min(b);
            assert!(
                ratio <= 1.10,
                "{name}: sizes {a} and {b} differ by {ratio:.3}"
            );
        }
        let spread = rgb_db.iter().copied().fold(f64::MIN, f64::max)
            - rgb_db.iter().copied().fold(f64::MAX, f64::min);
        assert!(spread <= 0.5, "{name}: RGB PSNR differs by {spread:.2} dB");
    }
}

#[test]
fn the_library_choice_is_per_service_not_per_process() {
    // Two codecs side by side in one process: nothing global decides.
    let rust = Codec::from_choice(EncoderChoice::Rust, None).expect("rust");
    let fallback = Codec::from_choice(EncoderChoice::Auto, Some(MISSING)).expect("auto");
    assert_eq!(rust.kind(), EncoderKind::JpegEncoder);
    assert_eq!(fallback.kind(), EncoderKind::JpegEncoder);
    assert!(fallback.fallback_reason().is_some());
    if installed() {
        let turbo = Codec::from_choice(EncoderChoice::Auto, None).expect("auto");
        assert_eq!(turbo.kind(), EncoderKind::Turbo);
        assert_eq!(rust.encoder().kind(), EncoderKind::JpegEncoder);
        assert_eq!(turbo.encoder().kind(), EncoderKind::Turbo);
    }
}
