//! The control ioctls (QUERYCTRL, QUERY_EXT_CTRL, QUERYMENU, G/S_CTRL,
//! G/TRY/S_EXT_CTRLS): the structs in and out; the rules are in
//! [`crate::controls`].
//!
//! As `video_usercopy` does, QUERY* and G/S_CTRL write their struct back
//! only on success, the EXT_CTRLS ioctls always (values and `error_idx`).
//! A node without controls (uvcvideo's metadata node registers no control
//! ioctls, `determine_valid_ioctls`) answers ENOTTY.

use std::ffi::c_int;

use crate::controls::{ExtCtrl, MAX_CTRLS, MenuItem, Op, Query};
use crate::sys::{EFAULT, EINVAL, ENOTTY};
use crate::uapi::*;

use super::{Device, Errno};

fn no_controls(dev: &Device) -> Result<(), Errno> {
    if dev.lock().controls.is_empty() {
        Err(ENOTTY)
    } else {
        Ok(())
    }
}

fn query(dev: &Device, id: u32) -> Result<Query, Errno> {
    no_controls(dev)?;
    let st = dev.lock();
    st.controls.query(&st.config, id)
}

pub(super) fn query_ext_ctrl(dev: &Device, q: &mut QueryExtCtrl) -> Result<c_int, Errno> {
    let r = query(dev, q.id)?;
    *q = QueryExtCtrl {
        id: r.id,
        type_: r.type_,
        name: [0; 32],
        minimum: r.minimum,
        maximum: r.maximum,
        step: r.step,
        default_value: r.default_value,
        flags: r.flags,
        elem_size: r.elem_size,
        elems: r.elems,
        nr_of_dims: 0,
        dims: [0; 4],
        reserved: [0; 32],
    };
    set_str(&mut q.name, r.name);
    Ok(0)
}

/// `v4l2_queryctrl` and `v4l2_query_ext_ctrl_to_v4l2_queryctrl`: the
/// range only for the types that have one in 32 bits.
pub(super) fn queryctrl(dev: &Device, q: &mut QueryCtrl) -> Result<c_int, Errno> {
    let r = query(dev, q.id)?;
    let ranged = matches!(r.type_, 1 | 2 | 3 | 7 | 8 | 9);
    let pick = |v: i64| if ranged { v as i32 } else { 0 };
    *q = QueryCtrl {
        id: r.id,
        type_: r.type_,
        name: [0; 32],
        minimum: pick(r.minimum),
        maximum: pick(r.maximum),
        step: pick(r.step as i64),
        default_value: pick(r.default_value),
        flags: r.flags,
        reserved: [0; 2],
    };
    set_str(&mut q.name, r.name);
    Ok(0)
}

pub(super) fn querymenu(dev: &Device, m: &mut QueryMenu) -> Result<c_int, Errno> {
    no_controls(dev)?;
    let item = dev.lock().controls.querymenu(m.id, m.index)?;
    m.name = [0; 32];
    m.reserved = 0;
    match item {
        MenuItem::Name(name) => set_str(&mut m.name, name),
        MenuItem::Value(v) => m.name[..8].copy_from_slice(&v.to_le_bytes()),
    }
    Ok(0)
}

pub(super) fn g_ctrl(dev: &Device, c: &mut Control) -> Result<c_int, Errno> {
    no_controls(dev)?;
    let st = dev.lock();
    c.value = st.controls.g_ctrl(&st.config, c.id)?;
    Ok(0)
}

pub(super) fn s_ctrl(dev: &Device, c: &mut Control) -> Result<c_int, Errno> {
    no_controls(dev)?;
    let mut st = dev.lock();
    let config = st.config.clone();
    let r = st.controls.s_ctrl(&config, c.id, c.value);
    dev.publish_state(&st);
    c.value = r?;
    Ok(0)
}

/// The EXT_CTRLS ioctls: the caller's array is read, handled and written
/// back (with `error_idx`) whatever the result.
///
/// # Safety
/// `cs.controls` points to `cs.count` controls when `count` is not 0.
pub(super) unsafe fn ext_ctrls(dev: &Device, cs: &mut ExtControls, op: Op) -> Result<c_int, Errno> {
    no_controls(dev)?;
    if cs.count > MAX_CTRLS {
        return Err(EINVAL);
    }
    if cs.count > 0 && cs.controls.is_null() {
        return Err(EFAULT);
    }
    let array: &mut [ExtControl] = if cs.count == 0 {
        &mut []
    } else {
        // SAFETY: per the function's contract.
        unsafe { std::slice::from_raw_parts_mut(cs.controls, cs.count as usize) }
    };
    for c in array.iter_mut() {
        c.reserved2 = [0];
    }
    let mut ctrls: Vec<ExtCtrl> = array
        .iter()
        .map(|c| ExtCtrl {
            id: c.id,
            value: c.value64 as i32,
        })
        .collect();
    let mut error_idx = cs.count;
    let mut st = dev.lock();
    let config = st.config.clone();
    let r = st
        .controls
        .ext(&config, op, cs.which, &mut ctrls, &mut error_idx);
    if op == Op::Set {
        dev.publish_state(&st);
    }
    drop(st);
    for (c, x) in array.iter_mut().zip(&ctrls) {
        // Only the 32-bit `value` half of the union is written.
        let high = (c.value64 as u64) & 0xffff_ffff_0000_0000;
        c.value64 = (high | u64::from(x.value as u32)) as i64;
    }
    cs.error_idx = error_idx;
    cs.reserved = [0];
    r.map(|()| 0)
}
