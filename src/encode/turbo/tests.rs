//! Tests of the loader and the instances (the round trips need the library).
//!
//! They use the system's library, or the one `CAMERA_TURBOJPEG_LIB` names
//! (as the service does), so one build is tested against several releases.

use super::handles::{dims, rgb_len};
use super::*;
use crate::encode::{Codec, EncoderChoice};

/// The variable that names another library, as for the service.
const LIBRARY_VAR: &str = "CAMERA_TURBOJPEG_LIB";

/// The library under test: the one `CAMERA_TURBOJPEG_LIB` names (which must
/// load), else the system's, else `None` (the test is skipped, and says so).
pub(crate) fn library() -> Option<Arc<TurboLib>> {
    match std::env::var(LIBRARY_VAR) {
        Ok(name) if !name.is_empty() => match TurboLib::open(&name) {
            Ok(lib) => Some(lib),
            Err(e) => panic!("{LIBRARY_VAR}={name}: {e}"),
        },
        _ => match TurboLib::system() {
            Ok(lib) => Some(lib),
            Err(e) => {
                eprintln!("{e}: skipped");
                None
            }
        },
    }
}

/// A libjpeg-turbo codec on [`library`].
pub(crate) fn codec() -> Option<Codec> {
    let lib = library()?;
    match Codec::from_choice(EncoderChoice::Turbo, Some(lib.name())) {
        Ok(c) => Some(c),
        Err(e) => panic!("{}: {e}", lib.name()),
    }
}

#[test]
fn a_missing_library_is_an_error_naming_it() {
    let e = TurboLib::open("libturbojpeg-not-here.so.0").expect_err("missing");
    assert!(e.to_string().contains("libturbojpeg-not-here.so.0"), "{e}");
}

#[test]
fn sizes_out_of_range_are_refused_before_any_call() {
    assert!(dims(0, 10).is_err());
    assert!(dims(70_000, 10).is_err());
    assert_eq!(dims(1280, 720), Ok((1280, 720)));
}

/// Runs where the library is installed (CI installs it).
#[test]
fn round_trip_and_scaled_decode_when_installed() {
    let Some(lib) = library() else {
        return;
    };
    assert_eq!(lib.reductions(), &[8, 4, 2]);
    let (w, h) = (100u32, 60u32);
    let rgb: Vec<u8> = (0..w * h).flat_map(|_| [30u8, 160, 220]).collect();
    let mut c = Compressor::new(Arc::clone(&lib)).expect("compressor");
    assert!(c.compress_rgb(&rgb[..10], w, h, 80).is_err(), "short");
    let jpeg = c.compress_rgb(&rgb, w, h, 80).expect("compress").to_vec();
    let mut d = Decompressor::new(lib).expect("decompressor");
    let header = d.header(&jpeg).expect("header");
    assert_eq!(
        header,
        Header {
            width: w,
            height: h
        }
    );
    let mut out = Vec::new();
    assert_eq!(d.decompress_rgb(&jpeg, header, 1, &mut out), Ok((w, h)));
    assert_eq!(out.len(), rgb_len(w, h));
    assert_eq!(d.decompress_rgb(&jpeg, header, 4, &mut out), Ok((25, 15)));
    assert_eq!(out.len(), 25 * 15 * 3);
    for (a, b) in out[..3].iter().zip([30u8, 160, 220]) {
        assert!(a.abs_diff(b) < 8, "{:?}", &out[..3]);
    }
    assert!(d.decompress_rgb(&jpeg, header, 3, &mut out).is_err());
    assert!(d.header(b"not a jpeg").is_err());
}

fn test_jpeg(lib: &Arc<TurboLib>, w: u32, h: u32) -> Vec<u8> {
    let rgb: Vec<u8> = (0..w * h).flat_map(|_| [200u8, 40, 90]).collect();
    let mut c = Compressor::new(Arc::clone(lib)).expect("compressor");
    c.compress_rgb(&rgb, w, h, 80).expect("compress").to_vec()
}

