//! The emulator itself against the V4L2 rules it claims to follow
//! (videobuf2, v4l2-dev, uvcvideo), through raw ioctls from the `v4l`
//! crate's kernel bindings: so a test above that passes is a product that
//! works on a device behaving like the kernel, not one that agrees with a
//! lenient fake. Runs in a child process of this test binary with the
//! library preloaded.

use std::ffi::c_void;
use std::time::{Duration, Instant};

use v4l::v4l_sys::*;
use v4l::v4l2::vidioc;

use super::common::fake_camera::{FakeCameras, webcam_jpegs};

const CHILD: &str = "FAKE_V4L2_RULES_CHILD";

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

#[expect(
    unsafe_code,
    reason = "poll(2) with its revents, which std does not offer"
)]
unsafe extern "C" {
    fn poll(fds: *mut PollFd, nfds: std::ffi::c_ulong, timeout: i32) -> i32;
}

const POLLIN: i16 = 0x001;
const POLLPRI: i16 = 0x002;
const POLLERR: i16 = 0x008;
const POLLHUP: i16 = 0x010;

/// The revents of one fd.
#[expect(unsafe_code, reason = "poll(2)")]
fn revents(fd: i32, events: i16, timeout_ms: i32) -> i16 {
    let mut p = PollFd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { poll(&mut p, 1, timeout_ms) };
    assert!(n >= 0, "poll failed");
    p.revents
}

/// A raw ioctl: `Ok` or the errno.
#[expect(unsafe_code, reason = "raw V4L2 ioctls on the emulated node")]
fn ioctl<T>(fd: i32, request: vidioc::_IOC_TYPE, arg: &mut T) -> Result<(), i32> {
    // SAFETY: `arg` is the struct `request` is defined with.
    unsafe { v4l::v4l2::ioctl(fd, request, (arg as *mut T).cast::<c_void>()) }
        .map_err(|e| e.raw_os_error().unwrap_or(-1))
}

#[expect(
    unsafe_code,
    reason = "zeroed kernel structs, as C callers memset them"
)]
fn zeroed<T>() -> T {
    // SAFETY: every V4L2 uAPI struct is plain data for which zero is valid.
    unsafe { std::mem::zeroed() }
}

const EAGAIN: i32 = 11;
const ENOENT: i32 = 2;
const EBUSY: i32 = 16;
const ENODEV: i32 = 19;
const EINVAL: i32 = 22;
const ENOTTY: i32 = 25;
const CAPTURE: u32 = v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_CAPTURE;
const MMAP: u32 = v4l2_memory_V4L2_MEMORY_MMAP;

fn open(path: &str) -> Result<i32, i32> {
    v4l::v4l2::open(path, 2 | 0o4000).map_err(|e| e.raw_os_error().unwrap_or(-1))
}

fn buffer(index: u32) -> v4l2_buffer {
    v4l2_buffer {
        index,
        type_: CAPTURE,
        memory: MMAP,
        ..zeroed()
    }
}

fn reqbufs(fd: i32, count: u32) -> Result<u32, i32> {
    let mut r = v4l2_requestbuffers {
        count,
        type_: CAPTURE,
        memory: MMAP,
        ..zeroed()
    };
    ioctl(fd, vidioc::VIDIOC_REQBUFS, &mut r).map(|()| r.count)
}

fn fraction(f: v4l2_fract) -> (u32, u32) {
    (f.numerator, f.denominator)
}

#[expect(unsafe_code, reason = "reading the union member the type selects")]
fn s_parm(fd: i32, num: u32, den: u32) -> (u32, u32) {
    let mut p = v4l2_streamparm {
        type_: CAPTURE,
        ..zeroed()
    };
    p.parm.capture.timeperframe = v4l2_fract {
        numerator: num,
        denominator: den,
    };
    ioctl(fd, vidioc::VIDIOC_S_PARM, &mut p).expect("S_PARM");
    // SAFETY: the capture member is the one for this type.
    fraction(unsafe { p.parm.capture.timeperframe })
}

