//! The controls of each emulated camera.

use super::*;
use crate::config::ProfileKind;

pub(super) const PU: u32 = 0;
pub(super) const CT: u32 = 32;

/// A Logitech C920 under uvcvideo, sorted by id (uvcvideo enumerates by
/// id, with the class of the next control in front of it). Ranges and
/// defaults are what the camera answers to GET_MIN/MAX/RES/DEF.
pub(super) const UVC_CTRLS: &[Ctrl] = &[
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
pub(super) const BCM_CTRLS: &[Ctrl] = &[
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
