//! V4L2 controls of the emulated drivers, as the kernel answers them.
//!
//! Two implementations, because the kernel has two:
//!
//! - uvcvideo does not use the control framework: `uvc_v4l2.c`
//!   (`uvc_ioctl_query_ext_ctrl`, `uvc_ioctl_g_ext_ctrls`,
//!   `uvc_ioctl_s_try_ext_ctrls`, `uvc_ctrl_check_access`) and
//!   `uvc_ctrl.c` (`uvc_query_v4l2_ctrl`, `uvc_query_v4l2_menu`,
//!   `uvc_ctrl_is_accessible`, `uvc_ctrl_clamp`, `uvc_ctrl_set`,
//!   `__uvc_ctrl_commit`), behind `v4l2-ioctl.c`, which turns G_CTRL and
//!   S_CTRL into one-control G/S_EXT_CTRLS (`v4l_g_ctrl`, `v4l_s_ctrl`)
//!   after `check_ext_ctrls`, and QUERYCTRL into QUERY_EXT_CTRL;
//! - bcm2835-v4l2 registers its controls with the framework
//!   (`controls.c` of raspberrypi/linux), so `v4l2-ctrls-api.c`
//!   (`v4l2_query_ext_ctrl`, `v4l2_queryctrl`, `v4l2_querymenu`,
//!   `v4l2_g_ctrl`, `v4l2_s_ctrl`, `v4l2_g_ext_ctrls_common`,
//!   `try_set_ext_ctrls_common`, `prepare_ext_ctrls`, `validate_ctrls`) and
//!   `v4l2-ctrls-core.c` (`std_validate`, `try_or_set_cluster`) answer.
//!
//! Names, types, menus and the SLIDER/UPDATE flags are those of
//! `v4l2-ctrls-defs.c`.

use crate::config::{NodeConfig, ProfileKind};

pub const ERANGE: i32 = 34;
const EINVAL: i32 = 22;
const EACCES: i32 = 13;
const EBUSY: i32 = 16;

pub const FLAG_GRABBED: u32 = 0x0002;
pub const FLAG_READ_ONLY: u32 = 0x0004;
pub const FLAG_UPDATE: u32 = 0x0008;
pub const FLAG_INACTIVE: u32 = 0x0010;
pub const FLAG_SLIDER: u32 = 0x0020;
pub const FLAG_WRITE_ONLY: u32 = 0x0040;
pub const FLAG_NEXT_CTRL: u32 = 0x8000_0000;
pub const FLAG_NEXT_COMPOUND: u32 = 0x4000_0000;
pub const ID_MASK: u32 = 0x0fff_ffff;
pub const PRIVATE_BASE: u32 = 0x0800_0000;

pub const WHICH_CUR_VAL: u32 = 0;
pub const WHICH_DEF_VAL: u32 = 0x0f00_0000;
pub const WHICH_REQUEST_VAL: u32 = 0x0f01_0000;

pub const TYPE_INTEGER: u32 = 1;
pub const TYPE_BOOLEAN: u32 = 2;
pub const TYPE_MENU: u32 = 3;
pub const TYPE_CTRL_CLASS: u32 = 6;
pub const TYPE_INTEGER_MENU: u32 = 9;

/// `V4L2_CID_MAX_CTRLS`: more controls in one call is EINVAL.
pub const MAX_CTRLS: u32 = 1024;

const USER: u32 = 0x0098_0000;
const CODEC: u32 = 0x0099_0000;
const CAMERA: u32 = 0x009a_0000;
const JPEG: u32 = 0x009d_0000;
const fn user(n: u32) -> u32 {
    USER | 0x900 | n
}
const fn camera(n: u32) -> u32 {
    CAMERA | 0x900 | n
}
const fn codec(n: u32) -> u32 {
    CODEC | 0x900 | n
}

pub const CID_BRIGHTNESS: u32 = user(0);
pub const CID_CONTRAST: u32 = user(1);
pub const CID_SATURATION: u32 = user(2);
pub const CID_AUTO_WHITE_BALANCE: u32 = user(12);
pub const CID_RED_BALANCE: u32 = user(14);
pub const CID_BLUE_BALANCE: u32 = user(15);
pub const CID_GAIN: u32 = user(19);
pub const CID_HFLIP: u32 = user(20);
pub const CID_VFLIP: u32 = user(21);
pub const CID_POWER_LINE_FREQUENCY: u32 = user(24);
pub const CID_WHITE_BALANCE_TEMPERATURE: u32 = user(26);
pub const CID_SHARPNESS: u32 = user(27);
pub const CID_BACKLIGHT_COMPENSATION: u32 = user(28);
pub const CID_COLORFX: u32 = user(31);
pub const CID_ROTATE: u32 = user(34);
pub const CID_COLORFX_CBCR: u32 = user(42);
pub const CID_EXPOSURE_AUTO: u32 = camera(1);
pub const CID_EXPOSURE_ABSOLUTE: u32 = camera(2);
pub const CID_EXPOSURE_AUTO_PRIORITY: u32 = camera(3);
pub const CID_PAN_ABSOLUTE: u32 = camera(8);
pub const CID_TILT_ABSOLUTE: u32 = camera(9);
pub const CID_FOCUS_ABSOLUTE: u32 = camera(10);
pub const CID_FOCUS_AUTO: u32 = camera(12);
pub const CID_ZOOM_ABSOLUTE: u32 = camera(13);
pub const CID_AUTO_EXPOSURE_BIAS: u32 = camera(19);
pub const CID_AUTO_N_PRESET_WHITE_BALANCE: u32 = camera(20);
pub const CID_IMAGE_STABILIZATION: u32 = camera(22);
pub const CID_ISO_SENSITIVITY: u32 = camera(23);
pub const CID_ISO_SENSITIVITY_AUTO: u32 = camera(24);
pub const CID_EXPOSURE_METERING: u32 = camera(25);
pub const CID_SCENE_MODE: u32 = camera(26);
pub const CID_MPEG_VIDEO_BITRATE_MODE: u32 = codec(206);
pub const CID_MPEG_VIDEO_BITRATE: u32 = codec(207);
pub const CID_MPEG_VIDEO_REPEAT_SEQ_HEADER: u32 = codec(226);
pub const CID_MPEG_VIDEO_H264_I_PERIOD: u32 = codec(358);
pub const CID_MPEG_VIDEO_H264_LEVEL: u32 = codec(359);
pub const CID_MPEG_VIDEO_H264_PROFILE: u32 = codec(363);
pub const CID_JPEG_COMPRESSION_QUALITY: u32 = JPEG | 0x900 | 3;
pub const CID_USER_CLASS: u32 = USER | 1;
pub const CID_CODEC_CLASS: u32 = CODEC | 1;
pub const CID_CAMERA_CLASS: u32 = CAMERA | 1;
pub const CID_JPEG_CLASS: u32 = JPEG | 1;

