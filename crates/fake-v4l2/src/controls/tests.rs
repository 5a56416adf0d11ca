use super::tables::{BCM_CTRLS, UVC_CTRLS};
use super::uvc::uvc_clamp;
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
