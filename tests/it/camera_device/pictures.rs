//! What reaches `/stream` and `/snapshot`: camera JPEGs byte for byte,
//! raw formats converted with the right colours and stride, and never a
//! padded, flagged, truncated or damaged frame.

use std::net::SocketAddr;
use std::time::Duration;

use super::common::fake_camera::FakeCameras;
use super::common::{get, status_json};
use super::*;

#[test]
fn mjpeg_frames_pass_through_byte_identical_without_stale_tails() {
    let cam = Webcam::new("passthrough");
    // Buffers never cleared: a smaller JPEG over a bigger one leaves the
    // bigger one's tail, EOI included, past bytesused.
    cam.cams.plug(0, &cam.config("stale_tail=1\n"));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    let parts = tap.frames(40, Duration::from_secs(15));
    assert_eq!(parts.len(), 40, "40 frames within 15 s");
    for p in &parts {
        assert!(
            cam.is_a_frame(&p.jpeg),
            "part {} ({} bytes) is none of the camera's frames",
            p.seq,
            p.jpeg.len()
        );
    }
    let distinct = cam
        .frames
        .iter()
        .filter(|f| parts.iter().any(|p| &p.jpeg == *f))
        .count();
    assert!(distinct >= 4, "only {distinct} of the 6 frames served");
    let snapshot = get(addr, "/snapshot");
    assert_eq!(snapshot.status, 200);
    assert!(
        cam.is_a_frame(&snapshot.body),
        "/snapshot is no camera frame"
    );
    let v = status_json(addr);
    let c = &v["capture"];
    assert_eq!(c["pixel_format"], "MJPEG", "{c}");
    assert_eq!(c["passthrough"], true, "{c}");
    assert_eq!(
        (c["width"].as_u64(), c["height"].as_u64()),
        (Some(320), Some(240))
    );
}

#[test]
fn bcm2835_jpeg_passes_through_byte_identical() {
    let cam = Webcam::new("bcm2835-jpeg");
    cam.cams
        .plug(0, &format!("profile=bcm2835\n{}", cam.frames_line));
    let (_service, addr) = cam.start(&[]);
    let tap = StreamTap::open(addr);
    let parts = tap.frames(20, Duration::from_secs(15));
    assert_eq!(parts.len(), 20, "20 frames within 15 s");
    assert!(
        parts.iter().all(|p| cam.is_a_frame(&p.jpeg)),
        "a part is none of the camera's frames"
    );
    let c = status_json(addr)["capture"].clone();
    assert_eq!(c["passthrough"], true, "{c}");
    assert_eq!(
        cam.cams.device_state(0, "interval").as_deref(),
        Some("1/30")
    );
}

fn decode(jpeg: &[u8]) -> (usize, usize, Vec<u8>) {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(jpeg, options);
    let rgb = decoder.decode().expect("the snapshot decodes");
    let (w, h) = decoder.dimensions().expect("dimensions");
    (w, h, rgb)
}

