//! Choosing the camera mode (pixel format, size, frame rate) closest to what
//! was asked. Pure: it sees the list the camera offers, never the device.

use std::fmt;

/// The pixel formats this service can use, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PixelFormat {
    /// Motion JPEG: the camera compresses; frames can be passed through.
    Mjpeg,
    /// Packed 4:2:2, converted to RGB here.
    Yuyv,
    /// Planar 4:2:0, converted to RGB here.
    Nv12,
}

impl PixelFormat {
    /// From a V4L2 fourcc; `None` for formats this service cannot use.
    pub fn from_fourcc(fourcc: [u8; 4]) -> Option<Self> {
        match &fourcc {
            b"MJPG" | b"JPEG" => Some(Self::Mjpeg),
            b"YUYV" => Some(Self::Yuyv),
            b"NV12" => Some(Self::Nv12),
            _ => None,
        }
    }

    /// The V4L2 fourcc to ask the driver for.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            Self::Mjpeg => *b"MJPG",
            Self::Yuyv => *b"YUYV",
            Self::Nv12 => *b"NV12",
        }
    }

    /// Name as reported in `SourceInfo::pixel_format` and in payloads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mjpeg => "MJPEG",
            Self::Yuyv => "YUYV",
            Self::Nv12 => "NV12",
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One mode a camera offers. The frame interval is kept as V4L2 gives it
/// (`num/den` seconds), so 30000/1001 stays exact when it is set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub fourcc: [u8; 4],
    pub width: u32,
    pub height: u32,
    pub interval_num: u32,
    pub interval_den: u32,
}

impl Mode {
    /// A mode at a whole frame rate, e.g. `Mode::new(b"MJPG", 1280, 720, 30)`.
    pub const fn new(fourcc: &[u8; 4], width: u32, height: u32, fps: u32) -> Self {
        Self {
            fourcc: *fourcc,
            width,
            height,
            interval_num: 1,
            interval_den: fps,
        }
    }

    /// Frames per second (0 when the interval is unknown).
    pub fn fps(&self) -> f64 {
        if self.interval_num == 0 {
            0.0
        } else {
            f64::from(self.interval_den) / f64::from(self.interval_num)
        }
    }

    pub fn pixel_format(&self) -> Option<PixelFormat> {
        PixelFormat::from_fourcc(self.fourcc)
    }
}

/// What the configuration asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Request {
    #[must_use]
    pub const fn new(width: u32, height: u32, fps: u32) -> Self {
        Self { width, height, fps }
    }
}

/// Two sizes count as "near" when their distance (see [`size_distance`]) is
/// at most this: about a 1.2× area ratio at the same aspect. Within it the
/// camera's MJPEG is preferred over an exact raw size.
const NEAR: f64 = 0.2;

/// How far apart two sizes are: |ln(area ratio)| + |ln(aspect ratio)|.
/// Zero for the same size; 640x480 → 800x600 is 0.45, 640x480 → 640x360 is
/// 0.58 (a different aspect costs more than a little more area).
pub fn size_distance(width: u32, height: u32, req_width: u32, req_height: u32) -> f64 {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let (rw, rh) = (f64::from(req_width.max(1)), f64::from(req_height.max(1)));
    ((w * h) / (rw * rh)).ln().abs() + ((w / h) / (rw / rh)).ln().abs()
}

