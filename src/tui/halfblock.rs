//! Half-block picture: JPEG → small RGB → terminal cells of `▀`.
//!
//! Each cell shows two pixels: the foreground colour is the upper pixel, the
//! background the lower one. Everything here is a pure function of its input
//! so it can be tested and measured alone. Decoding runs on the UI task at the
//! preview rate only, never on the capture thread.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

pub use super::color::{ColorMode, Rgb};

/// The glyph whose upper half takes the foreground colour.
pub const UPPER_HALF: &str = "▀";

/// At most this many samples per axis are averaged for one output pixel: an
/// area average for small ratios, an even subsample of the box for large ones
/// (1280 → 80 averages 4×4 of the 16×15 box), which keeps 720p → 80×48 far
/// under a millisecond.
pub const MAX_TAPS: usize = 4;

/// Largest picture the preview decodes (guards memory against a bad header).
const MAX_DECODE_SIDE: usize = 8192;

/// One terminal cell: the upper pixel, and the lower one unless the picture
/// has an odd number of rows and this is the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfCell {
    pub upper: Rgb,
    pub lower: Option<Rgb>,
}

/// A picture as half-block cells, `width` columns by `rows` rows, row-major.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cells {
    pub width: usize,
    pub rows: usize,
    pub cells: Vec<HalfCell>,
}

impl Cells {
    /// The cell at column `x`, row `y`.
    #[must_use]
    pub fn get(&self, x: usize, y: usize) -> Option<HalfCell> {
        (x < self.width)
            .then(|| self.cells.get(y * self.width + x).copied())
            .flatten()
    }

    /// Draw at `origin` (top-left), clipped to `area`.
    pub fn render(&self, origin: (u16, u16), area: Rect, mode: ColorMode, buf: &mut Buffer) {
        for (y, row) in self.cells.chunks(self.width.max(1)).enumerate() {
            let Some(cy) = u16::try_from(y).ok().and_then(|y| origin.1.checked_add(y)) else {
                break;
            };
            if cy >= area.bottom() {
                break;
            }
            for (x, cell) in row.iter().enumerate() {
                let Some(cx) = u16::try_from(x).ok().and_then(|x| origin.0.checked_add(x)) else {
                    break;
                };
                if cx >= area.right() {
                    break;
                }
                let bg = cell.lower.map_or(Color::Reset, |p| mode.color(p));
                if let Some(c) = buf.cell_mut((cx, cy)) {
                    c.set_symbol(UPPER_HALF)
                        .set_fg(mode.color(cell.upper))
                        .set_bg(bg);
                }
            }
        }
    }
}

/// Pixel `(x, y)` of a packed RGB buffer, black when out of range.
fn pixel(rgb: &[u8], width: usize, x: usize, y: usize) -> Rgb {
    let i = (y * width + x) * 3;
    match rgb.get(i..i + 3) {
        Some(&[r, g, b]) => [r, g, b],
        _ => [0, 0, 0],
    }
}

/// Turn a packed RGB picture (`width × height`, 3 bytes per pixel) into
/// half-block cells: `width` columns, `ceil(height / 2)` rows. A short buffer
/// reads as black rather than panicking.
#[must_use]
pub fn half_blocks(rgb: &[u8], width: usize, height: usize) -> Cells {
    let rows = height.div_ceil(2);
    let mut cells = Vec::with_capacity(width * rows);
    for row in 0..rows {
        let top = row * 2;
        for x in 0..width {
            cells.push(HalfCell {
                upper: pixel(rgb, width, x, top),
                lower: (top + 1 < height).then(|| pixel(rgb, width, x, top + 1)),
            });
        }
    }
    Cells { width, rows, cells }
}

/// The largest pixel size with the picture's aspect ratio that fits `cols ×
/// rows` cells (two pixels per cell vertically, about square on screen).
#[must_use]
pub fn fit(src_w: usize, src_h: usize, cols: usize, rows: usize) -> (usize, usize) {
    let (grid_w, grid_h) = (cols, rows * 2);
    if src_w == 0 || src_h == 0 || grid_w == 0 || grid_h == 0 {
        return (0, 0);
    }
    // Compare src_w / src_h with grid_w / grid_h without floats.
    if src_w * grid_h >= grid_w * src_h {
        let h = (grid_w * src_h + src_w / 2) / src_w;
        (grid_w, h.clamp(1, grid_h))
    } else {
        let w = (grid_h * src_w + src_h / 2) / src_h;
        (w.clamp(1, grid_w), grid_h)
    }
}

/// For each output index, up to `MAX_TAPS` source indices spread evenly over
/// its box (at least the nearest one when enlarging).
fn taps(src: usize, dst: usize) -> Vec<Vec<usize>> {
    (0..dst)
        .map(|d| {
            let start = d * src / dst;
            let end = ((d + 1) * src / dst).max(start + 1).min(src);
            let len = end - start;
            let n = len.min(MAX_TAPS);
            (0..n)
                .map(|k| start + (2 * k + 1) * len / (2 * n))
                .collect()
        })
        .collect()
}

