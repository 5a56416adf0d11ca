//! The ioctl entry point and the format, enumeration, parameter and
//! input ioctls (`v4l2-ioctl.c` and the drivers' handlers).

use std::ffi::{c_int, c_ulong, c_void};

use crate::config::{BusyAt, ProfileKind};
use crate::profile::{FrameIntervals, FrameSizes, Mode, compressed, description};
use crate::sys::{self, EBUSY, EINVAL, ENODEV, ENOTTY};
use crate::uapi::*;

use super::queue::{acquire, dqbuf, qbuf, querybuf, reqbufs, streamoff, streamon};
use super::{Device, Errno, ctrl, file};
use crate::controls::Op;

/// LINUX_VERSION_CODE of the kernel the emulated drivers are from (6.1).
const KERNEL_VERSION: u32 = (6 << 16) | (1 << 8);

/// An ioctl on an emulated node; `Ok` is the return value.
///
/// # Safety
/// `arg` must point to the struct the request's size says, as the kernel
/// requires of callers.
pub unsafe fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> Result<c_int, Errno> {
    let Some((dev, nonblock)) = file(fd) else {
        return Err(sys::EBADF);
    };
    dev.refresh();
    if dev.lock().gone {
        return Err(ENODEV);
    }
    if arg.is_null() {
        return Err(sys::EFAULT);
    }
    let request = request as u32;
    // SAFETY: the caller passes a pointer to the request's struct.
    unsafe {
        match request {
            VIDIOC_QUERYCAP => querycap(&dev, &mut *arg.cast()),
            VIDIOC_ENUM_FMT => enum_fmt(&dev, &mut *arg.cast()),
            VIDIOC_G_FMT => g_fmt(&dev, &mut *arg.cast()),
            VIDIOC_S_FMT => s_fmt(&dev, fd, &mut *arg.cast(), true),
            VIDIOC_TRY_FMT => s_fmt(&dev, fd, &mut *arg.cast(), false),
            VIDIOC_ENUM_FRAMESIZES => enum_framesizes(&dev, &mut *arg.cast()),
            VIDIOC_ENUM_FRAMEINTERVALS => enum_frameintervals(&dev, &mut *arg.cast()),
            VIDIOC_G_PARM => parm(&dev, fd, &mut *arg.cast(), false),
            VIDIOC_S_PARM => parm(&dev, fd, &mut *arg.cast(), true),
            VIDIOC_REQBUFS => reqbufs(&dev, fd, &mut *arg.cast()),
            VIDIOC_QUERYBUF => querybuf(&dev, fd, &mut *arg.cast()),
            VIDIOC_QBUF => qbuf(&dev, fd, &mut *arg.cast()),
            VIDIOC_DQBUF => dqbuf(&dev, fd, nonblock, &mut *arg.cast()),
            VIDIOC_STREAMON => streamon(&dev, fd, *arg.cast::<u32>()),
            VIDIOC_STREAMOFF => streamoff(&dev, fd, *arg.cast::<u32>()),
            VIDIOC_ENUMINPUT => enum_input(&dev, &mut *arg.cast()),
            VIDIOC_G_INPUT => input(&dev, fd, &mut *arg.cast(), false),
            VIDIOC_S_INPUT => input(&dev, fd, &mut *arg.cast(), true),
            VIDIOC_QUERYCTRL => ctrl::queryctrl(&dev, &mut *arg.cast()),
            VIDIOC_QUERY_EXT_CTRL => ctrl::query_ext_ctrl(&dev, &mut *arg.cast()),
            VIDIOC_QUERYMENU => ctrl::querymenu(&dev, &mut *arg.cast()),
            VIDIOC_G_CTRL => ctrl::g_ctrl(&dev, &mut *arg.cast()),
            VIDIOC_S_CTRL => ctrl::s_ctrl(&dev, &mut *arg.cast()),
            VIDIOC_G_EXT_CTRLS => ctrl::ext_ctrls(&dev, &mut *arg.cast(), Op::Get),
            VIDIOC_TRY_EXT_CTRLS => ctrl::ext_ctrls(&dev, &mut *arg.cast(), Op::Try),
            VIDIOC_S_EXT_CTRLS => ctrl::ext_ctrls(&dev, &mut *arg.cast(), Op::Set),
            _ => Err(ENOTTY),
        }
    }
}

