use super::*;

#[test]
fn layouts_match_the_kernel_header_on_64_bit() {
    assert_eq!(size_of::<Capability>(), 104);
    assert_eq!(size_of::<FmtDesc>(), 64);
    assert_eq!(size_of::<Format>(), 208);
    assert_eq!(size_of::<Buffer>(), 88);
    assert_eq!(size_of::<StreamParm>(), 204);
    assert_eq!(size_of::<FrmSizeEnum>(), 44);
    assert_eq!(size_of::<FrmIvalEnum>(), 52);
    assert_eq!(size_of::<RequestBuffers>(), 20);
    assert_eq!(size_of::<QueryCtrl>(), 68);
    assert_eq!(size_of::<QueryExtCtrl>(), 232);
    assert_eq!(size_of::<QueryMenu>(), 44);
    assert_eq!(size_of::<ExtControl>(), 20);
    assert_eq!(size_of::<ExtControls>(), 32);
    assert_eq!(VIDIOC_S_EXT_CTRLS, 0xc020_5648);
    assert_eq!(VIDIOC_QUERY_EXT_CTRL, 0xc0e8_5667);
    assert_eq!(VIDIOC_QUERYCAP, 0x8068_5600);
    assert_eq!(VIDIOC_S_FMT, 0xc0d0_5605);
    assert_eq!(VIDIOC_DQBUF, 0xc058_5611);
    assert_eq!(VIDIOC_STREAMON, 0x4004_5612);
}