/// `V4L2_CTRL_ID2WHICH`.
pub const fn id2which(id: u32) -> u32 {
    id & 0x0fff_0000
}

// The standard menus of v4l2-ctrls-defs.c (`v4l2_ctrl_get_menu`).
const POWER_LINE: &[&str] = &["Disabled", "50 Hz", "60 Hz", "Auto"];
const EXPOSURE_AUTO: &[&str] = &[
    "Auto Mode",
    "Manual Mode",
    "Shutter Priority Mode",
    "Aperture Priority Mode",
];
const COLORFX: &[&str] = &[
    "None",
    "Black & White",
    "Sepia",
    "Negative",
    "Emboss",
    "Sketch",
    "Sky Blue",
    "Grass Green",
    "Skin Whiten",
    "Vivid",
    "Aqua",
    "Art Freeze",
    "Silhouette",
    "Solarization",
    "Antique",
    "Set Cb/Cr",
];
const WHITE_BALANCE: &[&str] = &[
    "Manual",
    "Auto",
    "Incandescent",
    "Fluorescent",
    "Fluorescent H",
    "Horizon",
    "Daylight",
    "Flash",
    "Cloudy",
    "Shade",
];
const ISO_AUTO: &[&str] = &["Manual", "Auto"];
const METERING: &[&str] = &["Average", "Center Weighted", "Spot", "Matrix"];
const SCENE_MODE: &[&str] = &[
    "None",
    "Backlight",
    "Beach/Snow",
    "Candle Light",
    "Dusk/Dawn",
    "Fall Colors",
    "Fireworks",
    "Landscape",
    "Night",
    "Party/Indoor",
    "Portrait",
    "Sports",
    "Sunset",
    "Text",
];
const BITRATE_MODE: &[&str] = &["Variable Bitrate", "Constant Bitrate", "Constant Quality"];
const H264_LEVEL: &[&str] = &[
    "1", "1b", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "3.1", "3.2", "4", "4.1", "4.2", "5",
    "5.1", "5.2", "6.0", "6.1", "6.2",
];
const H264_PROFILE: &[&str] = &[
    "Baseline",
    "Constrained Baseline",
    "Main",
    "Extended",
    "High",
];
// bcm2835 controls.c `iso_qmenu` and `ev_bias_qmenu`.
const ISO_QMENU: &[i64] = &[0, 100_000, 200_000, 400_000, 800_000];
const EV_BIAS_QMENU: &[i64] = &[
    -4000, -3667, -3333, -3000, -2667, -2333, -2000, -1667, -1333, -1000, -667, -333, 0, 333, 667,
    1000, 1333, 1667, 2000, 2333, 2667, 3000, 3333, 3667, 4000,
];

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Integer,
    Boolean,
    Menu(&'static [&'static str]),
    IntMenu(&'static [i64]),
    Class,
}

impl Kind {
    pub fn type_code(self) -> u32 {
        match self {
            Kind::Integer => TYPE_INTEGER,
            Kind::Boolean => TYPE_BOOLEAN,
            Kind::Menu(_) => TYPE_MENU,
            Kind::IntMenu(_) => TYPE_INTEGER_MENU,
            Kind::Class => TYPE_CTRL_CLASS,
        }
    }
    fn is_menu(self) -> bool {
        matches!(self, Kind::Menu(_) | Kind::IntMenu(_))
    }
}

/// One control as the driver registers it.
#[derive(Clone, Copy, Debug)]
pub struct Ctrl {
    pub id: u32,
    pub name: &'static str,
    pub kind: Kind,
    pub min: i64,
    pub max: i64,
    pub step: u64,
    pub def: i64,
    /// Flags from `v4l2_ctrl_fill` (bcm2835) or the UVC control's
    /// GET/SET support (uvc).
    pub flags: u32,
    /// Menu indexes that are skipped: the framework's `menu_skip_mask`, or
    /// for uvc the modes the device's GET_RES bitmap leaves out.
    pub skip: u64,
    /// uvc: the auto control and the value of it that means manual
    /// (`mapping->master_id`, `master_manual`).
    pub master: Option<(u32, i64)>,
    /// uvc: the UVC control behind it, as the commit order: entity (0 the
    /// processing unit, 1 the camera terminal) × 32 + bmControls bit. Pan
    /// and tilt share the camera terminal's PANTILT_ABSOLUTE control.
    pub unit: u32,
    /// uvc: the UVC control's data is signed (`UVC_CTRL_DATA_TYPE_SIGNED`).
    pub signed: bool,
    /// bcm2835: the setter's errors are ignored (`ignore_errors`).
    pub ignore_errors: bool,
}

