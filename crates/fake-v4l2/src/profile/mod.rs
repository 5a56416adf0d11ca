//! What each emulated driver offers and how it negotiates: formats, sizes,
//! frame intervals, format rounding and stride, identity and capabilities.
//!
//! - `uvc`, `uvc-meta`: `drivers/media/usb/uvc/uvc_v4l2.c`
//!   (`uvc_v4l2_try_format`: closest size by non-overlapping area, the
//!   frame's default interval after every S_FMT, `bytesperline` =
//!   bpp × width / 8 and 0 for compressed formats, `sizeimage` =
//!   dwMaxVideoFrameBufferSize; `uvc_v4l2_set_streamparm` and
//!   `uvc_try_frame_interval`: the nearest offered interval, written back in
//!   100 ns units simplified by `v4l2_simplify_fraction(…, 8, 333)`),
//!   `uvc_metadata.c` (the metadata node) and `v4l2-ioctl.c`
//!   (`v4l_querycap`, `v4l_fill_fmtdesc`).
//! - `bcm2835`: `drivers/staging/vc04_services/bcm2835-camera/bcm2835-camera.c`
//!   of raspberrypi/linux (`formats[]`, `vidioc_try_fmt_vid_cap`: width and
//!   height clamped to 32..max and made even, stride padded to 32 pixels
//!   for formats whose padding the GPU keeps, `sizeimage` for 16-line and
//!   32-pixel aligned planes; stepwise sizes and continuous intervals
//!   1/90..1/1; `vidioc_s_parm` clamps).

mod negotiate;
pub use negotiate::uvc_fraction;
use negotiate::*;

use crate::config::{NodeConfig, ProfileKind};
use crate::uapi::*;

/// A format as ENUM_FMT lists it.
#[derive(Clone, Copy, Debug)]
pub struct FormatDesc {
    pub fourcc: u32,
    /// bcm2835 `depth` (bits per pixel of the buffer), uvc bits per pixel.
    pub depth: u32,
    /// bcm2835 bytes per pixel of the first plane (`ybbp`).
    pub ybbp: u32,
    /// bcm2835: the GPU removes the stride padding (planar formats).
    pub remove_padding: bool,
}

/// The negotiated image format of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub fourcc: u32,
    pub width: u32,
    pub height: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
}

/// The description `v4l_fill_fmtdesc` gives a format.
pub fn description(fourcc: u32) -> &'static str {
    match fourcc {
        PIX_FMT_MJPEG => "Motion-JPEG",
        PIX_FMT_JPEG => "JFIF JPEG",
        PIX_FMT_YUYV => "YUYV 4:2:2",
        PIX_FMT_YVYU => "YVYU 4:2:2",
        PIX_FMT_UYVY => "UYVY 4:2:2",
        PIX_FMT_VYUY => "VYUY 4:2:2",
        PIX_FMT_H264 => "H.264",
        PIX_FMT_RGB24 => "24-bit RGB 8-8-8",
        PIX_FMT_BGR24 => "24-bit BGR 8-8-8",
        PIX_FMT_YUV420 => "Planar YUV 4:2:0",
        PIX_FMT_YVU420 => "Planar YVU 4:2:0",
        PIX_FMT_NV12 => "Y/UV 4:2:0",
        PIX_FMT_NV21 => "Y/VU 4:2:0",
        PIX_FMT_BGRX32 => "32-bit XBGR 8-8-8-8",
        META_FMT_UVC => "UVC Payload Header Metadata",
        _ => "",
    }
}

/// Compressed formats get `V4L2_FMT_FLAG_COMPRESSED` from `v4l_fill_fmtdesc`.
pub fn compressed(fourcc: u32) -> bool {
    matches!(fourcc, PIX_FMT_MJPEG | PIX_FMT_JPEG | PIX_FMT_H264)
}

/// `struct v4l2_capability` strings and capability bits of a node.
pub struct Identity {
    pub driver: &'static str,
    pub card: String,
    pub bus: String,
    pub capabilities: u32,
    pub device_caps: u32,
}