/// Runs test `name` of this module again in a child process with the
/// emulator preloaded (and `envs`), where it checks its rules; it must pass.
fn in_child(name: &str, cams: &FakeCameras, envs: &[(&str, &str)]) {
    let out = super::common::command_of(&std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            &super::common::test_path(module_path!(), name),
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(cams.env())
        .env(CHILD, "1")
        .envs(envs.iter().copied())
        .output()
        .expect("running the rules in a child");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_emulated_webcam_answers_as_the_kernel_does() {
    if std::env::var_os(CHILD).is_some() {
        return the_rules();
    }
    let cams = FakeCameras::new("rules");
    let frames = webcam_jpegs(2, 320, 240);
    let dir = cams.frames("frames", &frames);
    cams.plug(0, &format!("profile=uvc\nframes={}\n", dir.display()));
    cams.plug(1, "profile=uvc-meta\n");
    let frame_len = frames[0].len().to_string();
    in_child(
        "the_emulated_webcam_answers_as_the_kernel_does",
        &cams,
        &[("FRAME_0_LEN", &frame_len)],
    );
}

#[expect(unsafe_code, reason = "mmap and the format unions of the driver")]
fn the_rules() {
    assert_eq!(open("/dev/video9"), Err(ENOENT), "an absent node");
    let fd = open("/dev/video0").expect("open /dev/video0");

    // QUERYCAP: capabilities of the whole device, device_caps of this node.
    let mut cap: v4l2_capability = zeroed();
    ioctl(fd, vidioc::VIDIOC_QUERYCAP, &mut cap).expect("QUERYCAP");
    assert!(cap.driver.starts_with(b"uvcvideo\0"));
    assert_eq!(
        cap.device_caps, 0x0420_0001,
        "VIDEO_CAPTURE | STREAMING | EXT_PIX_FORMAT"
    );
    assert_eq!(
        cap.capabilities, 0x84a0_0001,
        "with META_CAPTURE and DEVICE_CAPS"
    );

    // S_FMT takes the closest size and sets the frame's default interval.
    let mut f = v4l2_format {
        type_: CAPTURE,
        ..zeroed()
    };
    f.fmt.pix = v4l2_pix_format {
        width: 330,
        height: 250,
        pixelformat: u32::from_le_bytes(*b"MJPG"),
        ..zeroed()
    };
    ioctl(fd, vidioc::VIDIOC_S_FMT, &mut f).expect("S_FMT");
    // SAFETY: the pix member of a capture format.
    let pix = unsafe { f.fmt.pix };
    assert_eq!((pix.width, pix.height, pix.bytesperline), (320, 240, 0));
    assert_eq!(pix.sizeimage, 320 * 240 * 2);

    // S_PARM: the nearest offered interval, written back simplified.
    assert_eq!(
        s_parm(fd, 1, 29),
        (100, 2997),
        "1/29 s is nearest 29.97 fps"
    );
    assert_eq!(s_parm(fd, 1, 30), (1, 30));
    assert_eq!(
        s_parm(fd, 1, 1000),
        (1, 30),
        "faster than offered: the fastest"
    );

    // No stream yet.
    let mut b = buffer(0);
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_DQBUF, &mut b),
        Err(EINVAL),
        "DQBUF before STREAMON"
    );
    let mut typ = CAPTURE;
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_STREAMON, &mut typ),
        Err(EINVAL),
        "no buffers"
    );
    assert_eq!(revents(fd, POLLIN, 0), POLLERR, "poll while not streaming");

    assert_eq!(reqbufs(fd, 4), Ok(4));
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_S_FMT, &mut f),
        Err(EBUSY),
        "S_FMT with buffers allocated"
    );
    let mut b = buffer(4);
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_QUERYBUF, &mut b),
        Err(EINVAL),
        "no buffer 4"
    );
    let mut maps = Vec::new();
    for i in 0..4 {
        let mut b = buffer(i);
        ioctl(fd, vidioc::VIDIOC_QUERYBUF, &mut b).expect("QUERYBUF");
        assert_eq!(b.flags & 1, 0, "not MAPPED before mmap");
        // SAFETY: the buffer's offset and length from QUERYBUF (for
        // V4L2_MEMORY_MMAP the union holds the offset); off_t is 32 bits on
        // armv7, 64 on aarch64 and x86_64.
        let ptr = unsafe {
            #[cfg_attr(
                target_pointer_width = "64",
                expect(
                    clippy::unnecessary_fallible_conversions,
                    reason = "off_t is 32 bits on armv7"
                )
            )]
            let offset = b.m.offset.try_into().expect("offset fits off_t");
            v4l::v4l2::mmap(std::ptr::null_mut(), b.length as usize, 3, 1, fd, offset)
        }
        .expect("mmap");
        maps.push((ptr.cast::<u8>(), b.length as usize));
        ioctl(fd, vidioc::VIDIOC_QUERYBUF, &mut b).expect("QUERYBUF");
        assert_eq!(b.flags & 1, 1, "MAPPED after mmap");
        ioctl(fd, vidioc::VIDIOC_QBUF, &mut b).expect("QBUF");
        assert_eq!(b.flags & 2, 2, "QUEUED");
    }
    let mut b = buffer(0);
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_QBUF, &mut b),
        Err(EINVAL),
        "queued twice"
    );

    // A second open can ask and look, not take the queue.
    let other = open("/dev/video0").expect("second open");
    ioctl(other, vidioc::VIDIOC_QUERYCAP, &mut cap).expect("QUERYCAP on the second file");
    assert_eq!(
        reqbufs(other, 2),
        Err(EBUSY),
        "the queue belongs to the first file"
    );
    // uvcvideo's privileges: only the first file may set the format or
    // touch the buffers.
    assert_eq!(
        ioctl(other, vidioc::VIDIOC_S_FMT, &mut f),
        Err(EBUSY),
        "S_FMT from another file"
    );
    let mut b = buffer(0);
    assert_eq!(
        ioctl(other, vidioc::VIDIOC_QUERYBUF, &mut b),
        Err(EBUSY),
        "QUERYBUF from another file"
    );

    ioctl(fd, vidioc::VIDIOC_STREAMON, &mut typ).expect("STREAMON");
    let mut b = buffer(0);
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_DQBUF, &mut b),
        Err(EAGAIN),
        "nothing done yet"
    );
    assert_eq!(reqbufs(fd, 0), Err(EBUSY), "REQBUFS while streaming");
    let want_len: u32 = std::env::var("FRAME_0_LEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("FRAME_0_LEN");
    for sequence in 0..3 {
        assert_eq!(revents(fd, POLLIN, 1000), POLLIN, "a frame within a second");
        let mut b = buffer(0);
        ioctl(fd, vidioc::VIDIOC_DQBUF, &mut b).expect("DQBUF");
        // MAPPED | DONE | TIMESTAMP_MONOTONIC | TSTAMP_SRC_SOE
        assert_eq!(
            b.flags,
            0x1 | 0x4 | 0x2000 | 0x1_0000,
            "flags of a good frame"
        );
        assert_eq!((b.sequence, b.field), (sequence, 1));
        if sequence == 0 {
            assert_eq!(b.bytesused, want_len, "bytesused is the JPEG's length");
            let (ptr, _) = maps[b.index as usize];
            // SAFETY: the mapping of the buffer just dequeued.
            let data = unsafe { std::slice::from_raw_parts(ptr, b.bytesused as usize) };
            assert!(data.starts_with(&[0xFF, 0xD8]) && data.ends_with(&[0xFF, 0xD9]));
        }
        ioctl(fd, vidioc::VIDIOC_QBUF, &mut b).expect("QBUF again");
    }

    // Unplugged: ENODEV for every ioctl and POLLERR | POLLHUP, for good.
    let node =
        std::path::PathBuf::from(std::env::var_os("FAKE_V4L2_DIR").expect("dir")).join("video0");
    let config = std::fs::read(&node).expect("node file");
    std::fs::remove_file(&node).expect("unplug");
    let start = Instant::now();
    let gone = revents(fd, POLLIN | POLLPRI, 2000);
    assert_eq!(gone, POLLERR | POLLHUP | POLLPRI, "poll after the unplug");
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(ioctl(fd, vidioc::VIDIOC_QUERYCAP, &mut cap), Err(ENODEV));
    assert_eq!(open("/dev/video0"), Err(ENOENT));
    std::fs::write(&node, config).expect("replug");
    assert_eq!(
        ioctl(fd, vidioc::VIDIOC_QUERYCAP, &mut cap),
        Err(ENODEV),
        "the old file stays dead"
    );
    let again = open("/dev/video0").expect("open after the replug");
    ioctl(again, vidioc::VIDIOC_QUERYCAP, &mut cap).expect("QUERYCAP on the new device");
    for (ptr, len) in maps {
        // SAFETY: our own mappings, unused from here on.
        unsafe { v4l::v4l2::munmap(ptr.cast(), len) }.expect("munmap");
    }

    // The metadata node: META_CAPTURE only; capture-type requests are EINVAL.
    let meta = open("/dev/video1").expect("open the metadata node");
    ioctl(meta, vidioc::VIDIOC_QUERYCAP, &mut cap).expect("QUERYCAP");
    assert_eq!(
        cap.device_caps, 0x04a0_0000,
        "META_CAPTURE | STREAMING | EXT_PIX_FORMAT"
    );
    let mut f = v4l2_format {
        type_: CAPTURE,
        ..zeroed()
    };
    assert_eq!(ioctl(meta, vidioc::VIDIOC_G_FMT, &mut f), Err(EINVAL));
    f.type_ = v4l2_buf_type_V4L2_BUF_TYPE_META_CAPTURE;
    ioctl(meta, vidioc::VIDIOC_G_FMT, &mut f).expect("G_FMT meta");
    // SAFETY: the meta member of a metadata format.
    let dataformat = unsafe { f.fmt.meta.dataformat };
    assert_eq!(dataformat.to_le_bytes(), *b"UVCH");
    let mut unknown = 0u32;
    assert_eq!(
        ioctl(meta, vidioc::VIDIOC_G_PRIORITY, &mut unknown),
        Err(ENOTTY)
    );
    for fd in [fd, other, again, meta] {
        v4l::v4l2::close(fd).expect("close");
    }
}

