//! uvcvideo's own answers to the extended control calls
//! (`uvc_v4l2.c`, `uvc_ctrl.c`).

use super::*;

impl Controls {
    /// `uvc_ctrl_is_accessible` for one control of the call.
    pub(super) fn uvc_accessible(&self, id: u32, op: Op, ctrls: &[ExtCtrl]) -> Result<(), i32> {
        let i = self.index(id).ok_or(EINVAL)?;
        let c = &self.defs[i];
        if matches!(c.kind, Kind::Class) {
            return Err(EACCES);
        }
        if op != Op::Set {
            return Ok(());
        }
        let Some((master, manual)) = c.master else {
            return Ok(());
        };
        // The master's last value in this call, or its current value.
        let master_value = ctrls
            .iter()
            .rev()
            .find(|x| x.id == master)
            .map(|x| i64::from(x.value))
            .or_else(|| self.value_of(master));
        match master_value {
            Some(v) if v != manual => Err(EACCES),
            _ => Ok(()),
        }
    }

    /// `uvc_ctrl_check_access`: every control first; error_idx is the
    /// control for TRY, `count` for G and S.
    pub(super) fn uvc_check_access(
        &self,
        op: Op,
        ctrls: &[ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        let mut result = Ok(());
        let mut i = 0;
        while i < ctrls.len() {
            result = self.uvc_accessible(ctrls[i].id, op, ctrls);
            if result.is_err() {
                break;
            }
            i += 1;
        }
        *error_idx = if op == Op::Try {
            i as u32
        } else {
            ctrls.len() as u32
        };
        result
    }

    /// `uvc_ioctl_g_ext_ctrls`.
    pub(super) fn uvc_get(
        &self,
        which: u32,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        if ctrls.is_empty() {
            return Ok(());
        }
        self.uvc_check_access(Op::Get, ctrls, error_idx)?;
        for x in ctrls.iter_mut() {
            let i = self.value_index(x.id).ok_or(EINVAL)?;
            x.value = if which == WHICH_DEF_VAL {
                self.defs[i].def
            } else {
                self.values[i]
            } as i32;
        }
        *error_idx = 0;
        Ok(())
    }

    /// `uvc_ioctl_s_try_ext_ctrls`: access checks, then `uvc_ctrl_set`
    /// (clamping in place) for each, then for S `uvc_ctrl_commit`, which
    /// writes the UVC controls entity by entity in the device's order.
    pub(super) fn uvc_set(
        &mut self,
        cfg: &NodeConfig,
        op: Op,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        if ctrls.is_empty() {
            return Ok(());
        }
        self.uvc_check_access(op, ctrls, error_idx)?;
        let mut pending: Vec<(usize, i64)> = Vec::new();
        for (n, x) in ctrls.iter_mut().enumerate() {
            let i = self.value_index(x.id).ok_or(EINVAL);
            let clamped = i.and_then(|i| uvc_clamp(&self.defs[i], x.value).map(|v| (i, v)));
            match clamped {
                Ok((i, v)) => {
                    x.value = v;
                    pending.retain(|&(j, _)| j != i);
                    pending.push((i, i64::from(v)));
                }
                Err(errno) => {
                    *error_idx = if op == Op::Set {
                        ctrls.len() as u32
                    } else {
                        n as u32
                    };
                    return Err(errno);
                }
            }
        }
        *error_idx = 0;
        if op == Op::Try {
            return Ok(());
        }
        // Dirty UVC controls in commit order: entity, then bmControls bit.
        let mut units: Vec<u32> = pending.iter().map(|&(i, _)| self.defs[i].unit).collect();
        units.sort_unstable();
        units.dedup();
        let mut failed: Option<(u32, i32)> = None;
        for unit in units {
            let members: Vec<&(usize, i64)> = pending
                .iter()
                .filter(|&&(i, _)| self.defs[i].unit == unit)
                .collect();
            let fault = members
                .iter()
                .find_map(|&&(i, _)| Self::fault(cfg, &self.defs[i]));
            if failed.is_some() {
                continue; // rolled back
            }
            if let Some(errno) = fault {
                failed = Some((unit, errno));
                continue;
            }
            for &&(i, v) in &members {
                self.values[i] = v;
            }
        }
        if let Some((unit, errno)) = failed {
            // uvc_ctrl_find_ctrl_idx: the first control of the call that
            // is this UVC control.
            *error_idx = ctrls
                .iter()
                .position(|x| self.index(x.id).is_some_and(|i| self.defs[i].unit == unit))
                .map_or(ctrls.len() as u32, |p| p as u32);
            return Err(errno);
        }
        Ok(())
    }
}

/// `uvc_ctrl_clamp`: integers rounded to the step and clamped (a negative
/// value of an unsigned UVC control clamps to the maximum, as the kernel's
/// `clamp_t(u32, …)` does), booleans clamped to 0..1, menus ERANGE outside
/// min..max and EINVAL for a mode the device does not offer.
pub(super) fn uvc_clamp(c: &Ctrl, value: i32) -> Result<i32, i32> {
    match c.kind {
        Kind::Integer => {
            let (min, max) = (c.min as i32, c.max as i32);
            let step = if c.step == 0 { 1 } else { c.step as u32 };
            let x = value.wrapping_sub(min) as u32;
            let q = x.wrapping_add(step / 2) / step;
            let v = (min as u32).wrapping_add(q.wrapping_mul(step)) as i32;
            Ok(if c.signed {
                v.clamp(min, max)
            } else {
                (v as u32).clamp(min as u32, max as u32) as i32
            })
        }
        Kind::Boolean => Ok(value.clamp(0, 1)),
        Kind::Menu(_) | Kind::IntMenu(_) => {
            if i64::from(value) < c.min || i64::from(value) > c.max {
                Err(ERANGE)
            } else if c.skip & (1 << value) != 0 {
                Err(EINVAL)
            } else {
                Ok(value)
            }
        }
        Kind::Class => Err(EACCES),
    }
}