/// UVC frame descriptors: size and `dwFrameInterval`s in 100 ns units,
/// shortest first (as `uvc_try_frame_interval` expects).
const UVC_MJPG: &[(u32, u32, &[u32])] = &[
    (1280, 720, &[333_333, 333_667, 666_667]),
    (640, 480, &[333_333, 333_667, 666_667]),
    (320, 240, &[333_333, 333_667, 666_667]),
];
/// YUYV at 1280x720 needs more than USB 2 carries at 30 fps: 10 and 5 only.
const UVC_YUYV: &[(u32, u32, &[u32])] = &[
    (640, 480, &[333_333, 333_667, 666_667]),
    (320, 240, &[333_333, 333_667, 666_667]),
    (1280, 720, &[1_000_000, 2_000_000]),
];

/// `UVC_METADATA_BUF_MIN_SIZE`.
pub const UVC_META_BUFFER_SIZE: u32 = 10_240;

const BCM_FORMATS: &[FormatDesc] = &[
    bcm(PIX_FMT_YUV420, 12, 1, true),
    bcm(PIX_FMT_YUYV, 16, 2, false),
    bcm(PIX_FMT_RGB24, 24, 3, false),
    bcm(PIX_FMT_JPEG, 8, 0, false),
    bcm(PIX_FMT_H264, 8, 0, false),
    bcm(PIX_FMT_MJPEG, 8, 0, false),
    bcm(PIX_FMT_YVYU, 16, 2, false),
    bcm(PIX_FMT_VYUY, 16, 2, false),
    bcm(PIX_FMT_UYVY, 16, 2, false),
    bcm(PIX_FMT_NV12, 12, 1, true),
    bcm(PIX_FMT_BGR24, 24, 3, false),
    bcm(PIX_FMT_YVU420, 12, 1, true),
    bcm(PIX_FMT_NV21, 12, 1, true),
    bcm(PIX_FMT_BGRX32, 32, 4, false),
];

const fn bcm(fourcc: u32, depth: u32, ybbp: u32, remove_padding: bool) -> FormatDesc {
    FormatDesc {
        fourcc,
        depth,
        ybbp,
        remove_padding,
    }
}

const BCM_MIN: u32 = 32;
/// The OV5647 (camera module v1) as the firmware reports it.
const BCM_MAX_WIDTH: u32 = 2592;
const BCM_MAX_HEIGHT: u32 = 1944;
const BCM_MIN_BUFFER_SIZE: u32 = 80 * 1024;
pub const BCM_TPF_MIN: Fract = Fract {
    numerator: 1,
    denominator: 90,
};
pub const BCM_TPF_MAX: Fract = Fract {
    numerator: 1,
    denominator: 1,
};
pub const BCM_TPF_DEFAULT: Fract = Fract {
    numerator: 1000,
    denominator: 30000,
};

/// How a profile lists sizes for one format.
pub enum FrameSizes {
    Discrete(Vec<(u32, u32)>),
    Stepwise(FrmSizeStepwise),
}

/// How a profile lists intervals for one size.
pub enum FrameIntervals {
    Discrete(Vec<Fract>),
    Continuous(FrmIvalStepwise),
}

/// The behaviour of one emulated driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub kind: ProfileKind,
}

impl Profile {
    pub fn new(kind: ProfileKind) -> Self {
        Self { kind }
    }