const BASE: Ctrl = Ctrl {
    id: 0,
    name: "",
    kind: Kind::Integer,
    min: 0,
    max: 0,
    step: 1,
    def: 0,
    flags: 0,
    skip: 0,
    master: None,
    unit: 0,
    signed: false,
    ignore_errors: false,
};

const fn class(id: u32, name: &'static str) -> Ctrl {
    Ctrl {
        id,
        name,
        kind: Kind::Class,
        step: 0,
        flags: FLAG_READ_ONLY | FLAG_WRITE_ONLY,
        ..BASE
    }
}

const fn int(id: u32, name: &'static str, min: i64, max: i64, step: u64, def: i64) -> Ctrl {
    Ctrl {
        id,
        name,
        min,
        max,
        step,
        def,
        ..BASE
    }
}

const fn boolean(id: u32, name: &'static str, def: i64) -> Ctrl {
    Ctrl {
        id,
        name,
        kind: Kind::Boolean,
        min: 0,
        max: 1,
        step: 1,
        def,
        ..BASE
    }
}

const fn menu(
    id: u32,
    name: &'static str,
    items: &'static [&'static str],
    max: i64,
    skip: u64,
    def: i64,
) -> Ctrl {
    Ctrl {
        id,
        name,
        kind: Kind::Menu(items),
        min: 0,
        max,
        step: 1,
        def,
        skip,
        ..BASE
    }
}

const fn uvc(c: Ctrl, unit: u32, signed: bool) -> Ctrl {
    Ctrl { unit, signed, ..c }
}

const fn slave(c: Ctrl, master: u32, manual: i64) -> Ctrl {
    Ctrl {
        master: Some((master, manual)),
        ..c
    }
}

const fn with_flags(c: Ctrl, flags: u32) -> Ctrl {
    Ctrl { flags, ..c }
}

const PU: u32 = 0;
const CT: u32 = 32;

/// A Logitech C920 under uvcvideo, sorted by id (uvcvideo enumerates by
/// id, with the class of the next control in front of it). Ranges and
/// defaults are what the camera answers to GET_MIN/MAX/RES/DEF.
const UVC_CTRLS: &[Ctrl] = &[
    class(CID_USER_CLASS, "User Controls"),
    uvc(int(CID_BRIGHTNESS, "Brightness", 0, 255, 1, 128), PU, true),
    uvc(int(CID_CONTRAST, "Contrast", 0, 255, 1, 128), PU + 1, false),
    uvc(
        int(CID_SATURATION, "Saturation", 0, 255, 1, 128),
        PU + 3,
        false,
    ),
    uvc(
        boolean(CID_AUTO_WHITE_BALANCE, "White Balance, Automatic", 1),
        PU + 12,
        false,
    ),
    uvc(int(CID_GAIN, "Gain", 0, 255, 1, 0), PU + 9, false),
    uvc(
        menu(
            CID_POWER_LINE_FREQUENCY,
            "Power Line Frequency",
            POWER_LINE,
            2,
            0,
            2,
        ),
        PU + 10,
        false,
    ),
    slave(
        uvc(
            int(
                CID_WHITE_BALANCE_TEMPERATURE,
                "White Balance Temperature",
                2000,
                6500,
                1,
                4000,
            ),
            PU + 6,
            false,
        ),
        CID_AUTO_WHITE_BALANCE,
        0,
    ),
    uvc(
        int(CID_SHARPNESS, "Sharpness", 0, 255, 1, 128),
        PU + 4,
        false,
    ),
    uvc(
        int(
            CID_BACKLIGHT_COMPENSATION,
            "Backlight Compensation",
            0,
            1,
            1,
            0,
        ),
        PU + 8,
        false,
    ),
    class(CID_CAMERA_CLASS, "Camera Controls"),
    // The C920's AE mode bitmap (GET_RES) is 0x09: Manual and Aperture
    // Priority only; GET_DEF is Aperture Priority.
    uvc(
        menu(
            CID_EXPOSURE_AUTO,
            "Auto Exposure",
            EXPOSURE_AUTO,
            3,
            (1 << 0) | (1 << 2),
            3,
        ),
        CT + 1,
        false,
    ),
    slave(
        uvc(
            int(
                CID_EXPOSURE_ABSOLUTE,
                "Exposure Time, Absolute",
                3,
                2047,
                1,
                250,
            ),
            CT + 3,
            false,
        ),
        CID_EXPOSURE_AUTO,
        1,
    ),
    uvc(
        boolean(CID_EXPOSURE_AUTO_PRIORITY, "Exposure, Dynamic Framerate", 0),
        CT + 2,
        false,
    ),
    uvc(
        int(CID_PAN_ABSOLUTE, "Pan, Absolute", -36000, 36000, 3600, 0),
        CT + 11,
        true,
    ),
    uvc(
        int(CID_TILT_ABSOLUTE, "Tilt, Absolute", -36000, 36000, 3600, 0),
        CT + 11,
        true,
    ),
    slave(
        uvc(
            int(CID_FOCUS_ABSOLUTE, "Focus, Absolute", 0, 250, 5, 0),
            CT + 5,
            false,
        ),
        CID_FOCUS_AUTO,
        0,
    ),
    uvc(
        boolean(CID_FOCUS_AUTO, "Focus, Automatic Continuous", 1),
        CT + 17,
        false,
    ),
    uvc(
        int(CID_ZOOM_ABSOLUTE, "Zoom, Absolute", 100, 500, 1, 100),
        CT + 9,
        false,
    ),
];

