//! A cheap sanity check of a camera's JPEG before it is served as is.
//!
//! It walks the markers up to the frame header (SOF) and looks at both ends of
//! the buffer; it never decodes the picture, so it costs microseconds per
//! frame. It catches what cameras actually deliver when something goes wrong
//! (truncated frames after a USB hiccup, empty or garbage buffers), not a
//! damaged entropy-coded body.

use super::CaptureError;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// `data` without the zeros some cameras put after the end-of-image marker
/// (they report the whole buffer as used); unchanged when what precedes the
/// zeros is not an end-of-image marker, so that [`validate`] still sees a
/// truncated frame as one.
#[must_use]
pub fn trim_padding(data: &[u8]) -> &[u8] {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if end < data.len() && end >= 2 && data[end - 2] == 0xFF && data[end - 1] == EOI {
        &data[..end]
    } else {
        data
    }
}

/// Checks that `data` looks like one whole JPEG and returns its
/// `(width, height)` from the frame header.
///
/// Accepted: starts with SOI, ends with EOI (zero bytes after EOI are
/// tolerated: some UVC cameras pad their frames), and a baseline or
/// progressive frame header with a non-zero size comes before the scan.
///
/// # Errors
/// `CaptureError::Corrupt` saying what is wrong.
pub fn validate(data: &[u8]) -> Result<(u32, u32), CaptureError> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != SOI {
        return Err(corrupt("no start-of-image marker"));
    }
    let end = data.len() - data.iter().rev().take_while(|&&b| b == 0).count();
    if end < 4 || data[end - 2] != 0xFF || data[end - 1] != EOI {
        return Err(corrupt("no end-of-image marker (truncated frame?)"));
    }
    let body = &data[..end];
    let mut pos = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if body.get(pos) != Some(&0xFF) {
            return Err(corrupt(&format!("expected a marker at byte {pos}")));
        }
        while body.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = body.get(pos) else {
            return Err(corrupt("ends inside a marker"));
        };
        pos += 1;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            SOI | EOI => return Err(corrupt("image ends before its frame header")),
            SOS => return Err(corrupt("scan starts before the frame header")),
            _ => {}
        }
        let len = match body.get(pos..pos + 2) {
            Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Err(corrupt("ends inside a segment length")),
        };
        if len < 2 {
            return Err(corrupt("segment length below 2"));
        }
        if is_sof(marker) {
            // Length(2), precision(1), height(2), width(2).
            let Some(h) = body.get(pos + 3..pos + 7) else {
                return Err(corrupt("ends inside the frame header"));
            };
            let height = u32::from(u16::from_be_bytes([h[0], h[1]]));
            let width = u32::from(u16::from_be_bytes([h[2], h[3]]));
            if width == 0 || height == 0 {
                return Err(corrupt(&format!("frame header says {width}x{height}")));
            }
            return Ok((width, height));
        }
        pos += len;
    }
}

/// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_sof(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

fn corrupt(why: &str) -> CaptureError {
    CaptureError::Corrupt(format!("invalid JPEG: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder};

    fn encode(width: u16, height: u16) -> Vec<u8> {
        let rgb: Vec<u8> = (0..usize::from(width) * usize::from(height) * 3)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut out = Vec::new();
        Encoder::new(&mut out, 80)
            .encode(&rgb, width, height, ColorType::Rgb)
            .expect("encoding into a Vec cannot fail");
        out
    }

    #[test]
    fn valid_jpeg_gives_its_size() {
        assert_eq!(validate(&encode(64, 48)), Ok((64, 48)));
        assert_eq!(validate(&encode(1, 1)), Ok((1, 1)));
        assert_eq!(validate(&encode(641, 479)), Ok((641, 479)));
    }

    #[test]
    fn trailing_zero_padding_is_tolerated() {
        let mut jpeg = encode(32, 16);
        jpeg.extend_from_slice(&[0; 1000]);
        assert_eq!(validate(&jpeg), Ok((32, 16)));
    }

    #[test]
    fn padding_is_trimmed_to_the_end_marker() {
        let jpeg = encode(32, 16);
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 1000]);
        assert_eq!(trim_padding(&padded), &jpeg[..]);
        assert_eq!(trim_padding(&jpeg), &jpeg[..]);
        // A truncated frame keeps its zeros: validation must still refuse it.
        let mut cut = jpeg[..jpeg.len() / 2].to_vec();
        cut.extend_from_slice(&[0; 64]);
        assert_eq!(trim_padding(&cut).len(), cut.len());
        assert!(trim_padding(&[0; 16]).len() == 16);
        assert!(trim_padding(&[]).is_empty());
    }

    #[test]
    fn trailing_garbage_is_not() {
        let mut jpeg = encode(32, 16);
        jpeg.extend_from_slice(&[0x12, 0x34, 0, 0]);
        assert!(matches!(validate(&jpeg), Err(CaptureError::Corrupt(_))));
    }

    #[test]
    fn truncated_jpeg_is_corrupt() {
        let jpeg = encode(64, 48);
        for cut in [jpeg.len() - 1, jpeg.len() / 2, 10, 3, 2, 0] {
            let r = validate(&jpeg[..cut]);
            assert!(
                matches!(r, Err(CaptureError::Corrupt(_))),
                "cut at {cut}: {r:?}"
            );
        }
    }

    #[test]
    fn truncated_then_zero_padded_is_corrupt() {
        // What a camera delivers when a USB transfer is lost mid-frame.
        let jpeg = encode(64, 48);
        let mut damaged = jpeg[..jpeg.len() / 2].to_vec();
        damaged.extend_from_slice(&[0; 64]);
        assert!(matches!(validate(&damaged), Err(CaptureError::Corrupt(_))));
    }

    #[test]
    fn garbage_is_corrupt() {
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 256) as u8).collect();
        assert!(validate(&garbage).is_err());
        assert!(validate(&[0; 4096]).is_err());
        assert!(validate(&[0xFF, 0xD8, 0xFF, 0xD9]).is_err());
        // SOI, a segment whose length runs past the end, EOI.
        assert!(validate(&[0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0x00, 0xFF, 0xD9]).is_err());
    }

    #[test]
    fn frame_header_with_zero_size_is_corrupt() {
        let mut jpeg = encode(16, 16);
        crate::encode::claim_size(&mut jpeg, 16, 0);
        assert!(matches!(validate(&jpeg), Err(CaptureError::Corrupt(_))));
    }
}
