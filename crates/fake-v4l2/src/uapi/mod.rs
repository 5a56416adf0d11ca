//! The V4L2 user-space API as the kernel defines it in
//! `include/uapi/linux/videodev2.h` (and `asm-generic/ioctl.h` for the
//! request numbers): only the structs, fields and constants the emulated
//! ioctls read or write.
//!
//! Written from the kernel header and the V4L2 uAPI documentation, not from
//! any user of the API, so a user that gets a layout or a value wrong is
//! caught rather than agreed with.

mod controls;
pub use controls::*;

use std::ffi::c_long;
use std::mem::size_of;

/// `v4l2_fourcc(a, b, c, d)`: little-endian four character code.
pub const fn fourcc(code: &[u8; 4]) -> u32 {
    (code[0] as u32) | (code[1] as u32) << 8 | (code[2] as u32) << 16 | (code[3] as u32) << 24
}

pub const PIX_FMT_MJPEG: u32 = fourcc(b"MJPG");
pub const PIX_FMT_JPEG: u32 = fourcc(b"JPEG");
pub const PIX_FMT_YUYV: u32 = fourcc(b"YUYV");
pub const PIX_FMT_YVYU: u32 = fourcc(b"YVYU");
pub const PIX_FMT_UYVY: u32 = fourcc(b"UYVY");
pub const PIX_FMT_VYUY: u32 = fourcc(b"VYUY");
pub const PIX_FMT_H264: u32 = fourcc(b"H264");
pub const PIX_FMT_RGB24: u32 = fourcc(b"RGB3");
pub const PIX_FMT_BGR24: u32 = fourcc(b"BGR3");
pub const PIX_FMT_YUV420: u32 = fourcc(b"YU12");
pub const PIX_FMT_YVU420: u32 = fourcc(b"YV12");
pub const PIX_FMT_NV12: u32 = fourcc(b"NV12");
pub const PIX_FMT_NV21: u32 = fourcc(b"NV21");
pub const PIX_FMT_BGRX32: u32 = fourcc(b"RX24");
pub const META_FMT_UVC: u32 = fourcc(b"UVCH");

pub const CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
pub const CAP_VIDEO_OVERLAY: u32 = 0x0000_0004;
pub const CAP_EXT_PIX_FORMAT: u32 = 0x0020_0000;
pub const CAP_META_CAPTURE: u32 = 0x0080_0000;
pub const CAP_READWRITE: u32 = 0x0100_0000;
pub const CAP_STREAMING: u32 = 0x0400_0000;
pub const CAP_DEVICE_CAPS: u32 = 0x8000_0000;

/// `v4l2_captureparm.capability`: the timeperframe field is supported.
pub const CAP_TIMEPERFRAME: u32 = 0x1000;

pub const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
pub const BUF_TYPE_META_CAPTURE: u32 = 13;

pub const MEMORY_MMAP: u32 = 1;
pub const FIELD_NONE: u32 = 1;

pub const COLORSPACE_SMPTE170M: u32 = 1;
pub const COLORSPACE_JPEG: u32 = 7;
pub const COLORSPACE_SRGB: u32 = 8;

pub const FMT_FLAG_COMPRESSED: u32 = 0x0001;

pub const BUF_FLAG_MAPPED: u32 = 0x0000_0001;
pub const BUF_FLAG_QUEUED: u32 = 0x0000_0002;
pub const BUF_FLAG_DONE: u32 = 0x0000_0004;
pub const BUF_FLAG_ERROR: u32 = 0x0000_0040;
pub const BUF_FLAG_TIMESTAMP_MONOTONIC: u32 = 0x0000_2000;
pub const BUF_FLAG_TSTAMP_SRC_SOE: u32 = 0x0001_0000;

pub const BUF_CAP_SUPPORTS_MMAP: u32 = 1 << 0;
pub const BUF_CAP_SUPPORTS_USERPTR: u32 = 1 << 1;
pub const BUF_CAP_SUPPORTS_DMABUF: u32 = 1 << 2;
pub const BUF_CAP_SUPPORTS_ORPHANED_BUFS: u32 = 1 << 4;