/// bcm2835-v4l2 `v4l2_ctrls[]` as the framework lists it: sorted by id,
/// with the class controls `handler_new_ref` adds.
const BCM_CTRLS: &[Ctrl] = &[
    class(CID_USER_CLASS, "User Controls"),
    with_flags(
        int(CID_BRIGHTNESS, "Brightness", 0, 100, 1, 50),
        FLAG_SLIDER,
    ),
    with_flags(int(CID_CONTRAST, "Contrast", -100, 100, 1, 0), FLAG_SLIDER),
    with_flags(
        int(CID_SATURATION, "Saturation", -100, 100, 1, 0),
        FLAG_SLIDER,
    ),
    with_flags(
        int(CID_RED_BALANCE, "Red Balance", 1, 7999, 1, 1000),
        FLAG_SLIDER,
    ),
    with_flags(
        int(CID_BLUE_BALANCE, "Blue Balance", 1, 7999, 1, 1000),
        FLAG_SLIDER,
    ),
    boolean(CID_HFLIP, "Horizontal Flip", 0),
    boolean(CID_VFLIP, "Vertical Flip", 0),
    menu(
        CID_POWER_LINE_FREQUENCY,
        "Power Line Frequency",
        POWER_LINE,
        3,
        0,
        1,
    ),
    with_flags(
        int(CID_SHARPNESS, "Sharpness", -100, 100, 1, 0),
        FLAG_SLIDER,
    ),
    menu(CID_COLORFX, "Color Effects", COLORFX, 15, 0, 0),
    int(CID_ROTATE, "Rotate", 0, 360, 90, 0),
    int(
        CID_COLORFX_CBCR,
        "Color Effects, CbCr",
        0,
        0xffff,
        1,
        0x8080,
    ),
    class(CID_CODEC_CLASS, "Codec Controls"),
    with_flags(
        menu(
            CID_MPEG_VIDEO_BITRATE_MODE,
            "Video Bitrate Mode",
            BITRATE_MODE,
            1,
            0,
            0,
        ),
        FLAG_UPDATE,
    ),
    int(
        CID_MPEG_VIDEO_BITRATE,
        "Video Bitrate",
        25_000,
        25_000_000,
        25_000,
        10_000_000,
    ),
    Ctrl {
        ignore_errors: true,
        ..boolean(
            CID_MPEG_VIDEO_REPEAT_SEQ_HEADER,
            "Repeat Sequence Header",
            0,
        )
    },
    int(
        CID_MPEG_VIDEO_H264_I_PERIOD,
        "H264 I-Frame Period",
        0,
        0x7fff_ffff,
        1,
        60,
    ),
    menu(
        CID_MPEG_VIDEO_H264_LEVEL,
        "H264 Level",
        H264_LEVEL,
        11,
        !0xfff,
        11,
    ),
    menu(
        CID_MPEG_VIDEO_H264_PROFILE,
        "H264 Profile",
        H264_PROFILE,
        4,
        !((1 << 0) | (1 << 1) | (1 << 2) | (1 << 4)),
        4,
    ),
    class(CID_CAMERA_CLASS, "Camera Controls"),
    menu(
        CID_EXPOSURE_AUTO,
        "Auto Exposure",
        EXPOSURE_AUTO,
        3,
        !0x03,
        0,
    ),
    int(
        CID_EXPOSURE_ABSOLUTE,
        "Exposure Time, Absolute",
        1,
        10_000,
        1,
        1000,
    ),
    boolean(CID_EXPOSURE_AUTO_PRIORITY, "Exposure, Dynamic Framerate", 0),
    Ctrl {
        id: CID_AUTO_EXPOSURE_BIAS,
        name: "Auto Exposure, Bias",
        kind: Kind::IntMenu(EV_BIAS_QMENU),
        min: 0,
        max: 24,
        def: 12,
        ..BASE
    },
    menu(
        CID_AUTO_N_PRESET_WHITE_BALANCE,
        "White Balance, Auto & Preset",
        WHITE_BALANCE,
        9,
        !0x3ff,
        1,
    ),
    boolean(CID_IMAGE_STABILIZATION, "Image Stabilization", 0),
    Ctrl {
        id: CID_ISO_SENSITIVITY,
        name: "ISO Sensitivity",
        kind: Kind::IntMenu(ISO_QMENU),
        min: 0,
        max: 4,
        def: 0,
        ..BASE
    },
    menu(
        CID_ISO_SENSITIVITY_AUTO,
        "ISO Sensitivity, Auto",
        ISO_AUTO,
        1,
        0,
        1,
    ),
    menu(
        CID_EXPOSURE_METERING,
        "Exposure, Metering Mode",
        METERING,
        2,
        !0x7,
        0,
    ),
    Ctrl {
        // ctrl_set_scene_mode returns 0 even when the firmware fails.
        ignore_errors: true,
        ..menu(
            CID_SCENE_MODE,
            "Scene Mode",
            SCENE_MODE,
            13,
            !((1 << 0) | (1 << 8) | (1 << 11)),
            0,
        )
    },
    class(CID_JPEG_CLASS, "JPEG Compression Controls"),
    int(
        CID_JPEG_COMPRESSION_QUALITY,
        "Compression Quality",
        1,
        100,
        1,
        30,
    ),
];

/// The controls of a profile (none on uvcvideo's metadata node).
pub fn table(kind: ProfileKind) -> &'static [Ctrl] {
    match kind {
        ProfileKind::Uvc => UVC_CTRLS,
        ProfileKind::UvcMeta => &[],
        ProfileKind::Bcm2835 => BCM_CTRLS,
    }
}

