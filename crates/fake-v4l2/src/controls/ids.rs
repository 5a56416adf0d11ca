//! Error numbers, flags, types and control ids of the V4L2 uAPI
//! (`videodev2.h`, `v4l2-controls.h`), and the standard menus of
//! `v4l2-ctrls-defs.c`.

pub const ERANGE: i32 = 34;
pub(super) const EINVAL: i32 = 22;
pub(super) const EACCES: i32 = 13;
pub(super) const EBUSY: i32 = 16;

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

pub(super) const USER: u32 = 0x0098_0000;
pub(super) const CODEC: u32 = 0x0099_0000;
pub(super) const CAMERA: u32 = 0x009a_0000;
pub(super) const JPEG: u32 = 0x009d_0000;
pub(super) const fn user(n: u32) -> u32 {
    (USER | 0x900) + n
}
pub(super) const fn camera(n: u32) -> u32 {
    (CAMERA | 0x900) + n
}
pub(super) const fn codec(n: u32) -> u32 {
    (CODEC | 0x900) + n
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
pub(super) const POWER_LINE: &[&str] = &["Disabled", "50 Hz", "60 Hz", "Auto"];
pub(super) const EXPOSURE_AUTO: &[&str] = &[
    "Auto Mode",
    "Manual Mode",
    "Shutter Priority Mode",
    "Aperture Priority Mode",
];
pub(super) const COLORFX: &[&str] = &[
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
pub(super) const WHITE_BALANCE: &[&str] = &[
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
pub(super) const ISO_AUTO: &[&str] = &["Manual", "Auto"];
pub(super) const METERING: &[&str] = &["Average", "Center Weighted", "Spot", "Matrix"];
pub(super) const SCENE_MODE: &[&str] = &[
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
pub(super) const BITRATE_MODE: &[&str] =
    &["Variable Bitrate", "Constant Bitrate", "Constant Quality"];
pub(super) const H264_LEVEL: &[&str] = &[
    "1", "1b", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "3.1", "3.2", "4", "4.1", "4.2", "5",
    "5.1", "5.2", "6.0", "6.1", "6.2",
];
pub(super) const H264_PROFILE: &[&str] = &[
    "Baseline",
    "Constrained Baseline",
    "Main",
    "Extended",
    "High",
];
// bcm2835 controls.c `iso_qmenu` and `ev_bias_qmenu`.
pub(super) const ISO_QMENU: &[i64] = &[0, 100_000, 200_000, 400_000, 800_000];
pub(super) const EV_BIAS_QMENU: &[i64] = &[
    -4000, -3667, -3333, -3000, -2667, -2333, -2000, -1667, -1333, -1000, -667, -333, 0, 333, 667,
    1000, 1333, 1667, 2000, 2333, 2667, 3000, 3333, 3667, 4000,
];
