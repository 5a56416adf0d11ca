//! Recorded frames under `assets/frames/`, checked against the converters and
//! the JPEG check.
//!
//! No camera is available where these tests run, so the "recordings" are
//! made the way a camera would produce them: a known RGB picture
//! (`bars_64x48.ppm`) turned into YUYV and NV12 with the BT.601 inverse, and
//! an MJPEG frame laid out like a UVC camera's (AVI1 APP0, no Huffman
//! tables, zero padding after EOI). `cargo test --test it -- --ignored
//! camera_frames::regenerate` rewrites them.

use std::path::PathBuf;

use tars_camera::capture::CaptureError;
use tars_camera::capture::convert::{RawLayout, nv12_to_rgb, rgb_to_yuv, yuyv_to_rgb};
use tars_camera::capture::jpeg_check::validate;

const W: usize = 64;
const H: usize = 48;

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/frames")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(asset(name)).unwrap_or_else(|e| panic!("reading assets/frames/{name}: {e}"))
}

/// Colour bars over a grey ramp; every 2x2 block is one colour, so chroma
/// subsampling loses nothing and the round trip error is rounding only.
fn bars() -> Vec<u8> {
    const COLOURS: [[u8; 3]; 8] = [
        [255, 255, 255],
        [255, 255, 0],
        [0, 255, 255],
        [0, 255, 0],
        [255, 0, 255],
        [255, 0, 0],
        [0, 0, 255],
        [0, 0, 0],
    ];
    let mut rgb = Vec::with_capacity(W * H * 3);
    for y in 0..H {
        for x in 0..W {
            if y < 32 {
                rgb.extend_from_slice(&COLOURS[x / 8]);
            } else {
                let v = ((x / 2) * 8).min(255) as u8;
                rgb.extend_from_slice(&[v, v, v]);
            }
        }
    }
    rgb
}

fn ppm(rgb: &[u8]) -> Vec<u8> {
    let mut out = format!("P6\n{W} {H}\n255\n").into_bytes();
    out.extend_from_slice(rgb);
    out
}

fn parse_ppm(data: &[u8]) -> Vec<u8> {
    let header = format!("P6\n{W} {H}\n255\n");
    assert!(data.starts_with(header.as_bytes()), "unexpected PPM header");
    data[header.len()..].to_vec()
}

fn yuyv_from(rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(W * H * 2);
    for px in rgb.chunks_exact(6) {
        let a = rgb_to_yuv(px[0], px[1], px[2]);
        let b = rgb_to_yuv(px[3], px[4], px[5]);
        let u = (u16::from(a[1]) + u16::from(b[1])).div_ceil(2) as u8;
        let v = (u16::from(a[2]) + u16::from(b[2])).div_ceil(2) as u8;
        out.extend_from_slice(&[a[0], u, b[0], v]);
    }
    out
}

fn nv12_from(rgb: &[u8]) -> Vec<u8> {
    let yuv: Vec<[u8; 3]> = rgb
        .chunks_exact(3)
        .map(|p| rgb_to_yuv(p[0], p[1], p[2]))
        .collect();
    let mut out: Vec<u8> = yuv.iter().map(|p| p[0]).collect();
    for by in (0..H).step_by(2) {
        for bx in (0..W).step_by(2) {
            let block = [
                yuv[by * W + bx],
                yuv[by * W + bx + 1],
                yuv[(by + 1) * W + bx],
                yuv[(by + 1) * W + bx + 1],
            ];
            for c in 1..3 {
                let sum: u16 = block.iter().map(|p| u16::from(p[c])).sum();
                out.push(((sum + 2) / 4) as u8);
            }
        }
    }
    out
}