/// The name `v4l2-ctl` shows a control by: lower case, each run of other
/// characters one `_`, none at the ends ("Exposure Time, Absolute" →
/// `exposure_time_absolute`).
pub fn var_name(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// An errno by name (`EIO`) or number.
pub fn errno_by_name(name: &str) -> Option<i32> {
    Some(match name {
        "EPERM" => 1,
        "ENOENT" => 2,
        "EINTR" => 4,
        "EIO" => 5,
        "ENXIO" => 6,
        "EAGAIN" => 11,
        "ENOMEM" => 12,
        "EACCES" => 13,
        "EFAULT" => 14,
        "EBUSY" => 16,
        "ENODEV" => 19,
        "EINVAL" => 22,
        "ENOSPC" => 28,
        "EPIPE" => 32,
        "ERANGE" => 34,
        "EPROTO" => 71,
        "ETIMEDOUT" => 110,
        "EREMOTE" => 66,
        "EREMOTEIO" => 121,
        other => return other.parse().ok().filter(|&n: &i32| n > 0),
    })
}

/// What QUERY_EXT_CTRL fills in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Query {
    pub id: u32,
    pub type_: u32,
    pub name: &'static str,
    pub minimum: i64,
    pub maximum: i64,
    pub step: u64,
    pub default_value: i64,
    pub flags: u32,
    pub elem_size: u32,
    pub elems: u32,
}

/// A menu item: a name, or an integer menu's value.
#[derive(Clone, Copy, Debug)]
pub enum MenuItem {
    Name(&'static str),
    Value(i64),
}

/// One `struct v4l2_ext_control` as the emulation sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtCtrl {
    pub id: u32,
    pub value: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Get,
    Try,
    Set,
}

/// The control values of one device instance.
#[derive(Clone, Debug)]
pub struct Controls {
    kind: ProfileKind,
    defs: &'static [Ctrl],
    values: Vec<i64>,
}

impl Controls {
    /// Every control at its default, as the driver starts.
    pub fn new(kind: ProfileKind) -> Self {
        let defs = table(kind);
        Self {
            kind,
            defs,
            values: defs.iter().map(|c| c.def).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    fn uvc(&self) -> bool {
        self.kind == ProfileKind::Uvc
    }

    fn index(&self, id: u32) -> Option<usize> {
        self.defs.iter().position(|c| c.id == id)
    }

    /// A control that can hold a value (not a class).
    fn value_index(&self, id: u32) -> Option<usize> {
        self.index(id)
            .filter(|&i| !matches!(self.defs[i].kind, Kind::Class))
    }

    fn value_of(&self, id: u32) -> Option<i64> {
        self.index(id).map(|i| self.values[i])
    }

    /// `name=value` of every control, in enumeration order.
    pub fn state_lines(&self) -> String {
        let mut out = String::new();
        for (c, v) in self.defs.iter().zip(&self.values) {
            if !matches!(c.kind, Kind::Class) {
                out.push_str(&format!("{}={v}\n", var_name(c.name)));
            }
        }
        out
    }

    fn grabbed(&self, cfg: &NodeConfig, c: &Ctrl) -> bool {
        // uvcvideo never grabs a control (no v4l2_ctrl_grab).
        !self.uvc() && cfg.controls_grabbed.iter().any(|n| *n == var_name(c.name))
    }

    fn fault(cfg: &NodeConfig, c: &Ctrl) -> Option<i32> {
        let name = var_name(c.name);
        cfg.control_fail
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, e)| e)
    }

    fn flags(&self, cfg: &NodeConfig, c: &Ctrl) -> u32 {
        let mut flags = c.flags;
        if let Some((master, manual)) = c.master {
            // __uvc_query_v4l2_ctrl: INACTIVE while the master is not manual.
            if self.value_of(master).is_some_and(|v| v != manual) {
                flags |= FLAG_INACTIVE;
            }
        }
        if self.grabbed(cfg, c) {
            flags |= FLAG_GRABBED;
        }
        flags
    }

    /// VIDIOC_QUERY_EXT_CTRL (`v4l2_query_ext_ctrl`, `uvc_query_v4l2_ctrl`).
    pub fn query(&self, cfg: &NodeConfig, id: u32) -> Result<Query, i32> {
        let next = id & (FLAG_NEXT_CTRL | FLAG_NEXT_COMPOUND);
        let wanted = id & ID_MASK;
        let i = if next == 0 {
            self.index(wanted).ok_or(EINVAL)?
        } else if next == FLAG_NEXT_COMPOUND {
            // Only compound controls, and neither driver has one.
            return Err(EINVAL);
        } else {
            self.defs.iter().position(|c| c.id > wanted).ok_or(EINVAL)?
        };
        let c = &self.defs[i];
        // uvcvideo's QUERY_EXT_CTRL built from QUERYCTRL (before it had a
        // handler of its own) reports elem_size 4 and elems 1 for every
        // entry, the class ones too, as the framework does.
        let (elem_size, elems) = (4, 1);
        Ok(Query {
            id: c.id,
            type_: c.kind.type_code(),
            name: c.name,
            minimum: c.min,
            maximum: c.max,
            step: if c.kind.is_menu() { 1 } else { c.step },
            default_value: c.def,
            flags: self.flags(cfg, c),
            elem_size,
            elems,
        })
    }

    /// VIDIOC_QUERYMENU (`v4l2_querymenu`, `uvc_query_v4l2_menu`).
    pub fn querymenu(&self, id: u32, index: u32) -> Result<MenuItem, i32> {
        if self.uvc() && index >= 32 {
            return Err(EINVAL);
        }
        let c = &self.defs[self.index(id).ok_or(EINVAL)?];
        let i = i64::from(index);
        if i < c.min || i > c.max || (index < 64 && c.skip & (1 << index) != 0) {
            return Err(EINVAL);
        }
        match c.kind {
            Kind::Menu(items) => match items.get(index as usize) {
                Some(name) if !name.is_empty() => Ok(MenuItem::Name(name)),
                _ => Err(EINVAL),
            },
            Kind::IntMenu(values) if !self.uvc() => values
                .get(index as usize)
                .map(|&v| MenuItem::Value(v))
                .ok_or(EINVAL),
            _ => Err(EINVAL),
        }
    }