// Controls: uvcvideo answers them itself (uvc_v4l2.c, uvc_ctrl.c),
// bcm2835-v4l2 through the control framework (v4l2-ctrls-api.c).

const EACCES: i32 = 13;
const EIO: i32 = 5;
const ERANGE: i32 = 34;
const NEXT_CTRL: u32 = 0x8000_0000;
const INACTIVE: u32 = 0x0010;
const GRABBED: u32 = 0x0002;
const SLIDER: u32 = 0x0020;
const WHICH_DEF_VAL: u32 = 0x0f00_0000;
const BRIGHTNESS: u32 = 0x0098_0900;
const CONTRAST: u32 = 0x0098_0901;
const SATURATION: u32 = 0x0098_0902;
const HFLIP: u32 = 0x0098_0914;
const WB_AUTOMATIC: u32 = 0x0098_090c;
const WB_TEMPERATURE: u32 = 0x0098_091a;
const POWER_LINE: u32 = 0x0098_0918;
const USER_CLASS: u32 = 0x0098_0001;
const AUTO_EXPOSURE: u32 = 0x009a_0901;
const EXPOSURE_ABSOLUTE: u32 = 0x009a_0902;
const PAN: u32 = 0x009a_0908;
const ZOOM: u32 = 0x009a_090d;
const ISO_SENSITIVITY: u32 = 0x009a_0917;
const CAMERA_CLASS: u32 = 0x009a_0000;