/// A JPEG laid out like a UVC camera's MJPEG frame.
fn uvc_style_mjpeg(rgb: &[u8]) -> Vec<u8> {
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 85)
        .encode(rgb, W as u16, H as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encoding into a Vec");
    // Rebuild the header: SOI, APP0 "AVI1", then every segment but APP0 and
    // DHT (cameras rely on the standard tables), then the scan as is.
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    out.extend_from_slice(b"AVI1\0");
    out.extend_from_slice(&[0; 9]);
    let mut pos = 2;
    loop {
        assert_eq!(jpeg[pos], 0xFF);
        let marker = jpeg[pos + 1];
        if marker == 0xDA {
            out.extend_from_slice(&jpeg[pos..]);
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        if marker != 0xE0 && marker != 0xC4 {
            out.extend_from_slice(&jpeg[pos..pos + 2 + len]);
        }
        pos += 2 + len;
    }
    out.extend_from_slice(&[0; 200]);
    out
}

#[test]
#[ignore = "rewrites the recorded frames"]
fn regenerate() {
    let rgb = bars();
    std::fs::create_dir_all(asset("")).expect("creating assets/frames");
    std::fs::write(asset("bars_64x48.ppm"), ppm(&rgb)).expect("writing");
    std::fs::write(asset("bars_64x48.yuyv"), yuyv_from(&rgb)).expect("writing");
    std::fs::write(asset("bars_64x48.nv12"), nv12_from(&rgb)).expect("writing");
    std::fs::write(asset("uvc_mjpeg_64x48.jpg"), uvc_style_mjpeg(&rgb)).expect("writing");
}

fn max_error(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

#[test]
fn recorded_yuyv_converts_back_to_the_picture() {
    let expected = parse_ppm(&read("bars_64x48.ppm"));
    assert_eq!(expected, bars(), "the reference picture changed");
    let mut rgb = Vec::new();
    let layout = RawLayout::new(W as u32, H as u32, W * 2);
    yuyv_to_rgb(&read("bars_64x48.yuyv"), layout, &mut rgb).expect("converts");
    let err = max_error(&rgb, &expected);
    assert!(err <= 2, "max channel error {err}");
}

#[test]
fn recorded_nv12_converts_back_to_the_picture() {
    let expected = parse_ppm(&read("bars_64x48.ppm"));
    let mut rgb = Vec::new();
    let layout = RawLayout::new(W as u32, H as u32, W);
    nv12_to_rgb(&read("bars_64x48.nv12"), layout, &mut rgb).expect("converts");
    let err = max_error(&rgb, &expected);
    assert!(err <= 2, "max channel error {err}");
}

#[test]
fn recordings_match_their_generator() {
    // A changed inverse transform would silently change what the tests above
    // compare; regenerate deliberately instead.
    let rgb = bars();
    assert_eq!(read("bars_64x48.yuyv"), yuyv_from(&rgb));
    assert_eq!(read("bars_64x48.nv12"), nv12_from(&rgb));
}

#[test]
fn a_truncated_recording_is_corrupt_not_a_panic() {
    let yuyv = read("bars_64x48.yuyv");
    let mut rgb = Vec::new();
    let layout = RawLayout::new(W as u32, H as u32, W * 2);
    let r = yuyv_to_rgb(&yuyv[..yuyv.len() - 1], layout, &mut rgb);
    assert!(matches!(r, Err(CaptureError::Corrupt(_))));
}

#[test]
fn uvc_style_mjpeg_passes_the_check_and_decodes() {
    let jpeg = read("uvc_mjpeg_64x48.jpg");
    assert_eq!(validate(&jpeg), Ok((W as u32, H as u32)));
    assert!(
        !jpeg.windows(2).any(|w| w == [0xFF, 0xC4]),
        "no Huffman tables, as from a camera"
    );
    // zune-jpeg falls back to the standard tables for AVI1 frames, so the
    // preview and re-encode paths can decode camera MJPEG.
    let mut decoder = zune_jpeg::JpegDecoder::new(&jpeg);
    let rgb = decoder
        .decode()
        .expect("zune-jpeg decodes camera-style MJPEG");
    assert_eq!(rgb.len(), W * H * 3);
    // Exactly what the same picture decodes to with its Huffman tables in.
    let mut full = Vec::new();
    jpeg_encoder::Encoder::new(&mut full, 85)
        .encode(&bars(), W as u16, H as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encoding into a Vec");
    let reference = zune_jpeg::JpegDecoder::new(&full)
        .decode()
        .expect("decodes");
    assert_eq!(rgb, reference);
    // The same frame cut short (a lost USB transfer) is refused.
    let cut = &jpeg[..jpeg.len() / 2];
    assert!(matches!(validate(cut), Err(CaptureError::Corrupt(_))));
}

/// `jpeg` with `len` bytes of its entropy-coded data, from a third of the
/// way in, overwritten by bytes that form no marker: every marker stays
/// intact, only a decoder can tell.
fn damage_scan(jpeg: &[u8], len: usize) -> Vec<u8> {
    let sos = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("a scan");
    let header = usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]));
    let data = sos + 2 + header;
    let end = jpeg.len() - 2;
    let at = data + (end - data) / 3;
    let mut damaged = jpeg.to_vec();
    for (i, b) in damaged[at..(at + len).min(end)].iter_mut().enumerate() {
        *b = [0x13, 0x77, 0xA5, 0x3C][i % 4];
    }
    damaged
}

#[test]
fn damaged_scan_data_passes_the_marker_walk_but_not_the_decode_check() {
    let codec = tars_camera::encode::Codec::auto();
    let Some(mut checker) = tars_camera::encode::JpegChecker::new(codec.library().cloned()) else {
        eprintln!("libjpeg-turbo is not installed: the decode check is off, nothing to test");
        return;
    };
    let padded = read("uvc_mjpeg_64x48.jpg");
    let jpeg = tars_camera::capture::jpeg_check::trim_padding(&padded);
    assert!(jpeg.ends_with(&[0xFF, 0xD9]) && jpeg.len() < padded.len());
    checker.check(jpeg).expect("a good camera frame passes");
    // A bigger picture, closer to a camera's, damaged in several ways.
    let rgb: Vec<u8> = (0..320 * 240 * 3).map(|i| ((i * 7) % 251) as u8).collect();
    let mut big = Vec::new();
    jpeg_encoder::Encoder::new(&mut big, 80)
        .encode(&rgb, 320, 240, jpeg_encoder::ColorType::Rgb)
        .expect("encoding into a Vec");
    checker.check(&big).expect("a good frame passes");
    for (picture, len) in [(jpeg, 16), (&big[..], 64), (&big[..], 512)] {
        let damaged = damage_scan(picture, len);
        assert!(validate(&damaged).is_ok(), "markers intact");
        assert!(
            checker.check(&damaged).is_err(),
            "{len} damaged bytes found"
        );
    }
}
