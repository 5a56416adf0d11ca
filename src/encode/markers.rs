//! The frame header (SOF) of a JPEG, read from its markers the way libjpeg
//! reads them: bytes between segments that are not a marker are skipped
//! (libjpeg warns and goes on), so a picture libjpeg decodes is one this
//! finds the size of. Used to check what libjpeg-turbo says about a header
//! (some releases report the previous picture's size for a stream with no
//! frame header) and to name an oversize picture's size.

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// Width and height of the first frame header, or `None` when the data
/// does not start with SOI or has no frame header before its first scan
/// or its end.
#[must_use]
pub fn frame_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    if jpeg.get(..2) != Some(&[0xFF, SOI]) {
        return None;
    }
    let mut pos = 2;
    loop {
        // Up to the next 0xFF, past fill bytes, to a byte that is neither
        // 0xFF nor a stuffed zero.
        pos += jpeg.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        while jpeg.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *jpeg.get(pos)?;
        pos += 1;
        match marker {
            0x00 | 0x01 | 0xD0..=0xD7 => continue,
            SOI | EOI | SOS => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(pos)?, *jpeg.get(pos + 1)?]));
        if is_sof(marker) {
            // Length(2), precision(1), height(2), width(2).
            let h = jpeg.get(pos + 3..pos + 7)?;
            let height = u16::from_be_bytes([h[0], h[1]]);
            let width = u16::from_be_bytes([h[2], h[3]]);
            return Some((u32::from(width), u32::from(height)));
        }
        if len < 2 {
            return None;
        }
        pos += len;
    }
}

/// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_sof(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let rgb = vec![90u8; usize::from(w) * usize::from(h) * 3];
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        out
    }

    #[test]
    fn the_frame_header_gives_the_size() {
        assert_eq!(frame_size(&jpeg(64, 40)), Some((64, 40)));
        assert_eq!(frame_size(&jpeg(1, 1)), Some((1, 1)));
    }

    #[test]
    fn garbage_between_segments_is_skipped_as_libjpeg_does() {
        let j = jpeg(33, 17);
        let mut g = j[..2].to_vec();
        g.extend_from_slice(b"junk\0\xFF\0more");
        g.extend_from_slice(&j[2..]);
        assert_eq!(frame_size(&g), Some((33, 17)));
    }

    #[test]
    fn no_frame_header_is_none() {
        for bad in [
            &b"\xFF\xD8 not a jpeg"[..],
            b"not a jpeg",
            b"",
            b"\xFF\xD8",
            b"\xFF\xD8\xFF\xD9",
            b"\xFF\xD8\xFF\xDA\x00\x02",
            b"\xFF\xD8\xFF\xC0\x00",
        ] {
            assert_eq!(frame_size(bad), None, "{bad:?}");
        }
        let j = jpeg(16, 16);
        let sof = j.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF");
        assert_eq!(
            frame_size(&j[..sof + 5]),
            None,
            "cut inside the frame header"
        );
    }
}
