//! V4L2 controls of the emulated drivers, as the kernel answers them.
//!
//! Two implementations, because the kernel has two:
//!
//! - uvcvideo does not use the control framework: `uvc_v4l2.c`
//!   (`uvc_ioctl_query_ext_ctrl`, `uvc_ioctl_g_ext_ctrls`,
//!   `uvc_ioctl_s_try_ext_ctrls`, `uvc_ctrl_check_access`) and
//!   `uvc_ctrl.c` (`uvc_query_v4l2_ctrl`, `uvc_query_v4l2_menu`,
//!   `uvc_ctrl_is_accessible`, `uvc_ctrl_clamp`, `uvc_ctrl_set`,
//!   `__uvc_ctrl_commit`), behind `v4l2-ioctl.c`, which turns G_CTRL and
//!   S_CTRL into one-control G/S_EXT_CTRLS (`v4l_g_ctrl`, `v4l_s_ctrl`)
//!   after `check_ext_ctrls`, and QUERYCTRL into QUERY_EXT_CTRL;
//! - bcm2835-v4l2 registers its controls with the framework
//!   (`controls.c` of raspberrypi/linux), so `v4l2-ctrls-api.c`
//!   (`v4l2_query_ext_ctrl`, `v4l2_queryctrl`, `v4l2_querymenu`,
//!   `v4l2_g_ctrl`, `v4l2_s_ctrl`, `v4l2_g_ext_ctrls_common`,
//!   `try_set_ext_ctrls_common`, `prepare_ext_ctrls`, `validate_ctrls`) and
//!   `v4l2-ctrls-core.c` (`std_validate`, `try_or_set_cluster`) answer.
//!
//! Names, types, menus and the SLIDER/UPDATE flags are those of
//! `v4l2-ctrls-defs.c`.

mod ctrl;
mod framework;
mod ids;
mod tables;
mod uvc;

pub use ctrl::*;
pub use ids::*;
pub use tables::table;

use crate::config::{NodeConfig, ProfileKind};
use framework::core_validate;

/// The name `v4l2-ctl` shows a control by: lower case, each run of other
/// characters one `_`, none at the ends ("Exposure Time, Absolute" →
/// `exposure_time_absolute`).
pub fn var_name(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// An errno by name (`EIO`) or number.
pub fn errno_by_name(name: &str) -> Option<i32> {
    Some(match name {
        "EPERM" => 1,
        "ENOENT" => 2,
        "EINTR" => 4,
        "EIO" => 5,
        "ENXIO" => 6,
        "EAGAIN" => 11,
        "ENOMEM" => 12,
        "EACCES" => 13,
        "EFAULT" => 14,
        "EBUSY" => 16,
        "ENODEV" => 19,
        "EINVAL" => 22,
        "ENOSPC" => 28,
        "EPIPE" => 32,
        "ERANGE" => 34,
        "EPROTO" => 71,
        "ETIMEDOUT" => 110,
        "EREMOTE" => 66,
        "EREMOTEIO" => 121,
        other => return other.parse().ok().filter(|&n: &i32| n > 0),
    })
}

/// What QUERY_EXT_CTRL fills in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Query {
    pub id: u32,
    pub type_: u32,
    pub name: &'static str,
    pub minimum: i64,
    pub maximum: i64,
    pub step: u64,
    pub default_value: i64,
    pub flags: u32,
    pub elem_size: u32,
    pub elems: u32,
}

/// A menu item: a name, or an integer menu's value.
#[derive(Clone, Copy, Debug)]
pub enum MenuItem {
    Name(&'static str),
    Value(i64),
}

/// One `struct v4l2_ext_control` as the emulation sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtCtrl {
    pub id: u32,
    pub value: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Get,
    Try,
    Set,
}

/// The control values of one device instance.
#[derive(Clone, Debug)]
pub struct Controls {
    kind: ProfileKind,
    defs: &'static [Ctrl],
    values: Vec<i64>,
}