    pub fn identity(&self, config: &NodeConfig) -> Identity {
        let card = |default: &str| config.card.clone().unwrap_or_else(|| default.to_owned());
        let bus = |default: &str| config.bus.clone().unwrap_or_else(|| default.to_owned());
        // uvcvideo: `capabilities` is the chain's capabilities (every node
        // of the device) | DEVICE_CAPS; v4l_querycap adds EXT_PIX_FORMAT to
        // both fields.
        let uvc_all = CAP_VIDEO_CAPTURE
            | CAP_META_CAPTURE
            | CAP_STREAMING
            | CAP_DEVICE_CAPS
            | CAP_EXT_PIX_FORMAT;
        match self.kind {
            ProfileKind::Uvc => Identity {
                driver: "uvcvideo",
                card: card("HD Webcam C525"),
                bus: bus("usb-0000:00:14.0-1"),
                capabilities: uvc_all,
                device_caps: CAP_VIDEO_CAPTURE | CAP_STREAMING | CAP_EXT_PIX_FORMAT,
            },
            ProfileKind::UvcMeta => Identity {
                driver: "uvcvideo",
                card: card("HD Webcam C525"),
                bus: bus("usb-0000:00:14.0-1"),
                capabilities: uvc_all,
                device_caps: CAP_META_CAPTURE | CAP_STREAMING | CAP_EXT_PIX_FORMAT,
            },
            ProfileKind::Bcm2835 => {
                let device_caps =
                    CAP_VIDEO_CAPTURE | CAP_VIDEO_OVERLAY | CAP_STREAMING | CAP_READWRITE;
                Identity {
                    driver: "bcm2835 mmal",
                    card: card("mmal service 16.1"),
                    bus: bus("platform:bcm2835-v4l2-0"),
                    capabilities: device_caps | CAP_DEVICE_CAPS | CAP_EXT_PIX_FORMAT,
                    device_caps: device_caps | CAP_EXT_PIX_FORMAT,
                }
            }
        }
    }

    /// The buffer type of the node's one queue.
    pub fn buf_type(&self) -> u32 {
        match self.kind {
            ProfileKind::UvcMeta => BUF_TYPE_META_CAPTURE,
            _ => BUF_TYPE_VIDEO_CAPTURE,
        }
    }

    /// `vb2_queue.timestamp_flags`.
    pub fn timestamp_flags(&self) -> u32 {
        match self.kind {
            ProfileKind::Bcm2835 => BUF_FLAG_TIMESTAMP_MONOTONIC,
            _ => BUF_FLAG_TIMESTAMP_MONOTONIC | BUF_FLAG_TSTAMP_SRC_SOE,
        }
    }

    fn all_formats(&self) -> Vec<FormatDesc> {
        match self.kind {
            ProfileKind::Uvc => vec![
                FormatDesc {
                    fourcc: PIX_FMT_MJPEG,
                    depth: 0,
                    ybbp: 0,
                    remove_padding: false,
                },
                FormatDesc {
                    fourcc: PIX_FMT_YUYV,
                    depth: 16,
                    ybbp: 2,
                    remove_padding: false,
                },
            ],
            ProfileKind::UvcMeta => vec![FormatDesc {
                fourcc: META_FMT_UVC,
                depth: 0,
                ybbp: 0,
                remove_padding: false,
            }],
            ProfileKind::Bcm2835 => BCM_FORMATS.to_vec(),
        }
    }

    /// The formats ENUM_FMT lists, in order.
    pub fn formats(&self, config: &NodeConfig) -> Vec<FormatDesc> {
        let mut all = self.all_formats();
        if let Some(only) = &config.formats {
            all.retain(|f| only.contains(&f.fourcc));
        }
        all
    }