fn query_ext(fd: i32, id: u32) -> Result<v4l2_query_ext_ctrl, i32> {
    let mut q = v4l2_query_ext_ctrl { id, ..zeroed() };
    ioctl(fd, vidioc::VIDIOC_QUERY_EXT_CTRL, &mut q).map(|()| q)
}

fn name_of(name: &[std::ffi::c_char]) -> String {
    name.iter()
        .take_while(|&&c| c != 0)
        .map(|&c| char::from(c as u8))
        .collect()
}

/// Every control QUERY_EXT_CTRL | NEXT_CTRL lists: (id, name, type).
fn enumerate(fd: i32) -> Vec<(u32, String, u32)> {
    let mut out = Vec::new();
    let mut id = NEXT_CTRL;
    while let Ok(q) = query_ext(fd, id) {
        out.push((q.id, name_of(&q.name), q.type_));
        id = q.id | NEXT_CTRL;
    }
    out
}

#[expect(unsafe_code, reason = "reading the union member QUERYMENU filled")]
fn menu_name(fd: i32, id: u32, index: u32) -> Result<String, i32> {
    let mut m = v4l2_querymenu {
        id,
        index,
        ..zeroed()
    };
    ioctl(fd, vidioc::VIDIOC_QUERYMENU, &mut m)?;
    // SAFETY: a menu item's name.
    let name = unsafe { m.__bindgen_anon_1.name };
    Ok(name
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| char::from(b))
        .collect())
}

#[expect(unsafe_code, reason = "reading the union member QUERYMENU filled")]
fn menu_value(fd: i32, id: u32, index: u32) -> Result<i64, i32> {
    let mut m = v4l2_querymenu {
        id,
        index,
        ..zeroed()
    };
    ioctl(fd, vidioc::VIDIOC_QUERYMENU, &mut m)?;
    // SAFETY: an integer menu item's value.
    Ok(unsafe { m.__bindgen_anon_1.value })
}

fn g_ctrl(fd: i32, id: u32) -> Result<i32, i32> {
    let mut c = v4l2_control { id, value: 0 };
    ioctl(fd, vidioc::VIDIOC_G_CTRL, &mut c).map(|()| c.value)
}

fn s_ctrl(fd: i32, id: u32, value: i32) -> Result<i32, i32> {
    let mut c = v4l2_control { id, value };
    ioctl(fd, vidioc::VIDIOC_S_CTRL, &mut c).map(|()| c.value)
}