impl Controls {
    /// Every control at its default, as the driver starts.
    pub fn new(kind: ProfileKind) -> Self {
        let defs = table(kind);
        Self {
            kind,
            defs,
            values: defs.iter().map(|c| c.def).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    fn uvc(&self) -> bool {
        self.kind == ProfileKind::Uvc
    }

    fn index(&self, id: u32) -> Option<usize> {
        self.defs.iter().position(|c| c.id == id)
    }

    /// A control that can hold a value (not a class).
    fn value_index(&self, id: u32) -> Option<usize> {
        self.index(id)
            .filter(|&i| !matches!(self.defs[i].kind, Kind::Class))
    }

    fn value_of(&self, id: u32) -> Option<i64> {
        self.index(id).map(|i| self.values[i])
    }

    /// `name=value` of every control, in enumeration order.
    pub fn state_lines(&self) -> String {
        let mut out = String::new();
        for (c, v) in self.defs.iter().zip(&self.values) {
            if !matches!(c.kind, Kind::Class) {
                out.push_str(&format!("{}={v}\n", var_name(c.name)));
            }
        }
        out
    }

    fn grabbed(&self, cfg: &NodeConfig, c: &Ctrl) -> bool {
        // uvcvideo never grabs a control (no v4l2_ctrl_grab).
        !self.uvc() && cfg.controls_grabbed.iter().any(|n| *n == var_name(c.name))
    }

    fn fault(cfg: &NodeConfig, c: &Ctrl) -> Option<i32> {
        let name = var_name(c.name);
        cfg.control_fail
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, e)| e)
    }

    fn flags(&self, cfg: &NodeConfig, c: &Ctrl) -> u32 {
        let mut flags = c.flags;
        if let Some((master, manual)) = c.master {
            // __uvc_query_v4l2_ctrl: INACTIVE while the master is not manual.
            if self.value_of(master).is_some_and(|v| v != manual) {
                flags |= FLAG_INACTIVE;
            }
        }
        if self.grabbed(cfg, c) {
            flags |= FLAG_GRABBED;
        }
        flags
    }

    /// VIDIOC_QUERY_EXT_CTRL (`v4l2_query_ext_ctrl`, `uvc_query_v4l2_ctrl`).
    pub fn query(&self, cfg: &NodeConfig, id: u32) -> Result<Query, i32> {
        let next = id & (FLAG_NEXT_CTRL | FLAG_NEXT_COMPOUND);
        let wanted = id & ID_MASK;
        let i = if next == 0 {
            self.index(wanted).ok_or(EINVAL)?
        } else if next == FLAG_NEXT_COMPOUND {
            // Only compound controls, and neither driver has one.
            return Err(EINVAL);
        } else {
            self.defs.iter().position(|c| c.id > wanted).ok_or(EINVAL)?
        };
        let c = &self.defs[i];
        // uvcvideo's QUERY_EXT_CTRL built from QUERYCTRL (before it had a
        // handler of its own) reports elem_size 4 and elems 1 for every
        // entry, the class ones too, as the framework does.
        let (elem_size, elems) = (4, 1);
        Ok(Query {
            id: c.id,
            type_: c.kind.type_code(),
            name: c.name,
            minimum: c.min,
            maximum: c.max,
            step: if c.kind.is_menu() { 1 } else { c.step },
            default_value: c.def,
            flags: self.flags(cfg, c),
            elem_size,
            elems,
        })
    }

    /// VIDIOC_QUERYMENU (`v4l2_querymenu`, `uvc_query_v4l2_menu`).
    pub fn querymenu(&self, id: u32, index: u32) -> Result<MenuItem, i32> {
        if self.uvc() && index >= 32 {
            return Err(EINVAL);
        }
        let c = &self.defs[self.index(id).ok_or(EINVAL)?];
        let i = i64::from(index);
        if i < c.min || i > c.max || (index < 64 && c.skip & (1 << index) != 0) {
            return Err(EINVAL);
        }
        match c.kind {
            Kind::Menu(items) => match items.get(index as usize) {
                Some(name) if !name.is_empty() => Ok(MenuItem::Name(name)),
                _ => Err(EINVAL),
            },
            Kind::IntMenu(values) if !self.uvc() => values
                .get(index as usize)
                .map(|&v| MenuItem::Value(v))
                .ok_or(EINVAL),
            _ => Err(EINVAL),
        }
    }

