//! Tests of the loader and the instances (the round trips need the library).

use super::handles::{dims, rgb_len};
use super::*;

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
    let Ok(lib) = TurboLib::system() else {
        eprintln!("{DEFAULT_LIBRARY} not installed: skipped");
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