/// G/TRY/S_EXT_CTRLS of `(id, value)`s: the result, error_idx and the
/// values as written back.
#[expect(unsafe_code, reason = "the value member of v4l2_ext_control")]
fn ext(
    fd: i32,
    request: vidioc::_IOC_TYPE,
    which: u32,
    ctrls: &[(u32, i32)],
) -> (Result<(), i32>, u32, Vec<i32>) {
    let mut array: Vec<v4l2_ext_control> = ctrls
        .iter()
        .map(|&(id, value)| {
            let mut c: v4l2_ext_control = zeroed();
            c.id = id;
            c.__bindgen_anon_1.value = value;
            c
        })
        .collect();
    let mut cs: v4l2_ext_controls = zeroed();
    cs.__bindgen_anon_1.which = which;
    cs.count = array.len() as u32;
    cs.error_idx = 0xdead;
    cs.controls = array.as_mut_ptr();
    let r = ioctl(fd, request, &mut cs);
    // SAFETY: the value member, as written.
    let values = array
        .iter()
        .map(|c| unsafe { c.__bindgen_anon_1.value })
        .collect();
    (r, cs.error_idx, values)
}

const S_EXT: vidioc::_IOC_TYPE = vidioc::VIDIOC_S_EXT_CTRLS;
const TRY_EXT: vidioc::_IOC_TYPE = vidioc::VIDIOC_TRY_EXT_CTRLS;
const G_EXT: vidioc::_IOC_TYPE = vidioc::VIDIOC_G_EXT_CTRLS;

#[test]
fn the_emulated_controls_answer_as_the_kernel_does() {
    if std::env::var_os(CHILD).is_some() {
        return the_control_rules();
    }
    let cams = FakeCameras::new("control-rules");
    cams.plug(0, "profile=uvc\n");
    cams.plug(1, "profile=uvc-meta\n");
    cams.plug(2, "profile=bcm2835\n");
    in_child(
        "the_emulated_controls_answer_as_the_kernel_does",
        &cams,
        &[],
    );
    assert_eq!(
        cams.device_state(0, "brightness").as_deref(),
        Some("128"),
        "the replugged webcam is back at its defaults"
    );
    assert_eq!(cams.device_state(2, "brightness").as_deref(), Some("80"));
}

fn node_file(n: u32) -> std::path::PathBuf {
    std::path::PathBuf::from(std::env::var_os("FAKE_V4L2_DIR").expect("dir"))
        .join(format!("video{n}"))
}

fn the_control_rules() {
    uvc_control_rules();
    bcm2835_control_rules();
    let meta = open("/dev/video1").expect("open the metadata node");
    let mut q = v4l2_queryctrl {
        id: NEXT_CTRL,
        ..zeroed()
    };
    assert_eq!(
        ioctl(meta, vidioc::VIDIOC_QUERYCTRL, &mut q),
        Err(ENOTTY),
        "the metadata node has no control ioctls"
    );
    assert_eq!(g_ctrl(meta, BRIGHTNESS), Err(ENOTTY));
}