    /// VIDIOC_G_CTRL.
    pub fn g_ctrl(&self, cfg: &NodeConfig, id: u32) -> Result<i32, i32> {
        if self.uvc() {
            let mut one = [ExtCtrl { id, value: 0 }];
            let mut error_idx = 0;
            self.uvc_get(id2which(id), &mut one, &mut error_idx)?;
            return Ok(one[0].value);
        }
        let _ = cfg;
        let c = &self.defs[self.index(id).ok_or(EINVAL)?];
        if c.flags & FLAG_WRITE_ONLY != 0 {
            return Err(EACCES);
        }
        Ok(self.values[self.index(id).ok_or(EINVAL)?] as i32)
    }

    /// VIDIOC_S_CTRL; the value the control took.
    pub fn s_ctrl(&mut self, cfg: &NodeConfig, id: u32, value: i32) -> Result<i32, i32> {
        if self.uvc() {
            let mut one = [ExtCtrl { id, value }];
            let mut error_idx = 0;
            // v4l_s_ctrl: which = the id's class, as check_ext_ctrls wants.
            self.ext(cfg, Op::Set, id2which(id), &mut one, &mut error_idx)?;
            return Ok(one[0].value);
        }
        let i = self.index(id).ok_or(EINVAL)?;
        let c = self.defs[i];
        if c.flags & FLAG_READ_ONLY != 0 {
            return Err(EACCES);
        }
        let v = core_validate(&c, value)?;
        if self.grabbed(cfg, &c) {
            return Err(EBUSY);
        }
        self.core_commit(cfg, i, v)?;
        Ok(self.values[i] as i32)
    }

    /// `try_or_set_cluster` for a one-control cluster: no change, no
    /// s_ctrl; a failing s_ctrl leaves the value as it was.
    fn core_commit(&mut self, cfg: &NodeConfig, i: usize, v: i32) -> Result<(), i32> {
        let c = self.defs[i];
        if self.values[i] == i64::from(v) {
            return Ok(());
        }
        if let Some(errno) = Self::fault(cfg, &c)
            && !c.ignore_errors
        {
            return Err(errno);
        }
        self.values[i] = i64::from(v);
        Ok(())
    }

    /// VIDIOC_G/TRY/S_EXT_CTRLS after `v4l2-ioctl.c` set `error_idx` to
    /// `count`. `ctrls` are the caller's controls, changed in place (the
    /// kernel copies them back even on failure).
    pub fn ext(
        &mut self,
        cfg: &NodeConfig,
        op: Op,
        which: u32,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        let count = ctrls.len() as u32;
        *error_idx = count;
        if self.uvc() {
            check_ext_ctrls(op, which, ctrls, error_idx)?;
            return match op {
                Op::Get => self.uvc_get(which, ctrls, error_idx),
                _ => self.uvc_set(cfg, op, ctrls, error_idx),
            };
        }
        match op {
            Op::Get => self.core_get(which, ctrls, error_idx),
            _ => self.core_set(cfg, op, which, ctrls, error_idx),
        }
    }
}

/// `check_ext_ctrls` of `v4l2-ioctl.c`, before a driver's own handler.
fn check_ext_ctrls(op: Op, which: u32, ctrls: &[ExtCtrl], error_idx: &mut u32) -> Result<(), i32> {
    match which {
        WHICH_DEF_VAL => {
            if op != Op::Get {
                *error_idx = ctrls.len() as u32;
                return Err(EINVAL);
            }
            return Ok(());
        }
        WHICH_CUR_VAL => return Ok(()),
        WHICH_REQUEST_VAL => {
            *error_idx = ctrls.len() as u32;
            return Err(EINVAL);
        }
        _ => {}
    }
    for (n, x) in ctrls.iter().enumerate() {
        if id2which(x.id) != which {
            *error_idx = if op == Op::Try {
                n as u32
            } else {
                ctrls.len() as u32
            };
            return Err(EINVAL);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