    fn uvc_frames(fourcc: u32) -> &'static [(u32, u32, &'static [u32])] {
        if fourcc == PIX_FMT_YUYV {
            UVC_YUYV
        } else {
            UVC_MJPG
        }
    }

    pub fn frame_sizes(&self, fourcc: u32) -> FrameSizes {
        match self.kind {
            ProfileKind::Bcm2835 => FrameSizes::Stepwise(FrmSizeStepwise {
                min_width: BCM_MIN,
                max_width: BCM_MAX_WIDTH,
                step_width: 2,
                min_height: BCM_MIN,
                max_height: BCM_MAX_HEIGHT,
                step_height: 2,
            }),
            _ => FrameSizes::Discrete(
                Self::uvc_frames(fourcc)
                    .iter()
                    .map(|&(w, h, _)| (w, h))
                    .collect(),
            ),
        }
    }

    /// Intervals for `fourcc` at `width`x`height`, or `None` (EINVAL).
    pub fn frame_intervals(&self, fourcc: u32, width: u32, height: u32) -> Option<FrameIntervals> {
        match self.kind {
            ProfileKind::Bcm2835 => {
                let inside = (BCM_MIN..=BCM_MAX_WIDTH).contains(&width)
                    && (BCM_MIN..=BCM_MAX_HEIGHT).contains(&height);
                inside.then_some(FrameIntervals::Continuous(FrmIvalStepwise {
                    min: BCM_TPF_MIN,
                    max: BCM_TPF_MAX,
                    step: Fract {
                        numerator: 1,
                        denominator: 1,
                    },
                }))
            }
            _ => Self::uvc_frames(fourcc)
                .iter()
                .find(|&&(w, h, _)| w == width && h == height)
                .map(|&(_, _, ivals)| {
                    FrameIntervals::Discrete(ivals.iter().map(|&i| uvc_fraction(i)).collect())
                }),
        }
    }

    /// The format the node has before anyone sets one.
    pub fn default_mode(&self, config: &NodeConfig) -> Mode {
        match self.kind {
            ProfileKind::Bcm2835 => {
                // bcm2835_mmal_init_device: JPEG 1024x768 until S_FMT.
                let mut pix = PixFormat {
                    width: 1024,
                    height: 768,
                    pixelformat: PIX_FMT_JPEG,
                    ..PixFormat::default()
                };
                self.try_fmt(config, &mut pix)
            }
            _ => {
                let first = self
                    .formats(config)
                    .first()
                    .map_or(PIX_FMT_MJPEG, |f| f.fourcc);
                let (w, h, _) = Self::uvc_frames(first)[0];
                let mut pix = PixFormat {
                    width: w,
                    height: h,
                    pixelformat: first,
                    ..PixFormat::default()
                };
                self.try_fmt(config, &mut pix)
            }
        }
    }

    /// TRY_FMT: rounds `pix` in place as the driver does and returns the mode.
    pub fn try_fmt(&self, config: &NodeConfig, pix: &mut PixFormat) -> Mode {
        let formats = self.formats(config);
        match self.kind {
            ProfileKind::Bcm2835 => bcm_try_fmt(&formats, pix),
            _ => uvc_try_fmt(&formats, pix),
        }
    }

    /// The interval after S_FMT to `mode` (uvc: the frame's default).
    pub fn default_interval(&self, mode: &Mode) -> Fract {
        match self.kind {
            ProfileKind::Bcm2835 => BCM_TPF_DEFAULT,
            _ => uvc_fraction(uvc_intervals(mode)[0]),
        }
    }

    /// S_PARM: the interval the driver takes for `wanted` at `mode`.
    pub fn choose_interval(&self, mode: &Mode, wanted: Fract) -> Fract {
        match self.kind {
            ProfileKind::Bcm2835 => {
                let tpf = if wanted.denominator == 0 {
                    BCM_TPF_DEFAULT
                } else {
                    wanted
                };
                if less(tpf, BCM_TPF_MIN) {
                    BCM_TPF_MIN
                } else if less(BCM_TPF_MAX, tpf) {
                    BCM_TPF_MAX
                } else {
                    tpf
                }
            }
            _ => {
                let interval = if wanted.denominator == 0 {
                    0
                } else {
                    (u64::from(wanted.numerator) * 10_000_000 / u64::from(wanted.denominator))
                        .min(u64::from(u32::MAX)) as u32
                };
                uvc_fraction(uvc_try_frame_interval(uvc_intervals(mode), interval))
            }
        }
    }

    /// The length of each buffer REQBUFS allocates for `mode`.
    pub fn buffer_size(&self, mode: &Mode) -> u32 {
        match self.kind {
            ProfileKind::UvcMeta => UVC_META_BUFFER_SIZE,
            _ => mode.sizeimage,
        }
    }
}

#[cfg(test)]
mod tests;