/// The snapshot shows the eight bars, at the top, middle and bottom rows
/// (a wrong stride would slant them).
fn assert_bars(addr: SocketAddr, width: usize, height: usize) {
    let snapshot = get(addr, "/snapshot");
    assert_eq!(snapshot.status, 200);
    let (w, h, rgb) = decode(&snapshot.body);
    assert_eq!((w, h), (width, height));
    for y in [height / 8, height / 2, height * 7 / 8] {
        for (bar, want) in BARS.iter().enumerate() {
            let x = bar * width / 8 + width / 16;
            let at = (y * width + x) * 3;
            let got = &rgb[at..at + 3];
            let off = got
                .iter()
                .zip(want)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(
                off <= 24,
                "bar {bar} at ({x}, {y}): got {got:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn yuyv_webcam_shows_the_colour_bars() {
    let cams = FakeCameras::new("yuyv");
    cams.plug(0, "profile=uvc\nformats=YUYV\n");
    let (_service, addr) = Service::start(&cams, &WEBCAM_ARGS);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let v = status_json(addr);
    assert_eq!(v["capture"]["pixel_format"], "YUYV", "{}", v["capture"]);
    assert_bars(addr, W, H);
}

/// Raw frames go to libjpeg-turbo as YUV planes when it encodes and nothing
/// turns the picture, as RGB otherwise; the picture is the same each way.
#[test]
fn yuyv_goes_as_yuv_planes_to_libjpeg_turbo_and_as_rgb_otherwise() {
    let turbo = tars_camera::encode::turbo::TurboLib::system().is_ok();
    let cams = FakeCameras::new("yuyv-paths");
    cams.plug(0, "profile=uvc\nformats=YUYV\n");
    let runs: [(&str, &str); 2] = [("turbo", "yuv420"), ("rust", "rgb")];
    for (encoder, input) in runs {
        if encoder == "turbo" && !turbo {
            eprintln!("libjpeg-turbo is not installed: its YUV path is not tried");
            continue;
        }
        let mut args = WEBCAM_ARGS.to_vec();
        args.extend(["--encoder", encoder]);
        let (service, addr) = Service::start(&cams, &args);
        assert!(
            frames_flow(addr, Duration::from_secs(10)).is_some(),
            "no frames"
        );
        let c = status_json(addr)["capture"].clone();
        assert_eq!(c["input"], input, "{encoder}: {c}");
        assert_bars(addr, W, H);
        if encoder == "turbo" {
            // Turned: through RGB, and back to planes when straight again.
            let r = common::post(addr, "/control", r#"{"rotation":180}"#, None);
            assert_eq!(r.status, 200);
            let rgb = eventually(Duration::from_secs(5), || {
                (status_json(addr)["capture"]["input"] == "rgb").then_some(())
            });
            assert!(rgb.is_some(), "a turned picture goes through RGB");
            let r = common::post(addr, "/control", r#"{"rotation":0}"#, None);
            assert_eq!(r.status, 200);
            let planes = eventually(Duration::from_secs(5), || {
                (status_json(addr)["capture"]["input"] == "yuv420").then_some(())
            });
            assert!(planes.is_some(), "straight again: YUV planes");
            assert_bars(addr, W, H);
        }
        drop(service);
    }
}

/// The Raspberry Pi camera in a raw format at `width`x`height`: the
/// snapshot shows the colour bars at that size.
fn bcm2835_bars(name: &str, fourcc: &str, format: &str, width: u32, height: u32) {
    let cams = FakeCameras::new(name);
    cams.plug(0, &format!("profile=bcm2835\nformats={fourcc}\n"));
    let (w, h) = (width.to_string(), height.to_string());
    let args = [
        "--device",
        "0",
        "--width",
        &w,
        "--height",
        &h,
        "--fps",
        "15",
        "--status-interval",
        "0",
    ];
    let (_service, addr) = Service::start(&cams, &args);
    assert!(
        frames_flow(addr, Duration::from_secs(10)).is_some(),
        "no frames"
    );
    let v = status_json(addr);
    let c = &v["capture"];
    assert_eq!(c["pixel_format"], format, "{c}");
    assert_eq!(
        (c["width"].as_u64(), c["height"].as_u64()),
        (Some(u64::from(width)), Some(u64::from(height)))
    );
    assert_bars(addr, width as usize, height as usize);
}

#[test]
fn bcm2835_padded_yuyv_stride_shows_the_colour_bars() {
    // 330 pixels: 660 bytes a row, padded by the driver to 704.
    bcm2835_bars("bcm2835", "YUYV", "YUYV", 330, 240);
}

#[test]
fn bcm2835_nv12_shows_the_colour_bars() {
    // NV12 without padding (the GPU removes it): 330 bytes a row, the
    // chroma plane right after 250 rows of luma.
    bcm2835_bars("bcm2835-nv12", "NV12", "NV12", 330, 250);
}

/// Serves 30 parts from a webcam with `fault`; every one must be exactly
/// one of the camera's good frames.
fn only_good_frames_served(name: &str, fault: &str, args: &[&str]) {
    let cam = Webcam::new(name);
    cam.cams.plug(0, &cam.config(fault));
    let (_service, addr) = cam.start(args);
    let tap = StreamTap::open(addr);
    let parts = tap.frames(30, Duration::from_secs(20));
    assert_eq!(parts.len(), 30, "30 frames within 20 s with {fault:?}");
    let bad: Vec<String> = parts
        .iter()
        .filter(|p| !cam.is_a_frame(&p.jpeg))
        .map(|p| {
            format!(
                "seq {}: {} bytes, ends {:02x?}",
                p.seq,
                p.jpeg.len(),
                &p.jpeg[p.jpeg.len().saturating_sub(4)..]
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{fault:?}: served {} bad parts: {bad:#?}",
        bad.len()
    );
}

#[test]
fn zero_padded_frames_are_served_up_to_their_eoi() {
    only_good_frames_served("pad", "pad=1\n", &[]);
}

#[test]
fn frames_flagged_as_errors_are_never_served() {
    only_good_frames_served("error-flag", "error_every=2\n", &[]);
}

#[test]
fn truncated_frames_are_never_served() {
    only_good_frames_served("truncated", "truncate_every=2\n", &[]);
}

/// Damaged scan data is found by a decode with libjpeg-turbo (docs/cameras.md,
/// "Damaged camera frames"); where libturbojpeg.so.0 is missing the check
/// is off by design, and there is nothing to test.
#[test]
fn frames_with_a_damaged_scan_are_never_served() {
    if tars_camera::encode::Codec::auto().library().is_none() {
        eprintln!("libjpeg-turbo is not installed: damaged scan data is not checked here");
        return;
    }
    only_good_frames_served("damaged", "damage_every=2\n", &[]);
}
