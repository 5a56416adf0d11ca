//! The built-in animated test pattern: moving colour bars, a frame counter and
//! a clock, so a viewer sees at a glance that the picture is live.
//!
//! Cheap by construction: one bar row is built per frame and copied down;
//! only the text band is drawn pixel by pixel.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::mode::{ModeError, ModeOption, ModeRequest};
use super::{CaptureError, FrameSource, SourceFrame, SourceInfo};
use crate::encode::{EncodeError, Encoder};

/// EBU-style bars: white, yellow, cyan, green, magenta, red, blue, black.
const BARS: [[u8; 3]; 8] = [
    [235, 235, 235],
    [235, 235, 16],
    [16, 235, 235],
    [16, 235, 16],
    [235, 16, 235],
    [235, 16, 16],
    [16, 16, 235],
    [16, 16, 16],
];

/// 5x7 glyphs, one byte per row, low 5 bits used (bit 4 = leftmost).
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        'N' => [0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        _ => [0; 7],
    }
}

/// Where the clock text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time (live service).
    Wall,
    /// Derived from the frame number and fps (tests: same frame, same pixels).
    FromFrameCount,
}

/// The test pattern source.
#[derive(Debug)]
pub struct TestPattern {
    width: u32,
    height: u32,
    fps: f64,
    clock: Clock,
    frame: u64,
    row: Vec<u8>,
    ramp: Vec<u8>,
    is_open: bool,
    /// Brightness, contrast and saturation, applied to each picture.
    adjust: super::adjust::PictureAdjust,
}

impl TestPattern {
    #[must_use]
    pub fn new(width: u32, height: u32, fps: f64, clock: Clock) -> Self {
        Self {
            width: width.max(16),
            height: height.max(16),
            fps,
            clock,
            frame: 0,
            row: Vec::new(),
            ramp: Vec::new(),
            is_open: false,
            adjust: super::adjust::PictureAdjust::default(),
        }
    }

    fn clock_text(&self) -> String {
        let since_epoch = match self.clock {
            Clock::Wall => SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
            Clock::FromFrameCount => {
                Duration::from_secs_f64(self.frame as f64 / self.fps.max(0.001))
            }
        };
        let secs = since_epoch.as_secs();
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
            since_epoch.subsec_millis()
        )
    }

    /// Draw the current frame into `rgb`.
    pub fn render(&mut self, rgb: &mut Vec<u8>) {
        let (w, h) = (self.width as usize, self.height as usize);
        // A buffer of this size handed back by the encoders already holds an
        // earlier frame: its lower band is the same ramp except under the text.
        let reused = rgb.len() == w * h * 3;
        rgb.resize(w * h * 3, 0);
        // Bars move left by ~1/4 of the width per second.
        let bar_w = w.div_ceil(BARS.len());
        let shift = ((self.frame as f64 * w as f64 / (4.0 * self.fps.max(0.001))) as usize) % w;
        self.row.resize(w * 3, 0);
        for x in 0..w {
            let colour = BARS[((x + shift) % w) / bar_w % BARS.len()];
            self.row[x * 3..x * 3 + 3].copy_from_slice(&colour);
        }
        let band_top = h * 3 / 4;
        for y in 0..band_top {
            rgb[y * w * 3..(y + 1) * w * 3].copy_from_slice(&self.row);
        }
        // Lower band: a dark grey ramp (shows banding and compression) under
        // the text; one row, built once per width, copied down.
        if self.ramp.len() != w * 3 {
            self.ramp = (0..w)
                .flat_map(|x| {
                    let v = (24 + x * 48 / w) as u8;
                    [v, v, v]
                })
                .collect();
        }
        let scale = (h / 120).max(1);
        let margin = (h - band_top).saturating_sub(7 * scale) / 2;
        let text_rows = band_top + margin..(band_top + margin + 7 * scale).min(h);
        let intact = reused && rgb[(h - 1) * w * 3..] == self.ramp[..];
        for y in band_top..h {
            if intact && !text_rows.contains(&y) {
                continue;
            }
            rgb[y * w * 3..(y + 1) * w * 3].copy_from_slice(&self.ramp);
        }
        let text = format!("#{:06}  {}", self.frame, self.clock_text());
        draw_text(rgb, w, h, 8 * scale, band_top + margin, scale, &text);
    }

    /// The pattern's first `count` frames at `width` x `height` (30 fps of
    /// frame-count time) as JPEGs of quality 80: the same bytes on every
    /// run, a recording made with nothing to install.
    ///
    /// # Errors
    /// The encoder failed.
    pub fn recording(count: usize, width: u32, height: u32) -> Result<Vec<Bytes>, EncodeError> {
        let mut pattern = Self::new(width, height, 30.0, Clock::FromFrameCount);
        let mut encoder = Encoder::rust();
        let mut rgb = Vec::new();
        (0..count)
            .map(|_| {
                pattern.render(&mut rgb);
                pattern.frame += 1;
                encoder.encode_rgb(&rgb, pattern.width, pattern.height, 80)
            })
            .collect()
    }
}

