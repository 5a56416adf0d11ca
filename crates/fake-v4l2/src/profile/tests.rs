use super::*;

#[test]
fn uvc_intervals_simplify_as_the_kernel_does() {
    assert_eq!(
        uvc_fraction(333_333),
        Fract {
            numerator: 1,
            denominator: 30
        }
    );
    assert_eq!(
        uvc_fraction(666_667),
        Fract {
            numerator: 1,
            denominator: 15
        }
    );
    assert_eq!(
        uvc_fraction(333_667),
        Fract {
            numerator: 100,
            denominator: 2997
        }
    );
}

#[test]
fn uvc_picks_the_nearest_interval() {
    let list = [333_333, 333_667, 666_667];
    assert_eq!(uvc_try_frame_interval(&list, 333_333), 333_333);
    assert_eq!(uvc_try_frame_interval(&list, 333_666), 333_667);
    assert_eq!(uvc_try_frame_interval(&list, 1_000_000), 666_667);
    assert_eq!(uvc_try_frame_interval(&list, 0), 333_333);
}

#[test]
fn bcm2835_pads_the_yuyv_stride_to_32_pixels() {
    let mut pix = PixFormat {
        width: 330,
        height: 240,
        pixelformat: PIX_FMT_YUYV,
        ..PixFormat::default()
    };
    let mode = bcm_try_fmt(BCM_FORMATS, &mut pix);
    assert_eq!((mode.width, mode.bytesperline), (330, 704));
    let mut pix = PixFormat {
        width: 640,
        height: 480,
        pixelformat: PIX_FMT_YUYV,
        ..PixFormat::default()
    };
    assert_eq!(bcm_try_fmt(BCM_FORMATS, &mut pix).bytesperline, 1280);
}