/// Shrink (or enlarge) a packed RGB picture to `dst_w × dst_h` by averaging
/// up to `MAX_TAPS × MAX_TAPS` samples of each output pixel's box.
#[must_use]
pub fn downscale(rgb: &[u8], src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Vec<u8> {
    if src_w == 0 || src_h == 0 || rgb.len() < src_w * src_h * 3 {
        return vec![0; dst_w * dst_h * 3];
    }
    let xs = taps(src_w, dst_w);
    let ys = taps(src_h, dst_h);
    let mut out = Vec::with_capacity(dst_w * dst_h * 3);
    for row_taps in &ys {
        for col_taps in &xs {
            let mut sum = [0u32; 3];
            for &sy in row_taps {
                let line = sy * src_w;
                for &sx in col_taps {
                    let i = (line + sx) * 3;
                    sum[0] += u32::from(rgb[i]);
                    sum[1] += u32::from(rgb[i + 1]);
                    sum[2] += u32::from(rgb[i + 2]);
                }
            }
            let n = u32::try_from((row_taps.len() * col_taps.len()).max(1)).unwrap_or(1);
            out.extend(sum.map(|s| u8::try_from((s + n / 2) / n).unwrap_or(u8::MAX)));
        }
    }
    out
}

/// A decoded picture, packed RGB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl RgbImage {
    /// Half-block cells of this picture fitted into `cols × rows`, and the
    /// fitted cell size (for letterboxing).
    #[must_use]
    pub fn to_cells(&self, cols: usize, rows: usize) -> Cells {
        let (w, h) = fit(self.width, self.height, cols, rows);
        if w == 0 || h == 0 {
            return Cells::default();
        }
        let small = downscale(&self.pixels, self.width, self.height, w, h);
        half_blocks(&small, w, h)
    }
}

/// Decode a JPEG into RGB, reusing `into`'s buffer. Errors are text for the pane.
pub fn decode_jpeg(jpeg: &[u8], into: &mut RgbImage) -> Result<(), String> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(MAX_DECODE_SIDE)
        .set_max_height(MAX_DECODE_SIDE);
    let mut decoder = JpegDecoder::new_with_options(jpeg, options);
    decoder.decode_headers().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions().ok_or("no dimensions")?;
    let size = decoder.output_buffer_size().ok_or("picture too large")?;
    if size != width * height * 3 {
        return Err(format!(
            "unexpected output size {size} for {width}x{height}"
        ));
    }
    into.pixels.resize(size, 0);
    decoder
        .decode_into(&mut into.pixels)
        .map_err(|e| e.to_string())?;
    into.width = width;
    into.height = height;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rgb = [255, 0, 0];
    const G: Rgb = [0, 255, 0];
    const B: Rgb = [0, 0, 255];
    const W: Rgb = [255, 255, 255];

    fn image(rows: &[&[Rgb]]) -> Vec<u8> {
        rows.iter()
            .flat_map(|r| r.iter().flatten().copied())
            .collect()
    }

    #[test]
    fn a_4x4_picture_gives_upper_and_lower_pixels_per_cell() {
        let rgb = image(&[&[R, G, B, W], &[W, B, G, R], &[G, G, R, R], &[B, B, W, W]]);
        let cells = half_blocks(&rgb, 4, 4);
        assert_eq!((cells.width, cells.rows), (4, 2));
        let expect = [
            (0, 0, R, W),
            (1, 0, G, B),
            (2, 0, B, G),
            (3, 0, W, R),
            (0, 1, G, B),
            (3, 1, R, W),
        ];
        for (x, y, up, low) in expect {
            assert_eq!(
                cells.get(x, y),
                Some(HalfCell {
                    upper: up,
                    lower: Some(low)
                }),
                "cell ({x},{y})"
            );
        }
    }

    #[test]
    fn an_odd_last_row_has_no_lower_pixel_and_short_input_is_black() {
        let rgb = image(&[&[R, G], &[B, W], &[W, R]]);
        let cells = half_blocks(&rgb, 2, 3);
        assert_eq!(cells.rows, 2);
        assert_eq!(
            cells.get(1, 1),
            Some(HalfCell {
                upper: R,
                lower: None
            })
        );
        let short = half_blocks(&rgb[..6], 2, 2);
        assert_eq!(short.get(0, 0).map(|c| c.lower), Some(Some([0, 0, 0])));
    }

    #[test]
    fn fit_keeps_the_aspect_ratio() {
        // 4:3 into 80x24 cells = 80x48 px: height bound, width 64.
        assert_eq!(fit(640, 480, 80, 24), (64, 48));
        // 16:9 into 40x30 cells = 40x60 px: width bound.
        assert_eq!(fit(1280, 720, 40, 30), (40, 23));
        assert_eq!(fit(0, 480, 80, 24), (0, 0));
        assert_eq!(fit(640, 480, 80, 0), (0, 0));
    }

    #[test]
    fn downscale_averages_each_box() {
        // 4x2 → 2x1: left box R,G,W,B ; right box B,W,G,R.
        let rgb = image(&[&[R, G, B, W], &[W, B, G, R]]);
        let out = downscale(&rgb, 4, 2, 2, 1);
        assert_eq!(out, vec![128, 128, 128, 128, 128, 128]);
        // Enlarging picks the nearest pixel.
        let up = downscale(&image(&[&[R, B]]), 2, 1, 4, 1);
        assert_eq!(up, image(&[&[R, R, B, B]]));
    }

    #[test]
    fn decodes_a_jpeg_and_rejects_garbage() {
        let mut rgb = Vec::new();
        for _ in 0..16 * 8 {
            rgb.extend_from_slice(&[200, 30, 30]);
        }
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90)
            .encode(&rgb, 16, 8, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        let mut img = RgbImage::default();
        decode_jpeg(&jpeg, &mut img).expect("decode");
        assert_eq!(
            (img.width, img.height, img.pixels.len()),
            (16, 8, 16 * 8 * 3)
        );
        assert!(
            img.pixels[0] > 150 && img.pixels[1] < 80,
            "{:?}",
            &img.pixels[..3]
        );
        assert!(decode_jpeg(b"not a jpeg", &mut img).is_err());
    }
}