fn querycap(dev: &Device, cap: &mut Capability) -> Result<c_int, Errno> {
    let st = dev.lock();
    let id = dev.profile.identity(&st.config);
    set_str(&mut cap.driver, id.driver);
    set_str(&mut cap.card, &id.card);
    set_str(&mut cap.bus_info, &id.bus);
    cap.version = KERNEL_VERSION;
    cap.capabilities = id.capabilities;
    cap.device_caps = id.device_caps;
    cap.reserved = [0; 3];
    Ok(0)
}

pub(super) fn check_type(dev: &Device, type_: u32) -> Result<(), Errno> {
    if type_ == dev.profile.buf_type() {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

fn enum_fmt(dev: &Device, d: &mut FmtDesc) -> Result<c_int, Errno> {
    check_type(dev, d.type_)?;
    let st = dev.lock();
    let formats = dev.profile.formats(&st.config);
    let f = formats.get(d.index as usize).ok_or(EINVAL)?;
    d.pixelformat = f.fourcc;
    d.flags = if compressed(f.fourcc) {
        FMT_FLAG_COMPRESSED
    } else {
        0
    };
    set_str(&mut d.description, description(f.fourcc));
    d.mbus_code = 0;
    d.reserved = [0; 3];
    Ok(0)
}

fn pix_of(mode: &Mode) -> PixFormat {
    PixFormat {
        width: mode.width,
        height: mode.height,
        pixelformat: mode.fourcc,
        field: FIELD_NONE,
        bytesperline: mode.bytesperline,
        sizeimage: mode.sizeimage,
        colorspace: mode.colorspace,
        ..PixFormat::default()
    }
}

fn g_fmt(dev: &Device, f: &mut Format) -> Result<c_int, Errno> {
    check_type(dev, f.type_)?;
    let st = dev.lock();
    f.fmt.raw_data = [0; 200];
    if dev.profile.kind == ProfileKind::UvcMeta {
        f.fmt.meta = MetaFormat {
            dataformat: META_FMT_UVC,
            buffersize: crate::profile::UVC_META_BUFFER_SIZE,
        };
    } else {
        f.fmt.pix = pix_of(&st.mode);
    }
    Ok(0)
}

fn s_fmt(dev: &Device, fd: c_int, f: &mut Format, set: bool) -> Result<c_int, Errno> {
    let mut st = dev.lock();
    if set {
        acquire(dev, &mut st, fd)?;
    }
    check_type(dev, f.type_)?;
    if dev.profile.kind == ProfileKind::UvcMeta {
        // SAFETY: a META_CAPTURE format carries the meta member.
        let wanted = unsafe { f.fmt.meta };
        f.fmt.meta = MetaFormat {
            dataformat: META_FMT_UVC,
            buffersize: wanted.buffersize.max(crate::profile::UVC_META_BUFFER_SIZE),
        };
        if set && !st.bufs.is_empty() {
            return Err(EBUSY);
        }
        return Ok(0);
    }
    // SAFETY: a VIDEO_CAPTURE format carries the pix member.
    let mut pix = unsafe { f.fmt.pix };
    let mode = dev.profile.try_fmt(&st.config, &mut pix);
    f.fmt.pix = pix;
    if !set {
        return Ok(0);
    }
    if st.config.busy_at(BusyAt::SFmt) || !st.bufs.is_empty() {
        return Err(EBUSY);
    }
    st.mode = mode;
    if dev.profile.kind != ProfileKind::Bcm2835 {
        st.interval = dev.profile.default_interval(&mode);
    }
    dev.publish_state(&st);
    Ok(0)
}

fn enum_framesizes(dev: &Device, s: &mut FrmSizeEnum) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    let st = dev.lock();
    if !dev
        .profile
        .formats(&st.config)
        .iter()
        .any(|f| f.fourcc == s.pixel_format)
    {
        return Err(EINVAL);
    }
    match dev.profile.frame_sizes(s.pixel_format) {
        FrameSizes::Discrete(sizes) => {
            let &(width, height) = sizes.get(s.index as usize).ok_or(EINVAL)?;
            s.type_ = FRMSIZE_TYPE_DISCRETE;
            s.u.stepwise = FrmSizeStepwise::default();
            s.u.discrete = FrmSizeDiscrete { width, height };
        }
        FrameSizes::Stepwise(step) => {
            if s.index != 0 {
                return Err(EINVAL);
            }
            s.type_ = FRMSIZE_TYPE_STEPWISE;
            s.u.stepwise = step;
        }
    }
    s.reserved = [0; 2];
    Ok(0)
}

fn enum_frameintervals(dev: &Device, iv: &mut FrmIvalEnum) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    let st = dev.lock();
    if !dev
        .profile
        .formats(&st.config)
        .iter()
        .any(|f| f.fourcc == iv.pixel_format)
    {
        return Err(EINVAL);
    }
    match dev
        .profile
        .frame_intervals(iv.pixel_format, iv.width, iv.height)
        .ok_or(EINVAL)?
    {
        FrameIntervals::Discrete(list) => {
            let &f = list.get(iv.index as usize).ok_or(EINVAL)?;
            iv.type_ = FRMIVAL_TYPE_DISCRETE;
            iv.u.stepwise = FrmIvalStepwise::default();
            iv.u.discrete = f;
        }
        FrameIntervals::Continuous(range) => {
            if iv.index != 0 {
                return Err(EINVAL);
            }
            iv.type_ = FRMIVAL_TYPE_CONTINUOUS;
            iv.u.stepwise = range;
        }
    }
    iv.reserved = [0; 2];
    Ok(0)
}