/// A dark picture reading "NO SIGNAL", for viewers while the camera fails.
#[must_use]
pub fn no_signal_picture(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width.max(16) as usize, height.max(16) as usize);
    let mut rgb = vec![40u8; w * h * 3];
    let text = "NO SIGNAL";
    let scale = (w / (text.len() * 6 + 2)).clamp(1, 16);
    let x0 = w.saturating_sub(text.len() * 6 * scale) / 2;
    let y0 = h.saturating_sub(7 * scale) / 2;
    draw_text(&mut rgb, w, h, x0, y0, scale, text);
    rgb
}

/// Draw `text` in white at (`x0`, `y0`) with pixel size `scale`, clipped.
fn draw_text(rgb: &mut [u8], w: usize, h: usize, x0: usize, y0: usize, scale: usize, text: &str) {
    for (i, c) in text.chars().enumerate() {
        let gx = x0 + i * 6 * scale;
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    let y = y0 + row * scale + dy;
                    let x = gx + col * scale;
                    if y >= h || x + scale > w {
                        continue;
                    }
                    let start = (y * w + x) * 3;
                    rgb[start..start + scale * 3].fill(250);
                }
            }
        }
    }
}

impl FrameSource for TestPattern {
    fn backend(&self) -> &'static str {
        "test-pattern"
    }

    fn open(&mut self) -> Result<SourceInfo, CaptureError> {
        self.is_open = true;
        Ok(SourceInfo {
            device: "test pattern".to_owned(),
            width: self.width,
            height: self.height,
            fps: self.fps,
            pixel_format: "RGB24".to_owned(),
            self_paced: false,
        })
    }

    fn next_frame(&mut self, rgb: &mut Vec<u8>) -> Result<SourceFrame, CaptureError> {
        if !self.is_open {
            return Err(CaptureError::Other("test pattern is not open".to_owned()));
        }
        self.render(rgb);
        self.adjust.apply(rgb);
        self.frame += 1;
        Ok(SourceFrame::Rgb {
            width: self.width,
            height: self.height,
        })
    }

    fn close(&mut self) {
        self.is_open = false;
    }

    fn controls(&mut self) -> Vec<super::controls::ControlInfo> {
        self.adjust.controls()
    }

    fn set_controls(
        &mut self,
        writes: &[super::controls::Write],
    ) -> Result<(), super::controls::ControlsError> {
        self.adjust.set(writes)
    }

    fn requested_mode(&self) -> Option<ModeRequest> {
        Some(ModeRequest {
            width: self.width,
            height: self.height,
            fps: self.fps,
            device: None,
        })
    }

    fn request_mode(&mut self, mode: &ModeRequest) -> Result<(), ModeError> {
        if mode.device.is_some() {
            return Err(ModeError::Fixed(
                "the test pattern has no device: start the service with --device to use a camera"
                    .to_owned(),
            ));
        }
        self.width = mode.width.max(16);
        self.height = mode.height.max(16);
        self.fps = mode.fps;
        Ok(())
    }

    /// Any size can be drawn; these are the usual camera sizes to pick from.
    fn modes(&self) -> Vec<ModeOption> {
        const SIZES: [(u32, u32); 6] = [
            (320, 240),
            (640, 480),
            (800, 600),
            (1280, 720),
            (1920, 1080),
            (2592, 1944),
        ];
        let mut modes = super::mode::group_offers(SIZES.iter().flat_map(|&(w, h)| {
            [60.0, 30.0, 15.0, 10.0, 5.0].map(|fps| ("RGB24".to_owned(), w, h, fps))
        }));
        // The size it runs at is always on the list.
        if !modes
            .iter()
            .any(|m| (m.width, m.height) == (self.width, self.height))
        {
            modes.extend(super::mode::group_offers([(
                "RGB24".to_owned(),
                self.width,
                self.height,
                self.fps,
            )]));
        }
        modes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_frame_number_gives_same_pixels() {
        let mut a = TestPattern::new(64, 48, 10.0, Clock::FromFrameCount);
        let mut b = TestPattern::new(64, 48, 10.0, Clock::FromFrameCount);
        a.open().expect("open");
        b.open().expect("open");
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        a.next_frame(&mut pa).expect("frame");
        b.next_frame(&mut pb).expect("frame");
        assert_eq!(pa, pb);
        assert_eq!(pa.len(), 64 * 48 * 3);
    }

    #[test]
    fn a_reused_buffer_gets_the_same_picture_as_a_fresh_one() {
        // 640x480: the text sits inside the lower band, whose other rows a
        // reused buffer keeps.
        let mut a = TestPattern::new(640, 480, 10.0, Clock::FromFrameCount);
        let mut b = TestPattern::new(640, 480, 10.0, Clock::FromFrameCount);
        let (mut fresh, mut reused) = (Vec::new(), Vec::new());
        b.render(&mut reused);
        b.frame = 12_345;
        b.render(&mut reused);
        a.frame = 7;
        a.render(&mut fresh);
        b.frame = 7;
        b.render(&mut reused);
        assert!(fresh == reused, "a reused buffer differs from a fresh one");
        // A buffer of the right size that is not a picture of ours is redrawn whole.
        let mut foreign = vec![9u8; 640 * 480 * 3];
        b.render(&mut foreign);
        assert!(fresh == foreign, "a foreign buffer was not redrawn whole");
    }

    #[test]
    fn the_picture_moves_from_frame_to_frame() {
        let mut p = TestPattern::new(160, 120, 10.0, Clock::FromFrameCount);
        p.open().expect("open");
        let (mut first, mut second) = (Vec::new(), Vec::new());
        p.next_frame(&mut first).expect("frame");
        p.next_frame(&mut second).expect("frame");
        assert_ne!(first[..160 * 3], second[..160 * 3], "bars move");
        assert_ne!(first, second);
    }

    #[test]
    fn delivers_the_requested_size_and_refuses_when_closed() {
        let mut p = TestPattern::new(320, 240, 30.0, Clock::Wall);
        let mut buf = Vec::new();
        assert!(p.next_frame(&mut buf).is_err());
        let info = p.open().expect("open");
        assert_eq!((info.width, info.height), (320, 240));
        assert!(!info.self_paced);
        assert_eq!(
            p.next_frame(&mut buf).expect("frame"),
            SourceFrame::Rgb {
                width: 320,
                height: 240
            }
        );
        p.close();
        assert!(p.next_frame(&mut buf).is_err());
    }

    #[test]
    fn text_is_drawn_in_the_lower_band() {
        let mut p = TestPattern::new(240, 120, 10.0, Clock::FromFrameCount);
        p.open().expect("open");
        let mut buf = Vec::new();
        p.next_frame(&mut buf).expect("frame");
        let band = &buf[240 * 90 * 3..];
        assert!(
            band.chunks_exact(3).any(|px| px == [250, 250, 250]),
            "white text pixels"
        );
    }
}