pub const FRMSIZE_TYPE_DISCRETE: u32 = 1;
pub const FRMSIZE_TYPE_STEPWISE: u32 = 3;
pub const FRMIVAL_TYPE_DISCRETE: u32 = 1;
pub const FRMIVAL_TYPE_CONTINUOUS: u32 = 2;

pub const INPUT_TYPE_CAMERA: u32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fract {
    pub numerator: u32,
    pub denominator: u32,
}

#[repr(C)]
pub struct Capability {
    pub driver: [u8; 16],
    pub card: [u8; 32],
    pub bus_info: [u8; 32],
    pub version: u32,
    pub capabilities: u32,
    pub device_caps: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
pub struct FmtDesc {
    pub index: u32,
    pub type_: u32,
    pub flags: u32,
    pub description: [u8; 32],
    pub pixelformat: u32,
    pub mbus_code: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PixFormat {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
    pub priv_: u32,
    pub flags: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

/// `struct v4l2_meta_format` (packed in the header; two `__u32` need no padding).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MetaFormat {
    pub dataformat: u32,
    pub buffersize: u32,
}

/// The `fmt` union of `struct v4l2_format`: 200 bytes, aligned like a
/// pointer (its `v4l2_window` member holds pointers).
#[repr(C)]
pub union FormatUnion {
    pub pix: PixFormat,
    pub meta: MetaFormat,
    pub raw_data: [u8; 200],
    _align: [usize; 0],
}

#[repr(C)]
pub struct Format {
    pub type_: u32,
    pub fmt: FormatUnion,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FrmSizeDiscrete {
    pub width: u32,
    pub height: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FrmSizeStepwise {
    pub min_width: u32,
    pub max_width: u32,
    pub step_width: u32,
    pub min_height: u32,
    pub max_height: u32,
    pub step_height: u32,
}

#[repr(C)]
pub union FrmSizeUnion {
    pub discrete: FrmSizeDiscrete,
    pub stepwise: FrmSizeStepwise,
}

#[repr(C)]
pub struct FrmSizeEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub type_: u32,
    pub u: FrmSizeUnion,
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FrmIvalStepwise {
    pub min: Fract,
    pub max: Fract,
    pub step: Fract,
}

#[repr(C)]
pub union FrmIvalUnion {
    pub discrete: Fract,
    pub stepwise: FrmIvalStepwise,
}

#[repr(C)]
pub struct FrmIvalEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub width: u32,
    pub height: u32,
    pub type_: u32,
    pub u: FrmIvalUnion,
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CaptureParm {
    pub capability: u32,
    pub capturemode: u32,
    pub timeperframe: Fract,
    pub extendedmode: u32,
    pub readbuffers: u32,
    pub reserved: [u32; 4],
}

#[repr(C)]
pub union StreamParmUnion {
    pub capture: CaptureParm,
    pub raw_data: [u8; 200],
}

#[repr(C)]
pub struct StreamParm {
    pub type_: u32,
    pub parm: StreamParmUnion,
}

#[repr(C)]
pub struct RequestBuffers {
    pub count: u32,
    pub type_: u32,
    pub memory: u32,
    pub capabilities: u32,
    pub flags: u8,
    pub reserved: [u8; 3],
}

/// `struct timeval` as the C library defines it on this target.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeval {
    pub tv_sec: c_long,
    pub tv_usec: c_long,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timecode {
    pub type_: u32,
    pub flags: u32,
    pub frames: u8,
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub userbits: [u8; 4],
}

/// The `m` union of `struct v4l2_buffer` (`offset`, `userptr`, `planes`, `fd`).
#[repr(C)]
#[derive(Clone, Copy)]
pub union BufferM {
    pub offset: u32,
    pub userptr: std::ffi::c_ulong,
    pub fd: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Buffer {
    pub index: u32,
    pub type_: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: Timeval,
    pub timecode: Timecode,
    pub sequence: u32,
    pub memory: u32,
    pub m: BufferM,
    pub length: u32,
    pub reserved2: u32,
    pub request_fd: i32,
}

#[repr(C)]
pub struct Input {
    pub index: u32,
    pub name: [u8; 32],
    pub type_: u32,
    pub audioset: u32,
    pub tuner: u32,
    pub std: u64,
    pub status: u32,
    pub capabilities: u32,
    pub reserved: [u32; 3],
}

// asm-generic/ioctl.h: dir << 30 | size << 16 | type << 8 | nr.
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    dir << 30 | (size as u32) << 16 | (b'V' as u32) << 8 | nr
}
const fn ior(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, nr, size)
}
const fn iow(nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, nr, size)
}
const fn iowr(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, nr, size)
}

pub const VIDIOC_QUERYCAP: u32 = ior(0, size_of::<Capability>());
pub const VIDIOC_ENUM_FMT: u32 = iowr(2, size_of::<FmtDesc>());
pub const VIDIOC_G_FMT: u32 = iowr(4, size_of::<Format>());
pub const VIDIOC_S_FMT: u32 = iowr(5, size_of::<Format>());
pub const VIDIOC_REQBUFS: u32 = iowr(8, size_of::<RequestBuffers>());
pub const VIDIOC_QUERYBUF: u32 = iowr(9, size_of::<Buffer>());
pub const VIDIOC_QBUF: u32 = iowr(15, size_of::<Buffer>());
pub const VIDIOC_DQBUF: u32 = iowr(17, size_of::<Buffer>());
pub const VIDIOC_STREAMON: u32 = iow(18, size_of::<i32>());
pub const VIDIOC_STREAMOFF: u32 = iow(19, size_of::<i32>());
pub const VIDIOC_G_PARM: u32 = iowr(21, size_of::<StreamParm>());
pub const VIDIOC_S_PARM: u32 = iowr(22, size_of::<StreamParm>());
pub const VIDIOC_ENUMINPUT: u32 = iowr(26, size_of::<Input>());
pub const VIDIOC_G_INPUT: u32 = ior(38, size_of::<i32>());
pub const VIDIOC_S_INPUT: u32 = iowr(39, size_of::<i32>());
pub const VIDIOC_G_CTRL: u32 = iowr(27, size_of::<Control>());
pub const VIDIOC_S_CTRL: u32 = iowr(28, size_of::<Control>());
pub const VIDIOC_QUERYCTRL: u32 = iowr(36, size_of::<QueryCtrl>());
pub const VIDIOC_QUERYMENU: u32 = iowr(37, size_of::<QueryMenu>());
pub const VIDIOC_G_EXT_CTRLS: u32 = iowr(71, size_of::<ExtControls>());
pub const VIDIOC_S_EXT_CTRLS: u32 = iowr(72, size_of::<ExtControls>());
pub const VIDIOC_TRY_EXT_CTRLS: u32 = iowr(73, size_of::<ExtControls>());
pub const VIDIOC_QUERY_EXT_CTRL: u32 = iowr(103, size_of::<QueryExtCtrl>());
pub const VIDIOC_TRY_FMT: u32 = iowr(64, size_of::<Format>());
pub const VIDIOC_ENUM_FRAMESIZES: u32 = iowr(74, size_of::<FrmSizeEnum>());
pub const VIDIOC_ENUM_FRAMEINTERVALS: u32 = iowr(75, size_of::<FrmIvalEnum>());

/// Copies `text` into a NUL-terminated fixed C string field, as `strscpy`.
pub fn set_str(field: &mut [u8], text: &str) {
    field.fill(0);
    let n = text.len().min(field.len() - 1);
    field[..n].copy_from_slice(&text.as_bytes()[..n]);
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests;