/// A JPEG that makes libjpeg-turbo warn (bytes that are no marker before
/// the quantisation tables) and then fail (its scan names a component the
/// frame does not have), in one call.
fn warning_then_error(jpeg: &[u8]) -> Vec<u8> {
    let mut bad = jpeg[..2].to_vec();
    bad.extend_from_slice(b"junk");
    bad.extend_from_slice(&jpeg[2..]);
    let sos = bad
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("a scan");
    // FF DA, length (2), component count (1), first component's id.
    bad[sos + 5] = 99;
    bad
}

/// Every call on one reused handle: what an earlier picture left in it
/// must never stand for a later, broken one.
#[test]
fn broken_data_on_a_reused_handle_is_an_error_not_the_last_picture() {
    let Some(lib) = library() else {
        return;
    };
    let good = test_jpeg(&lib, 64, 40);
    let mut d = Decompressor::new(Arc::clone(&lib)).expect("decompressor");
    let header = d.header(&good).expect("header");
    let mut out = Vec::new();
    assert_eq!(d.decompress_rgb(&good, header, 1, &mut out), Ok((64, 40)));
    let not_jpeg: &[u8] = b"\xFF\xD8 not a jpeg";
    for bad in [not_jpeg, b"not a jpeg", &good[..good.len() / 8]] {
        let e = d.header(bad).expect_err("no frame header");
        assert!(!e.0.is_empty());
        assert!(
            d.decompress_rgb(bad, header, 1, &mut out).is_err(),
            "{bad:?} decoded with the last picture's size"
        );
        assert!(d.check(bad, header, &mut out).is_err());
    }
    let bad = warning_then_error(&good);
    assert!(d.header(&bad).is_err() || d.decompress_rgb(&bad, header, 1, &mut out).is_err());
    assert!(
        d.decompress_rgb(&bad, header, 1, &mut out).is_err(),
        "an error after a warning"
    );
    assert!(d.check(&bad, header, &mut out).is_err());
    // The handle still works.
    assert_eq!(d.header(&good), Ok(header));
    assert_eq!(d.decompress_rgb(&good, header, 1, &mut out), Ok((64, 40)));
    assert_eq!(d.check(&good, header, &mut out), Ok(()));
}

/// A warning the picture survives still decodes: bytes after the end
/// marker, and a picture cut short (the rest is filled in grey).
#[test]
fn a_whole_picture_despite_a_warning_still_decodes() {
    let Some(lib) = library() else {
        return;
    };
    let good = test_jpeg(&lib, 64, 40);
    let mut d = Decompressor::new(lib).expect("decompressor");
    let header = d.header(&good).expect("header");
    let mut out = Vec::new();
    let cut = &good[..good.len() - 40];
    assert_eq!(d.decompress_rgb(cut, header, 1, &mut out), Ok((64, 40)));
    assert!(d.check(cut, header, &mut out).is_err(), "strict: a warning");
}

#[test]
fn yuv_planes_compress_to_the_picture_they_hold() {
    let Some(lib) = library() else {
        return;
    };
    let (w, h) = (34u32, 21u32);
    let (cw, ch) = (17usize, 11usize);
    // JPEG's full-range YCbCr for RGB (200, 40, 90).
    let (y, u, v) = (94, 126, 204);
    let planes = [
        vec![y; (w * h) as usize],
        vec![u; cw * ch],
        vec![v; cw * ch],
    ];
    let mut c = Compressor::new(Arc::clone(&lib)).expect("compressor");
    let short = [&planes[0][..], &planes[1][..3], &planes[2][..]];
    assert!(c.compress_yuv420(short, w, h, 80).is_err(), "short plane");
    let [py, pu, pv] = &planes;
    let jpeg = c
        .compress_yuv420([py, pu, pv], w, h, 80)
        .expect("compress")
        .to_vec();
    let mut d = Decompressor::new(lib).expect("decompressor");
    let header = d.header(&jpeg).expect("header");
    assert_eq!((header.width, header.height), (w, h));
    let mut out = Vec::new();
    assert_eq!(d.decompress_rgb(&jpeg, header, 1, &mut out), Ok((w, h)));
    for (a, b) in out[..3].iter().zip([200u8, 40, 90]) {
        assert!(a.abs_diff(b) < 8, "{:?}", &out[..3]);
    }
}
