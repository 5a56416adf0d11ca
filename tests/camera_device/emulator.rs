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
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
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
    let out = super::common::command_of(&std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "emulator::the_emulated_webcam_answers_as_the_kernel_does",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(cams.env())
        .env(CHILD, "1")
        .env("FRAME_0_LEN", frames[0].len().to_string())
        .output()
        .expect("running the rules in a child");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
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
