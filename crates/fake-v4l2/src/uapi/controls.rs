//! The control structs of `videodev2.h`.

/// `struct v4l2_control`.
#[repr(C)]
pub struct Control {
    pub id: u32,
    pub value: i32,
}

/// `struct v4l2_queryctrl`.
#[repr(C)]
pub struct QueryCtrl {
    pub id: u32,
    pub type_: u32,
    pub name: [u8; 32],
    pub minimum: i32,
    pub maximum: i32,
    pub step: i32,
    pub default_value: i32,
    pub flags: u32,
    pub reserved: [u32; 2],
}

/// `struct v4l2_query_ext_ctrl`.
#[repr(C)]
pub struct QueryExtCtrl {
    pub id: u32,
    pub type_: u32,
    pub name: [u8; 32],
    pub minimum: i64,
    pub maximum: i64,
    pub step: u64,
    pub default_value: i64,
    pub flags: u32,
    pub elem_size: u32,
    pub elems: u32,
    pub nr_of_dims: u32,
    pub dims: [u32; 4],
    pub reserved: [u32; 32],
}

/// `struct v4l2_querymenu` (packed): `name` or, for an integer menu,
/// `value` in the same 32 bytes.
#[repr(C, packed)]
pub struct QueryMenu {
    pub id: u32,
    pub index: u32,
    pub name: [u8; 32],
    pub reserved: u32,
}

/// `struct v4l2_ext_control` (packed): the union's `value` is the low
/// half of `value64` on these little-endian targets.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct ExtControl {
    pub id: u32,
    pub size: u32,
    pub reserved2: [u32; 1],
    pub value64: i64,
}

/// `struct v4l2_ext_controls`.
#[repr(C)]
pub struct ExtControls {
    /// `ctrl_class` or `which`.
    pub which: u32,
    pub count: u32,
    pub error_idx: u32,
    pub request_fd: i32,
    pub reserved: [u32; 1],
    pub controls: *mut ExtControl,
}
