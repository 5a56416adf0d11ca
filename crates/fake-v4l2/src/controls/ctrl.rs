//! A control as a driver registers it, and the helpers the tables are
//! written with.

use super::*;

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Integer,
    Boolean,
    Menu(&'static [&'static str]),
    IntMenu(&'static [i64]),
    Class,
}

impl Kind {
    pub fn type_code(self) -> u32 {
        match self {
            Kind::Integer => TYPE_INTEGER,
            Kind::Boolean => TYPE_BOOLEAN,
            Kind::Menu(_) => TYPE_MENU,
            Kind::IntMenu(_) => TYPE_INTEGER_MENU,
            Kind::Class => TYPE_CTRL_CLASS,
        }
    }
    pub(super) fn is_menu(self) -> bool {
        matches!(self, Kind::Menu(_) | Kind::IntMenu(_))
    }
}

/// One control as the driver registers it.
#[derive(Clone, Copy, Debug)]
pub struct Ctrl {
    pub id: u32,
    pub name: &'static str,
    pub kind: Kind,
    pub min: i64,
    pub max: i64,
    pub step: u64,
    pub def: i64,
    /// Flags from `v4l2_ctrl_fill` (bcm2835) or the UVC control's
    /// GET/SET support (uvc).
    pub flags: u32,
    /// Menu indexes that are skipped: the framework's `menu_skip_mask`, or
    /// for uvc the modes the device's GET_RES bitmap leaves out.
    pub skip: u64,
    /// uvc: the auto control and the value of it that means manual
    /// (`mapping->master_id`, `master_manual`).
    pub master: Option<(u32, i64)>,
    /// uvc: the UVC control behind it, as the commit order: entity (0 the
    /// processing unit, 1 the camera terminal) × 32 + bmControls bit. Pan
    /// and tilt share the camera terminal's PANTILT_ABSOLUTE control.
    pub unit: u32,
    /// uvc: the UVC control's data is signed (`UVC_CTRL_DATA_TYPE_SIGNED`).
    pub signed: bool,
    /// bcm2835: the setter's errors are ignored (`ignore_errors`).
    pub ignore_errors: bool,
}

pub(super) const BASE: Ctrl = Ctrl {
    id: 0,
    name: "",
    kind: Kind::Integer,
    min: 0,
    max: 0,
    step: 1,
    def: 0,
    flags: 0,
    skip: 0,
    master: None,
    unit: 0,
    signed: false,
    ignore_errors: false,
};

pub(super) const fn class(id: u32, name: &'static str) -> Ctrl {
    Ctrl {
        id,
        name,
        kind: Kind::Class,
        step: 0,
        flags: FLAG_READ_ONLY | FLAG_WRITE_ONLY,
        ..BASE
    }
}

pub(super) const fn int(
    id: u32,
    name: &'static str,
    min: i64,
    max: i64,
    step: u64,
    def: i64,
) -> Ctrl {
    Ctrl {
        id,
        name,
        min,
        max,
        step,
        def,
        ..BASE
    }
}

pub(super) const fn boolean(id: u32, name: &'static str, def: i64) -> Ctrl {
    Ctrl {
        id,
        name,
        kind: Kind::Boolean,
        min: 0,
        max: 1,
        step: 1,
        def,
        ..BASE
    }
}

pub(super) const fn menu(
    id: u32,
    name: &'static str,
    items: &'static [&'static str],
    max: i64,
    skip: u64,
    def: i64,
) -> Ctrl {
    Ctrl {
        id,
        name,
        kind: Kind::Menu(items),
        min: 0,
        max,
        step: 1,
        def,
        skip,
        ..BASE
    }
}

pub(super) const fn uvc(c: Ctrl, unit: u32, signed: bool) -> Ctrl {
    Ctrl { unit, signed, ..c }
}

pub(super) const fn slave(c: Ctrl, master: u32, manual: i64) -> Ctrl {
    Ctrl {
        master: Some((master, manual)),
        ..c
    }
}

pub(super) const fn with_flags(c: Ctrl, flags: u32) -> Ctrl {
    Ctrl { flags, ..c }
}