    /// VIDIOC_G_CTRL.
    pub fn g_ctrl(&self, cfg: &NodeConfig, id: u32) -> Result<i32, i32> {
        if self.uvc() {
            let mut one = [ExtCtrl { id, value: 0 }];
            let mut error_idx = 0;
            self.uvc_get(id2which(id), &mut one, &mut error_idx)?;
            return Ok(one[0].value);
        }
        let _ = cfg;
        let c = &self.defs[self.index(id).ok_or(EINVAL)?];
        if c.flags & FLAG_WRITE_ONLY != 0 {
            return Err(EACCES);
        }
        Ok(self.values[self.index(id).ok_or(EINVAL)?] as i32)
    }

    /// VIDIOC_S_CTRL; the value the control took.
    pub fn s_ctrl(&mut self, cfg: &NodeConfig, id: u32, value: i32) -> Result<i32, i32> {
        if self.uvc() {
            let mut one = [ExtCtrl { id, value }];
            let mut error_idx = 0;
            // v4l_s_ctrl: which = the id's class, as check_ext_ctrls wants.
            self.ext(cfg, Op::Set, id2which(id), &mut one, &mut error_idx)?;
            return Ok(one[0].value);
        }
        let i = self.index(id).ok_or(EINVAL)?;
        let c = self.defs[i];
        if c.flags & FLAG_READ_ONLY != 0 {
            return Err(EACCES);
        }
        let v = core_validate(&c, value)?;
        if self.grabbed(cfg, &c) {
            return Err(EBUSY);
        }
        self.core_commit(cfg, i, v)?;
        Ok(self.values[i] as i32)
    }

    /// `try_or_set_cluster` for a one-control cluster: no change, no
    /// s_ctrl; a failing s_ctrl leaves the value as it was.
    fn core_commit(&mut self, cfg: &NodeConfig, i: usize, v: i32) -> Result<(), i32> {
        let c = self.defs[i];
        if self.values[i] == i64::from(v) {
            return Ok(());
        }
        if let Some(errno) = Self::fault(cfg, &c)
            && !c.ignore_errors
        {
            return Err(errno);
        }
        self.values[i] = i64::from(v);
        Ok(())
    }

    /// VIDIOC_G/TRY/S_EXT_CTRLS after `v4l2-ioctl.c` set `error_idx` to
    /// `count`. `ctrls` are the caller's controls, changed in place (the
    /// kernel copies them back even on failure).
    pub fn ext(
        &mut self,
        cfg: &NodeConfig,
        op: Op,
        which: u32,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        let count = ctrls.len() as u32;
        *error_idx = count;
        if self.uvc() {
            check_ext_ctrls(op, which, ctrls, error_idx)?;
            return match op {
                Op::Get => self.uvc_get(which, ctrls, error_idx),
                _ => self.uvc_set(cfg, op, ctrls, error_idx),
            };
        }
        match op {
            Op::Get => self.core_get(which, ctrls, error_idx),
            _ => self.core_set(cfg, op, which, ctrls, error_idx),
        }
    }

    /// `uvc_ctrl_is_accessible` for one control of the call.
    fn uvc_accessible(&self, id: u32, op: Op, ctrls: &[ExtCtrl]) -> Result<(), i32> {
        let i = self.index(id).ok_or(EINVAL)?;
        let c = &self.defs[i];
        if matches!(c.kind, Kind::Class) {
            return Err(EACCES);
        }
        if op != Op::Set {
            return Ok(());
        }
        let Some((master, manual)) = c.master else {
            return Ok(());
        };
        // The master's last value in this call, or its current value.
        let master_value = ctrls
            .iter()
            .rev()
            .find(|x| x.id == master)
            .map(|x| i64::from(x.value))
            .or_else(|| self.value_of(master));
        match master_value {
            Some(v) if v != manual => Err(EACCES),
            _ => Ok(()),
        }
    }

    /// `uvc_ctrl_check_access`: every control first; error_idx is the
    /// control for TRY, `count` for G and S.
    fn uvc_check_access(&self, op: Op, ctrls: &[ExtCtrl], error_idx: &mut u32) -> Result<(), i32> {
        let mut result = Ok(());
        let mut i = 0;
        while i < ctrls.len() {
            result = self.uvc_accessible(ctrls[i].id, op, ctrls);
            if result.is_err() {
                break;
            }
            i += 1;
        }
        *error_idx = if op == Op::Try {
            i as u32
        } else {
            ctrls.len() as u32
        };
        result
    }

    /// `uvc_ioctl_g_ext_ctrls`.
    fn uvc_get(&self, which: u32, ctrls: &mut [ExtCtrl], error_idx: &mut u32) -> Result<(), i32> {
        if ctrls.is_empty() {
            return Ok(());
        }
        self.uvc_check_access(Op::Get, ctrls, error_idx)?;
        for x in ctrls.iter_mut() {
            let i = self.value_index(x.id).ok_or(EINVAL)?;
            x.value = if which == WHICH_DEF_VAL {
                self.defs[i].def
            } else {
                self.values[i]
            } as i32;
        }
        *error_idx = 0;
        Ok(())
    }

