//! The control framework's answers to the extended control calls
//! (`v4l2-ctrls-api.c`, `v4l2-ctrls-core.c`), for bcm2835-v4l2.

use super::*;

impl Controls {
    /// `prepare_ext_ctrls` (ids and the class in `which`).
    pub(super) fn core_prepare(
        &self,
        which: u32,
        ctrls: &[ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        for (n, x) in ctrls.iter().enumerate() {
            *error_idx = n as u32;
            let id = x.id & ID_MASK;
            if which != 0
                && which != WHICH_DEF_VAL
                && which != WHICH_REQUEST_VAL
                && id2which(id) != which
            {
                return Err(EINVAL);
            }
            if id >= PRIVATE_BASE {
                return Err(EINVAL);
            }
            self.index(id).ok_or(EINVAL)?;
        }
        Ok(())
    }

    /// `class_check` for a call with no controls.
    pub(super) fn core_class_check(&self, which: u32) -> Result<(), i32> {
        if which == 0 || which == WHICH_DEF_VAL || which == WHICH_REQUEST_VAL {
            return Ok(());
        }
        self.index(which | 1).map(|_| ()).ok_or(EINVAL)
    }

    /// `v4l2_g_ext_ctrls_common`.
    pub(super) fn core_get(
        &self,
        which: u32,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        if which == WHICH_REQUEST_VAL {
            // Requests need a media device, which bcm2835-v4l2 has not.
            return Err(EINVAL);
        }
        let count = ctrls.len() as u32;
        let which = id2which(which);
        if ctrls.is_empty() {
            return self.core_class_check(which);
        }
        let prepared = self.core_prepare(which, ctrls, error_idx);
        *error_idx = count;
        prepared?;
        for x in ctrls.iter() {
            let c = &self.defs[self.index(x.id & ID_MASK).ok_or(EINVAL)?];
            if c.flags & FLAG_WRITE_ONLY != 0 {
                return Err(EACCES);
            }
        }
        for (n, x) in ctrls.iter_mut().enumerate() {
            *error_idx = n as u32;
            let i = self.index(x.id & ID_MASK).ok_or(EINVAL)?;
            x.value = if which == WHICH_DEF_VAL {
                self.defs[i].def
            } else {
                self.values[i]
            } as i32;
        }
        Ok(())
    }

    /// `try_set_ext_ctrls_common`: every control is validated before any
    /// is set (error_idx `count` for S, the control for TRY); then each
    /// (a one-control cluster in bcm2835-v4l2) is set in the caller's
    /// order, so a driver failure leaves the earlier ones set and
    /// error_idx at the failing one.
    pub(super) fn core_set(
        &mut self,
        cfg: &NodeConfig,
        op: Op,
        which: u32,
        ctrls: &mut [ExtCtrl],
        error_idx: &mut u32,
    ) -> Result<(), i32> {
        let count = ctrls.len() as u32;
        if which == WHICH_DEF_VAL || which == WHICH_REQUEST_VAL {
            return Err(EINVAL);
        }
        let which = id2which(which);
        if ctrls.is_empty() {
            return self.core_class_check(which);
        }
        let mut checked = self.core_prepare(which, ctrls, error_idx);
        if checked.is_ok() {
            // validate_ctrls
            *error_idx = count;
            for (n, x) in ctrls.iter().enumerate() {
                *error_idx = n as u32;
                let c = &self.defs[self.index(x.id & ID_MASK).ok_or(EINVAL)?];
                if c.flags & FLAG_READ_ONLY != 0 {
                    checked = Err(EACCES);
                } else if op == Op::Set && self.grabbed(cfg, c) {
                    checked = Err(EBUSY);
                } else {
                    checked = core_validate(c, x.value).map(|_| ());
                }
                if checked.is_err() {
                    break;
                }
            }
        }
        if checked.is_err() && op == Op::Set {
            *error_idx = count;
        }
        checked?;
        for (n, x) in ctrls.iter_mut().enumerate() {
            *error_idx = n as u32;
            let i = self.index(x.id & ID_MASK).ok_or(EINVAL)?;
            let v = core_validate(&self.defs[i], x.value)?;
            if op == Op::Set {
                self.core_commit(cfg, i, v)?;
            }
            x.value = v;
        }
        Ok(())
    }
}

/// `std_validate` of `v4l2-ctrls-core.c` for 32-bit controls: integers
/// `ROUND_TO_RANGE`, booleans `!!`, menus ERANGE outside min..max and
/// EINVAL for a skipped or empty item.
pub(super) fn core_validate(c: &Ctrl, value: i32) -> Result<i32, i32> {
    match c.kind {
        Kind::Integer => {
            let (min, max) = (c.min as i32, c.max as i32);
            let step = c.step as u32;
            let half = (step / 2) as i32;
            let mut val = if max >= 0 && value >= max.wrapping_sub(half) {
                max
            } else {
                value.wrapping_add(half)
            };
            val = val.clamp(min, max);
            let offset = val.wrapping_sub(min) as u32;
            let offset = if step == 0 {
                offset
            } else {
                step * (offset / step)
            };
            Ok(min.wrapping_add(offset as i32))
        }
        Kind::Boolean => Ok(i32::from(value != 0)),
        Kind::Menu(items) => {
            if i64::from(value) < c.min || i64::from(value) > c.max {
                return Err(ERANGE);
            }
            if c.skip & (1u64 << value) != 0
                || items.get(value as usize).is_none_or(|n| n.is_empty())
            {
                return Err(EINVAL);
            }
            Ok(value)
        }
        Kind::IntMenu(_) => {
            if i64::from(value) < c.min || i64::from(value) > c.max {
                return Err(ERANGE);
            }
            if c.skip & (1u64 << value) != 0 {
                return Err(EINVAL);
            }
            Ok(value)
        }
        Kind::Class => Ok(0),
    }
}