fn parm(dev: &Device, fd: c_int, p: &mut StreamParm, set: bool) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    if p.type_ != BUF_TYPE_VIDEO_CAPTURE {
        return Err(EINVAL);
    }
    let mut st = dev.lock();
    if set {
        acquire(dev, &mut st, fd)?;
        // SAFETY: a VIDEO_CAPTURE streamparm carries the capture member.
        let wanted = unsafe { p.parm.capture.timeperframe };
        if dev.profile.kind != ProfileKind::Bcm2835 && st.streaming {
            return Err(EBUSY);
        }
        st.interval = dev.profile.choose_interval(&st.mode, wanted);
        dev.publish_state(&st);
    }
    p.parm.raw_data = [0; 200];
    p.parm.capture = CaptureParm {
        capability: CAP_TIMEPERFRAME,
        timeperframe: st.interval,
        readbuffers: u32::from(dev.profile.kind == ProfileKind::Bcm2835),
        ..CaptureParm::default()
    };
    Ok(0)
}

fn enum_input(dev: &Device, inp: &mut Input) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    if inp.index != 0 {
        return Err(EINVAL);
    }
    let name = if dev.profile.kind == ProfileKind::Bcm2835 {
        "Camera 0"
    } else {
        "Camera 1"
    };
    set_str(&mut inp.name, name);
    inp.type_ = INPUT_TYPE_CAMERA;
    inp.audioset = 0;
    inp.tuner = 0;
    inp.std = 0;
    inp.status = 0;
    inp.capabilities = 0;
    inp.reserved = [0; 3];
    Ok(0)
}

fn input(dev: &Device, fd: c_int, i: &mut c_int, set: bool) -> Result<c_int, Errno> {
    if dev.profile.kind == ProfileKind::UvcMeta {
        return Err(ENOTTY);
    }
    if set {
        acquire(dev, &mut dev.lock(), fd)?;
        if *i != 0 {
            return Err(EINVAL);
        }
    }
    *i = 0;
    Ok(0)
}