    /// `uvc_ioctl_s_try_ext_ctrls`: access checks, then `uvc_ctrl_set`
    /// (clamping in place) for each, then for S `uvc_ctrl_commit`, which
    /// writes the UVC controls entity by entity in the device's order.
    fn uvc_set(
        &mut self,
        cfg: &NodeConfig,
        op: Op,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        if ctrls.is_empty() {
            return Ok(());
        }
        self.uvc_check_access(op, ctrls, error_idx)?;
        let mut pending: Vec<(usize, i64)> = Vec::new();
        for (n, x) in ctrls.iter_mut().enumerate() {
            let i = self.value_index(x.id).ok_or(EINVAL);
            let clamped = i.and_then(|i| uvc_clamp(&self.defs[i], x.value).map(|v| (i, v)));
            match clamped {
                Ok((i, v)) => {
                    x.value = v;
                    pending.retain(|&(j, _)| j != i);
                    pending.push((i, i64::from(v)));
                }
                Err(errno) => {
                    *error_idx = if op == Op::Set {
                        ctrls.len() as u32
                    } else {
                        n as u32
                    };
                    return Err(errno);
                }
            }
        }
        *error_idx = 0;
        if op == Op::Try {
            return Ok(());
        }
        // Dirty UVC controls in commit order: entity, then bmControls bit.
        let mut units: Vec<u32> = pending.iter().map(|&(i, _)| self.defs[i].unit).collect();
        units.sort_unstable();
        units.dedup();
        let mut failed: Option<(u32, i32)> = None;
        for unit in units {
            let members: Vec<&(usize, i64)> = pending
                .iter()
                .filter(|&&(i, _)| self.defs[i].unit == unit)
                .collect();
            let fault = members
                .iter()
                .find_map(|&&(i, _)| Self::fault(cfg, &self.defs[i]));
            if failed.is_some() {
                continue; // rolled back
            }
            if let Some(errno) = fault {
                failed = Some((unit, errno));
                continue;
            }
            for &&(i, v) in &members {
                self.values[i] = v;
            }
        }
        if let Some((unit, errno)) = failed {
            // uvc_ctrl_find_ctrl_idx: the first control of the call that
            // is this UVC control.
            *error_idx = ctrls
                .iter()
                .position(|x| self.index(x.id).is_some_and(|i| self.defs[i].unit == unit))
                .map_or(ctrls.len() as u32, |p| p as u32);
            return Err(errno);
        }
        Ok(())
    }

    /// `prepare_ext_ctrls` (ids and the class in `which`).
    fn core_prepare(&self, which: u32, ctrls: &[ExtCtrl], error_idx: &mut u32) -> Result<(), i32> {
        for (n, x) in ctrls.iter().enumerate() {
            *error_idx = n as u32;
            let id = x.id & ID_MASK;
            if which != 0
                && which != WHICH_DEF_VAL
                && which != WHICH_REQUEST_VAL
                && id2which(id) != which
            {
                return Err(EINVAL);
            }
            if id >= PRIVATE_BASE {
                return Err(EINVAL);
            }
            self.index(id).ok_or(EINVAL)?;
        }
        Ok(())
    }

    /// `class_check` for a call with no controls.
    fn core_class_check(&self, which: u32) -> Result<(), i32> {
        if which == 0 || which == WHICH_DEF_VAL || which == WHICH_REQUEST_VAL {
            return Ok(());
        }
        self.index(which | 1).map(|_| ()).ok_or(EINVAL)
    }

    /// `v4l2_g_ext_ctrls_common`.
    fn core_get(&self, which: u32, ctrls: &mut [ExtCtrl], error_idx: &mut u32) -> Result<(), i32> {
        if which == WHICH_REQUEST_VAL {
            // Requests need a media device, which bcm2835-v4l2 has not.
            return Err(EINVAL);
        }
        let count = ctrls.len() as u32;
        let which = id2which(which);
        if ctrls.is_empty() {
            return self.core_class_check(which);
        }
        let prepared = self.core_prepare(which, ctrls, error_idx);
        *error_idx = count;
        prepared?;
        for x in ctrls.iter() {
            let c = &self.defs[self.index(x.id & ID_MASK).ok_or(EINVAL)?];
            if c.flags & FLAG_WRITE_ONLY != 0 {
                return Err(EACCES);
            }
        }
        for (n, x) in ctrls.iter_mut().enumerate() {
            *error_idx = n as u32;
            let i = self.index(x.id & ID_MASK).ok_or(EINVAL)?;
            x.value = if which == WHICH_DEF_VAL {
                self.defs[i].def
            } else {
                self.values[i]
            } as i32;
        }
        Ok(())
    }

    /// `try_set_ext_ctrls_common`: every control is validated before any
    /// is set (error_idx `count` for S, the control for TRY); then each
    /// (a one-control cluster in bcm2835-v4l2) is set in the caller's
    /// order, so a driver failure leaves the earlier ones set and
    /// error_idx at the failing one.
    fn core_set(
        &mut self,
        cfg: &NodeConfig,
        op: Op,
        which: u32,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        let count = ctrls.len() as u32;
        if which == WHICH_DEF_VAL || which == WHICH_REQUEST_VAL {
            return Err(EINVAL);
        }
        let which = id2which(which);
        if ctrls.is_empty() {
            return self.core_class_check(which);
        }
        let mut checked = self.core_prepare(which, ctrls, error_idx);
        if checked.is_ok() {
            // validate_ctrls
            *error_idx = count;
            for (n, x) in ctrls.iter().enumerate() {
                *error_idx = n as u32;
                let c = &self.defs[self.index(x.id & ID_MASK).ok_or(EINVAL)?];
                if c.flags & FLAG_READ_ONLY != 0 {
                    checked = Err(EACCES);
                } else if op == Op::Set && self.grabbed(cfg, c) {
                    checked = Err(EBUSY);
                } else {
                    checked = core_validate(c, x.value).map(|_| ());
                }
                if checked.is_err() {
                    break;
                }
            }
        }
        if checked.is_err() && op == Op::Set {
            *error_idx = count;
        }
        checked?;
        for (n, x) in ctrls.iter_mut().enumerate() {
            *error_idx = n as u32;
            let i = self.index(x.id & ID_MASK).ok_or(EINVAL)?;
            let v = core_validate(&self.defs[i], x.value)?;
            if op == Op::Set {
                self.core_commit(cfg, i, v)?;
            }
            x.value = v;
        }
        Ok(())
    }
}