fn uvc_control_rules() {
    let fd = open("/dev/video0").expect("open /dev/video0");
    let names: Vec<(String, u32)> = enumerate(fd)
        .into_iter()
        .map(|(_, name, typ)| (name, typ))
        .collect();
    let expected = [
        ("User Controls", 6),
        ("Brightness", 1),
        ("Contrast", 1),
        ("Saturation", 1),
        ("White Balance, Automatic", 2),
        ("Gain", 1),
        ("Power Line Frequency", 3),
        ("White Balance Temperature", 1),
        ("Sharpness", 1),
        ("Backlight Compensation", 1),
        ("Camera Controls", 6),
        ("Auto Exposure", 3),
        ("Exposure Time, Absolute", 1),
        ("Exposure, Dynamic Framerate", 2),
        ("Pan, Absolute", 1),
        ("Tilt, Absolute", 1),
        ("Focus, Absolute", 1),
        ("Focus, Automatic Continuous", 2),
        ("Zoom, Absolute", 1),
    ];
    assert_eq!(
        names,
        expected.map(|(n, t)| (n.to_owned(), t)).to_vec(),
        "enumeration order, names and types"
    );
    // QUERYCTRL | NEXT_CTRL walks the same list.
    let mut q = v4l2_queryctrl {
        id: NEXT_CTRL,
        ..zeroed()
    };
    let mut n = 0;
    while ioctl(fd, vidioc::VIDIOC_QUERYCTRL, &mut q).is_ok() {
        n += 1;
        q.id |= NEXT_CTRL;
    }
    assert_eq!(n, expected.len());

    let class = query_ext(fd, USER_CLASS).expect("the class");
    assert_eq!(
        (class.flags, class.minimum, class.maximum),
        (0x44, 0, 0),
        "READ_ONLY | WRITE_ONLY"
    );
    let b = query_ext(fd, BRIGHTNESS).expect("brightness");
    assert_eq!(
        (
            b.minimum,
            b.maximum,
            b.step,
            b.default_value,
            b.flags,
            b.elem_size,
            b.elems
        ),
        (0, 255, 1, 128, 0, 4, 1)
    );

    // auto_exposure: only Manual and Aperture Priority exist.
    assert_eq!(menu_name(fd, AUTO_EXPOSURE, 0), Err(EINVAL));
    assert_eq!(
        menu_name(fd, AUTO_EXPOSURE, 1).as_deref(),
        Ok("Manual Mode")
    );
    assert_eq!(menu_name(fd, AUTO_EXPOSURE, 2), Err(EINVAL));
    assert_eq!(
        menu_name(fd, AUTO_EXPOSURE, 3).as_deref(),
        Ok("Aperture Priority Mode")
    );
    assert_eq!(menu_name(fd, AUTO_EXPOSURE, 4), Err(EINVAL));
    assert_eq!(menu_name(fd, BRIGHTNESS, 0), Err(EINVAL), "not a menu");
    assert_eq!(s_ctrl(fd, AUTO_EXPOSURE, 4), Err(ERANGE));
    assert_eq!(
        s_ctrl(fd, AUTO_EXPOSURE, 0),
        Err(EINVAL),
        "a mode the camera lacks"
    );
    assert_eq!(s_ctrl(fd, POWER_LINE, 3), Err(ERANGE));

    // uvcvideo rounds and clamps integers.
    assert_eq!(s_ctrl(fd, BRIGHTNESS, 300), Ok(255));
    assert_eq!(s_ctrl(fd, PAN, 5000), Ok(3600));
    assert_eq!(g_ctrl(fd, PAN), Ok(3600));
    assert_eq!(g_ctrl(fd, 0x0098_0999), Err(EINVAL), "no such control");
    assert_eq!(s_ctrl(fd, 0x0098_0999, 1), Err(EINVAL));
    assert_eq!(g_ctrl(fd, USER_CLASS), Err(EACCES), "a class is not read");

    // The exposure time is inactive, and refused, until exposure is manual.
    assert_eq!(
        query_ext(fd, EXPOSURE_ABSOLUTE).map(|q| q.flags & INACTIVE),
        Ok(INACTIVE)
    );
    assert_eq!(s_ctrl(fd, EXPOSURE_ABSOLUTE, 500), Err(EACCES));
    let (r, idx, _) = ext(fd, S_EXT, 0, &[(BRIGHTNESS, 10), (EXPOSURE_ABSOLUTE, 500)]);
    assert_eq!((r, idx), (Err(EACCES), 2), "checked before any is set");
    assert_eq!(g_ctrl(fd, BRIGHTNESS), Ok(255), "nothing was set");
    let (r, idx, _) = ext(fd, TRY_EXT, 0, &[(EXPOSURE_ABSOLUTE, 500)]);
    assert_eq!((r, idx), (Ok(()), 0), "TRY does not look at the master");
    let (r, idx, _) = ext(
        fd,
        S_EXT,
        0,
        &[(AUTO_EXPOSURE, 1), (EXPOSURE_ABSOLUTE, 500)],
    );
    assert_eq!((r, idx), (Ok(()), 0), "manual in the same call");
    assert_eq!(
        query_ext(fd, EXPOSURE_ABSOLUTE).map(|q| q.flags & INACTIVE),
        Ok(0)
    );
    assert_eq!(g_ctrl(fd, EXPOSURE_ABSOLUTE), Ok(500));

    // The white balance temperature follows white_balance_automatic.
    assert_eq!(
        query_ext(fd, WB_TEMPERATURE).map(|q| q.flags & INACTIVE),
        Ok(INACTIVE)
    );
    assert_eq!(s_ctrl(fd, WB_TEMPERATURE, 4500), Err(EACCES));
    assert_eq!(
        s_ctrl(fd, WB_AUTOMATIC, -1),
        Ok(0),
        "uvcvideo clamps a boolean"
    );
    assert_eq!(query_ext(fd, WB_TEMPERATURE).map(|q| q.flags), Ok(0));
    assert_eq!(s_ctrl(fd, WB_TEMPERATURE, 4500), Ok(4500));

    // error_idx: the control for TRY, count for S, nothing set.
    let bad = [(BRIGHTNESS, 10), (0x0098_0999, 1)];
    let (r, idx, _) = ext(fd, TRY_EXT, 0, &bad);
    assert_eq!((r, idx), (Err(EINVAL), 1));
    let (r, idx, _) = ext(fd, S_EXT, 0, &bad);
    assert_eq!((r, idx), (Err(EINVAL), 2));
    let (r, idx, _) = ext(fd, TRY_EXT, 0, &[(BRIGHTNESS, 10), (AUTO_EXPOSURE, 2)]);
    assert_eq!((r, idx), (Err(EINVAL), 1));
    let (r, idx, _) = ext(fd, S_EXT, 0, &[(BRIGHTNESS, 10), (AUTO_EXPOSURE, 2)]);
    assert_eq!((r, idx), (Err(EINVAL), 2));
    assert_eq!(g_ctrl(fd, BRIGHTNESS), Ok(255), "all or nothing");
    let (r, idx, _) = ext(
        fd,
        G_EXT,
        CAMERA_CLASS,
        &[(AUTO_EXPOSURE, 0), (BRIGHTNESS, 0)],
    );
    assert_eq!((r, idx), (Err(EINVAL), 2), "a control outside the class");
    let (r, idx, values) = ext(
        fd,
        G_EXT,
        WHICH_DEF_VAL,
        &[(BRIGHTNESS, 0), (AUTO_EXPOSURE, 0)],
    );
    assert_eq!((r, idx, values), (Ok(()), 0, vec![128, 3]));
    assert_eq!(
        ext(fd, S_EXT, WHICH_DEF_VAL, &[(BRIGHTNESS, 1)]).0,
        Err(EINVAL)
    );

    // Another file on the same device sees the values.
    let other = open("/dev/video0").expect("second open");
    assert_eq!(g_ctrl(other, EXPOSURE_ABSOLUTE), Ok(500));

    // A UVC control the camera refuses: the processing unit's controls
    // (brightness) are written before the camera terminal's (exposure),
    // whatever the order of the call; error_idx is the failing one.
    let node = node_file(0);
    std::fs::write(
        &node,
        "profile=uvc\ncontrol_fail=exposure_time_absolute:EIO\n",
    )
    .expect("node file");
    let (r, idx, _) = ext(fd, S_EXT, 0, &[(EXPOSURE_ABSOLUTE, 300), (BRIGHTNESS, 20)]);
    assert_eq!((r, idx), (Err(EIO), 0));
    assert_eq!(g_ctrl(fd, BRIGHTNESS), Ok(20), "written before the failure");
    assert_eq!(g_ctrl(fd, EXPOSURE_ABSOLUTE), Ok(500), "rolled back");
    std::fs::write(&node, "profile=uvc\ncontrol_fail=brightness:EBUSY\n").expect("node file");
    let (r, idx, _) = ext(fd, S_EXT, 0, &[(ZOOM, 200), (BRIGHTNESS, 30)]);
    assert_eq!((r, idx), (Err(EBUSY), 1));
    assert_eq!(g_ctrl(fd, ZOOM), Ok(100), "after the failure: rolled back");
    assert_eq!(
        s_ctrl(fd, BRIGHTNESS, 20),
        Err(EBUSY),
        "even to the same value"
    );
    let state = std::path::PathBuf::from(std::env::var_os("FAKE_V4L2_STATE_DIR").expect("state"))
        .join("video0");
    let text = std::fs::read_to_string(&state).expect("state file");
    assert!(text.contains("\nbrightness=20\n"), "{text}");
    assert!(text.contains("\nexposure_time_absolute=500\n"), "{text}");

    // A replug is a new device: defaults again.
    let config = std::fs::read(&node).expect("node file");
    std::fs::remove_file(&node).expect("unplug");
    assert_eq!(g_ctrl(fd, BRIGHTNESS), Err(ENODEV));
    std::fs::write(&node, config).expect("replug");
    let again = open("/dev/video0").expect("open after the replug");
    assert_eq!(g_ctrl(again, BRIGHTNESS), Ok(128));
    assert_eq!(s_ctrl(again, CONTRAST, 128), Ok(128));
    for fd in [fd, other, again] {
        v4l::v4l2::close(fd).expect("close");
    }
}