/// Picks the mode to open.
///
/// 1. Only formats this service can use (MJPEG, YUYV, NV12) count.
/// 2. The closest size by [`size_distance`] sets the bar; every size within
///    [`NEAR`] of it is a candidate.
/// 3. Among candidates: a frame rate ≥ the requested one first, then MJPEG
///    before raw formats (the camera compresses, passthrough is possible, and
///    USB 2 cameras give raw formats only at low rates at large sizes), then
///    the closer size, then the frame rate nearest the request among those
///    that meet it (30 over 30000/1001 when 30 is asked; or the highest
///    available if none meets it).
///
/// `None` when the camera offers nothing usable.
pub fn choose(offers: &[Mode], req: &Request) -> Option<Mode> {
    let usable: Vec<(&Mode, PixelFormat, f64)> = offers
        .iter()
        .filter(|m| m.width > 0 && m.height > 0)
        .filter_map(|m| {
            let pf = m.pixel_format()?;
            Some((
                m,
                pf,
                size_distance(m.width, m.height, req.width, req.height),
            ))
        })
        .collect();
    let best = usable
        .iter()
        .map(|(_, _, d)| *d)
        .fold(f64::INFINITY, f64::min);
    // A little slack so that rounding (e.g. 30000/1001 vs 30) does not count.
    let wanted_fps = f64::from(req.fps) - 0.5;
    usable
        .into_iter()
        .filter(|(_, _, d)| *d <= best + NEAR)
        .min_by(|(a, apf, ad), (b, bpf, bd)| {
            let (a_ok, b_ok) = (a.fps() >= wanted_fps, b.fps() >= wanted_fps);
            b_ok.cmp(&a_ok)
                .then(apf.cmp(bpf))
                .then(ad.total_cmp(bd))
                .then_with(|| {
                    if a_ok {
                        // The rate asked exactly (30 over 30000/1001), else
                        // the nearest one.
                        let asked = f64::from(req.fps);
                        (a.fps() - asked).abs().total_cmp(&(b.fps() - asked).abs())
                    } else {
                        b.fps().total_cmp(&a.fps())
                    }
                })
        })
        .map(|(m, _, _)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(width: u32, height: u32, fps: u32) -> Request {
        Request { width, height, fps }
    }

    /// A typical USB 2 UVC webcam (modelled on a Logitech C920's list):
    /// MJPEG at 30 fps at every size, YUYV at 30 fps only up to 640x480.
    fn uvc_webcam() -> Vec<Mode> {
        let mut modes = Vec::new();
        for (w, h) in [
            (640, 480),
            (160, 90),
            (320, 240),
            (800, 600),
            (1280, 720),
            (1920, 1080),
        ] {
            for fps in [30, 24, 20, 15, 10, 5] {
                modes.push(Mode::new(b"MJPG", w, h, fps));
            }
        }
        for (w, h, max) in [
            (640, 480, 30),
            (320, 240, 30),
            (800, 600, 24),
            (1280, 720, 10),
            (1920, 1080, 5),
        ] {
            for fps in [30, 24, 20, 15, 10, 5].into_iter().filter(|f| *f <= max) {
                modes.push(Mode::new(b"YUYV", w, h, fps));
            }
        }
        modes
    }

    /// A cheap camera that only does YUYV, and the Pi camera through the
    /// legacy bcm2835 driver (which also offers formats we cannot use).
    fn yuyv_only() -> Vec<Mode> {
        vec![
            Mode::new(b"YUYV", 640, 480, 30),
            Mode::new(b"YUYV", 352, 288, 30),
            Mode::new(b"YUYV", 1280, 1024, 8),
        ]
    }

    #[test]
    fn what_the_webcam_gives_for_each_request() {
        let webcam = uvc_webcam();
        // (request: width, height, fps; the mode chosen)
        let cases = [
            // Exact MJPEG is chosen over exact YUYV.
            ((640, 480, 30), Mode::new(b"MJPG", 640, 480, 30)),
            // HD goes to MJPEG because YUYV is slow there.
            ((1280, 720, 30), Mode::new(b"MJPG", 1280, 720, 30)),
            ((1920, 1080, 15), Mode::new(b"MJPG", 1920, 1080, 15)),
            // The lowest rate that meets the request.
            ((640, 480, 12), Mode::new(b"MJPG", 640, 480, 15)),
        ];
        for ((width, height, fps), chosen) in cases {
            let request = req(width, height, fps);
            assert_eq!(choose(&webcam, &request), Some(chosen), "{request:?}");
        }
    }

    #[test]
    fn highest_rate_when_none_meets_the_request() {
        let m = choose(&yuyv_only(), &req(1280, 1024, 30)).expect("a mode");
        assert_eq!(m, Mode::new(b"YUYV", 1280, 1024, 8));
    }

    #[test]
    fn unlisted_size_goes_to_the_closest_by_area_and_aspect() {
        // 1024x576 is 16:9: 1280x720 is closer than 800x600 (4:3).
        let m = choose(&uvc_webcam(), &req(1024, 576, 30)).expect("a mode");
        assert_eq!((m.width, m.height), (1280, 720));
        // 700x500 (about 4:3, between 640x480 and 800x600 by area).
        let m = choose(&uvc_webcam(), &req(700, 500, 30)).expect("a mode");
        assert_eq!((m.width, m.height), (640, 480));
    }

    #[test]
    fn the_format_chosen_between_two_offers() {
        let cases = [
            // Raw at the exact size wins when MJPEG is far.
            (
                [(b"MJPG", 1920, 1080, 30), (b"YUYV", 640, 480, 30)],
                Some(b"YUYV"),
            ),
            // MJPEG at a near size beats raw at the exact size.
            (
                [(b"YUYV", 640, 480, 30), (b"MJPG", 640, 512, 30)],
                Some(b"MJPG"),
            ),
            // Rate beats format preference: raw at the asked rate is better
            // than MJPEG at a third of it.
            (
                [(b"MJPG", 640, 480, 10), (b"NV12", 640, 480, 30)],
                Some(b"NV12"),
            ),
            // YUYV before NV12.
            (
                [(b"NV12", 640, 480, 30), (b"YUYV", 640, 480, 30)],
                Some(b"YUYV"),
            ),
            // Unusable formats are skipped, not fatal.
            (
                [(b"H264", 640, 480, 30), (b"YUYV", 320, 240, 30)],
                Some(b"YUYV"),
            ),
            // Nothing usable.
            ([(b"H264", 1920, 1080, 30), (b"GREY", 640, 480, 30)], None),
        ];
        for (offers, chosen) in cases {
            let offers = offers.map(|(fourcc, w, h, fps)| Mode::new(fourcc, w, h, fps));
            let got = choose(&offers, &req(640, 480, 30)).map(|m| m.fourcc);
            assert_eq!(got, chosen.copied(), "{offers:?}");
        }
        assert_eq!(choose(&[], &req(640, 480, 30)), None);
    }

    #[test]
    fn ntsc_rates_count_as_thirty() {
        let ntsc = Mode {
            fourcc: *b"MJPG",
            width: 640,
            height: 480,
            interval_num: 1001,
            interval_den: 30000,
        };
        let offers = [ntsc, Mode::new(b"MJPG", 640, 480, 60)];
        assert_eq!(choose(&offers, &req(640, 480, 30)), Some(ntsc));
        assert!((ntsc.fps() - 29.97).abs() < 0.01);
        // Offered beside it, the rate asked is taken exactly, in either order.
        let thirty = Mode::new(b"MJPG", 640, 480, 30);
        for offers in [[ntsc, thirty], [thirty, ntsc]] {
            assert_eq!(choose(&offers, &req(640, 480, 30)), Some(thirty));
        }
    }

    #[test]
    fn fourcc_names() {
        assert_eq!(PixelFormat::from_fourcc(*b"MJPG"), Some(PixelFormat::Mjpeg));
        assert_eq!(
            PixelFormat::from_fourcc(*b"YUYV").map(PixelFormat::name),
            Some("YUYV")
        );
        assert_eq!(PixelFormat::Nv12.fourcc(), *b"NV12");
        assert_eq!(PixelFormat::from_fourcc(*b"H264"), None);
    }
}