/// `check_ext_ctrls` of `v4l2-ioctl.c`, before a driver's own handler.
fn check_ext_ctrls(op: Op, which: u32, ctrls: &[ExtCtrl], error_idx: &mut u32) -> Result<(), i32> {
    match which {
        WHICH_DEF_VAL => {
            if op != Op::Get {
                *error_idx = ctrls.len() as u32;
                return Err(EINVAL);
            }
            return Ok(());
        }
        WHICH_CUR_VAL => return Ok(()),
        WHICH_REQUEST_VAL => {
            *error_idx = ctrls.len() as u32;
            return Err(EINVAL);
        }
        _ => {}
    }
    for (n, x) in ctrls.iter().enumerate() {
        if id2which(x.id) != which {
            *error_idx = if op == Op::Try {
                n as u32
            } else {
                ctrls.len() as u32
            };
            return Err(EINVAL);
        }
    }
    Ok(())
}

/// `uvc_ctrl_clamp`: integers rounded to the step and clamped (a negative
/// value of an unsigned UVC control clamps to the maximum, as the kernel's
/// `clamp_t(u32, …)` does), booleans clamped to 0..1, menus ERANGE outside
/// min..max and EINVAL for a mode the device does not offer.
fn uvc_clamp(c: &Ctrl, value: i32) -> Result<i32, i32> {
    match c.kind {
        Kind::Integer => {
            let (min, max) = (c.min as i32, c.max as i32);
            let step = if c.step == 0 { 1 } else { c.step as u32 };
            let x = value.wrapping_sub(min) as u32;
            let q = x.wrapping_add(step / 2) / step;
            let v = (min as u32).wrapping_add(q.wrapping_mul(step)) as i32;
            Ok(if c.signed {
                v.clamp(min, max)
            } else {
                (v as u32).clamp(min as u32, max as u32) as i32
            })
        }
        Kind::Boolean => Ok(value.clamp(0, 1)),
        Kind::Menu(_) | Kind::IntMenu(_) => {
            if i64::from(value) < c.min || i64::from(value) > c.max {
                Err(ERANGE)
            } else if c.skip & (1 << value) != 0 {
                Err(EINVAL)
            } else {
                Ok(value)
            }
        }
        Kind::Class => Err(EACCES),
    }
}

/// `std_validate` of `v4l2-ctrls-core.c` for 32-bit controls: integers
/// `ROUND_TO_RANGE`, booleans `!!`, menus ERANGE outside min..max and
/// EINVAL for a skipped or empty item.
fn core_validate(c: &Ctrl, value: i32) -> Result<i32, i32> {
    match c.kind {
        Kind::Integer => {
            let (min, max) = (c.min as i32, c.max as i32);
            let step = c.step as u32;
            let half = (step / 2) as i32;
            let mut val = if max >= 0 && value >= max.wrapping_sub(half) {
                max
            } else {
                value.wrapping_add(half)
            };
            val = val.clamp(min, max);
            let offset = val.wrapping_sub(min) as u32;
            let offset = if step == 0 {
                offset
            } else {
                step * (offset / step)
            };
            Ok(min.wrapping_add(offset as i32))
        }
        Kind::Boolean => Ok(i32::from(value != 0)),
        Kind::Menu(items) => {
            if i64::from(value) < c.min || i64::from(value) > c.max {
                return Err(ERANGE);
            }
            if c.skip & (1u64 << value) != 0
                || items.get(value as usize).is_none_or(|n| n.is_empty())
            {
                return Err(EINVAL);
            }
            Ok(value)
        }
        Kind::IntMenu(_) => {
            if i64::from(value) < c.min || i64::from(value) > c.max {
                return Err(ERANGE);
            }
            if c.skip & (1u64 << value) != 0 {
                return Err(EINVAL);
            }
            Ok(value)
        }
        Kind::Class => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_v4l2_ctl_shows_them() {
        assert_eq!(
            var_name("Exposure Time, Absolute"),
            "exposure_time_absolute"
        );
        assert_eq!(
            var_name("White Balance, Auto & Preset"),
            "white_balance_auto_preset"
        );
        assert_eq!(var_name("H264 I-Frame Period"), "h264_i_frame_period");
    }

    #[test]
    fn tables_are_sorted_by_id() {
        for t in [UVC_CTRLS, BCM_CTRLS] {
            assert!(t.windows(2).all(|w| w[0].id < w[1].id));
        }
    }

    #[test]
    fn rounding_follows_the_kernel() {
        let pan = UVC_CTRLS.iter().find(|c| c.id == CID_PAN_ABSOLUTE).unwrap();
        assert_eq!(uvc_clamp(pan, 5000), Ok(3600));
        assert_eq!(uvc_clamp(pan, 90000), Ok(36000));
        let contrast = UVC_CTRLS.iter().find(|c| c.id == CID_CONTRAST).unwrap();
        assert_eq!(uvc_clamp(contrast, -5), Ok(255), "clamp_t(u32, …)");
        let rotate = BCM_CTRLS.iter().find(|c| c.id == CID_ROTATE).unwrap();
        assert_eq!(core_validate(rotate, 100), Ok(90));
        assert_eq!(core_validate(rotate, 300), Ok(270));
        assert_eq!(core_validate(rotate, 1000), Ok(360));
        assert_eq!(core_validate(rotate, -20), Ok(0));
    }
}