fn bcm2835_control_rules() {
    let fd = open("/dev/video2").expect("open /dev/video2");
    let list = enumerate(fd);
    let first: Vec<&str> = list.iter().take(4).map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        first,
        ["User Controls", "Brightness", "Contrast", "Saturation"]
    );
    let classes: Vec<&str> = list
        .iter()
        .filter(|(_, _, t)| *t == 6)
        .map(|(_, n, _)| n.as_str())
        .collect();
    assert_eq!(
        classes,
        [
            "User Controls",
            "Codec Controls",
            "Camera Controls",
            "JPEG Compression Controls"
        ]
    );
    let b = query_ext(fd, BRIGHTNESS).expect("brightness");
    assert_eq!(
        (b.minimum, b.maximum, b.default_value, b.flags),
        (0, 100, 50, SLIDER)
    );
    let c = query_ext(fd, CONTRAST).expect("contrast");
    assert_eq!((c.minimum, c.maximum, c.default_value), (-100, 100, 0));

    // An integer menu.
    let iso = query_ext(fd, ISO_SENSITIVITY).expect("iso");
    assert_eq!(
        (iso.type_, iso.minimum, iso.maximum, iso.step),
        (9, 0, 4, 1)
    );
    assert_eq!(menu_value(fd, ISO_SENSITIVITY, 1), Ok(100_000));
    assert_eq!(menu_value(fd, ISO_SENSITIVITY, 5), Err(EINVAL));
    // auto_exposure: Auto and Manual only (menu_skip_mask).
    assert_eq!(menu_name(fd, AUTO_EXPOSURE, 0).as_deref(), Ok("Auto Mode"));
    assert_eq!(menu_name(fd, AUTO_EXPOSURE, 2), Err(EINVAL));
    assert_eq!(s_ctrl(fd, AUTO_EXPOSURE, 2), Err(EINVAL));
    assert_eq!(s_ctrl(fd, AUTO_EXPOSURE, 4), Err(ERANGE));
    // No auto cluster in bcm2835-v4l2: the exposure time is never inactive.
    assert_eq!(query_ext(fd, EXPOSURE_ABSOLUTE).map(|q| q.flags), Ok(0));
    assert_eq!(s_ctrl(fd, EXPOSURE_ABSOLUTE, 20_000), Ok(10_000), "clamped");

    // The framework clamps integers and sets in the caller's order.
    let (r, idx, values) = ext(fd, S_EXT, 0, &[(BRIGHTNESS, 60), (CONTRAST, 500)]);
    assert_eq!((r, idx, values), (Ok(()), 1, vec![60, 100]));
    let (r, idx, _) = ext(fd, S_EXT, 0, &[(BRIGHTNESS, 70), (AUTO_EXPOSURE, 2)]);
    assert_eq!((r, idx), (Err(EINVAL), 2));
    let (r, idx, _) = ext(fd, TRY_EXT, 0, &[(BRIGHTNESS, 70), (AUTO_EXPOSURE, 2)]);
    assert_eq!((r, idx), (Err(EINVAL), 1));
    assert_eq!(g_ctrl(fd, BRIGHTNESS), Ok(60), "all or nothing");
    let (r, idx, _) = ext(fd, G_EXT, 0, &[(BRIGHTNESS, 0), (0x0098_0999, 0)]);
    assert_eq!((r, idx), (Err(EINVAL), 2));
    let (r, _, values) = ext(fd, G_EXT, WHICH_DEF_VAL, &[(BRIGHTNESS, 0)]);
    assert_eq!((r, values), (Ok(()), vec![50]));

    // A firmware failure: the earlier controls are set, the later not.
    let node = node_file(2);
    std::fs::write(&node, "profile=bcm2835\ncontrol_fail=contrast:EIO\n").expect("node file");
    let (r, idx, _) = ext(
        fd,
        S_EXT,
        0,
        &[(BRIGHTNESS, 80), (CONTRAST, 10), (SATURATION, 20)],
    );
    assert_eq!((r, idx), (Err(EIO), 1));
    assert_eq!(
        (
            g_ctrl(fd, BRIGHTNESS),
            g_ctrl(fd, CONTRAST),
            g_ctrl(fd, SATURATION)
        ),
        (Ok(80), Ok(100), Ok(0))
    );
    assert_eq!(
        s_ctrl(fd, CONTRAST, 100),
        Ok(100),
        "no change: s_ctrl is not called"
    );
    assert_eq!(s_ctrl(fd, CONTRAST, 50), Err(EIO));

    // A grabbed control.
    std::fs::write(&node, "profile=bcm2835\ncontrols_grabbed=horizontal_flip\n")
        .expect("node file");
    assert_eq!(query_ext(fd, HFLIP).map(|q| q.flags), Ok(GRABBED));
    assert_eq!(s_ctrl(fd, HFLIP, 1), Err(EBUSY));
    assert_eq!(g_ctrl(fd, HFLIP), Ok(0), "a grabbed control can be read");
    let (r, idx, _) = ext(fd, S_EXT, 0, &[(BRIGHTNESS, 90), (HFLIP, 1)]);
    assert_eq!((r, idx), (Err(EBUSY), 2));
    assert_eq!(
        ext(fd, TRY_EXT, 0, &[(HFLIP, -1)]),
        (Ok(()), 0, vec![1]),
        "TRY may; !!-1 is 1"
    );
    assert_eq!(g_ctrl(fd, BRIGHTNESS), Ok(80));
    v4l::v4l2::close(fd).expect("close");
}
