//! What a key asks of a control: the next value on an integer's grid, a
//! menu's next item, a boolean flipped, the default; and values as a
//! request gives them and as a person reads them.

use super::Key;
use crate::capture::controls::{ControlInfo, ControlKind, ControlValue};

/// The raw value `change` asks of `c`, from `base` (the value shown, or the
/// one already asked for); `None` when it asks nothing of this kind.
#[must_use]
pub fn target(c: &ControlInfo, base: i64, change: Key) -> Option<i64> {
    match (c.kind, change) {
        (_, Key::Default) => Some(c.default),
        (ControlKind::Boolean, Key::Step(_) | Key::Cycle) => Some(i64::from(base == 0)),
        (ControlKind::Integer, Key::Step(n)) => Some(step_integer(c, base, n)),
        (ControlKind::Menu | ControlKind::IntegerMenu, Key::Step(n)) => step_menu(c, base, n),
        (ControlKind::Menu | ControlKind::IntegerMenu, Key::Cycle) => {
            let pos = c.menu.iter().position(|m| m.index == base);
            let next = pos.map_or(0, |p| (p + 1) % c.menu.len());
            c.menu.get(next).map(|m| m.index)
        }
        _ => None,
    }
}

/// `n` steps from `base` on the grid `min + k * step`, kept within the range
/// (a value off the grid goes to the grid point in that direction).
fn step_integer(c: &ControlInfo, base: i64, n: i64) -> i64 {
    let step = i64::try_from(c.step.max(1)).unwrap_or(i64::MAX);
    let top = (c.max.saturating_sub(c.min) / step).max(0);
    let offset = base.saturating_sub(c.min);
    let k = offset.div_euclid(step);
    let on_grid = offset.rem_euclid(step) == 0;
    let moved = if n < 0 && !on_grid {
        k.saturating_add(n).saturating_add(1)
    } else {
        k.saturating_add(n)
    };
    c.min
        .saturating_add(moved.clamp(0, top).saturating_mul(step))
}

/// `n` items on from `base`, stopping at the first and the last.
fn step_menu(c: &ControlInfo, base: i64, n: i64) -> Option<i64> {
    let last = i64::try_from(c.menu.len()).ok()?.checked_sub(1)?;
    let pos = match c.menu.iter().position(|m| m.index == base) {
        Some(p) => i64::try_from(p).ok()?,
        // Not an item: the first step lands on the first or the last.
        None if n > 0 => -1,
        None => last + 1,
    };
    let to = usize::try_from(pos.saturating_add(n).clamp(0, last)).ok()?;
    c.menu.get(to).map(|m| m.index)
}

/// `raw` as a person reads it for `c` (a menu item's name).
pub(super) fn text_of(c: &ControlInfo, raw: i64) -> String {
    let mut shown = c.clone();
    shown.value = raw;
    shown.value_text()
}

/// `raw` as a request gives it for `c`, and as a person reads it.
pub(super) fn request_value(c: &ControlInfo, raw: i64) -> (ControlValue, String) {
    let value = match c.kind {
        ControlKind::Boolean => ControlValue::Bool(raw != 0),
        _ => ControlValue::Number(raw),
    };
    (value, text_of(c, raw))
}

/// The value `text` (as the service reports an applied value) stands for.
pub(super) fn raw_from_text(c: &ControlInfo, text: &str) -> Option<i64> {
    match c.kind {
        ControlKind::Boolean => match text {
            "true" => Some(1),
            "false" => Some(0),
            _ => None,
        },
        ControlKind::Integer => text.parse().ok(),
        ControlKind::Menu | ControlKind::IntegerMenu => c
            .menu
            .iter()
            .find(|m| m.name == text)
            .map(|m| m.index)
            .or_else(|| text.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::controls::MenuItem;

    fn control(kind: ControlKind, (min, max, step): (i64, i64, u64), value: i64) -> ControlInfo {
        ControlInfo {
            name: "x".into(),
            label: "X".into(),
            kind,
            min,
            max,
            step,
            default: 7,
            value,
            menu: Vec::new(),
            inactive: false,
            read_only: false,
            grabbed: false,
            id: 1,
        }
    }

    #[test]
    fn integers_step_on_their_grid_and_stay_in_range() {
        let c = control(ControlKind::Integer, (0, 255, 5), 125);
        assert_eq!(target(&c, 125, Key::Step(1)), Some(130));
        assert_eq!(target(&c, 125, Key::Step(-10)), Some(75));
        assert_eq!(target(&c, 250, Key::Step(10)), Some(255));
        assert_eq!(target(&c, 3, Key::Step(-10)), Some(0));
        // Off the grid: to the next grid point that way.
        assert_eq!(target(&c, 127, Key::Step(1)), Some(130));
        assert_eq!(target(&c, 127, Key::Step(-1)), Some(125));
        assert_eq!(target(&c, 127, Key::Default), Some(7));
        assert_eq!(target(&c, 127, Key::Cycle), None);
        let odd = control(ControlKind::Integer, (3, 2047, 1), 2047);
        assert_eq!(target(&odd, 2047, Key::Step(1)), Some(2047));
        let signed = control(ControlKind::Integer, (-100, 100, 1), 0);
        assert_eq!(target(&signed, 0, Key::Step(-1)), Some(-1));
    }

    #[test]
    fn menus_step_to_the_next_item_and_enter_cycles() {
        let mut c = control(ControlKind::Menu, (0, 3, 1), 1);
        c.menu = [(1, "Manual Mode"), (3, "Aperture Priority Mode")]
            .map(|(index, name)| MenuItem {
                index,
                name: name.into(),
            })
            .to_vec();
        assert_eq!(target(&c, 1, Key::Step(1)), Some(3));
        assert_eq!(target(&c, 3, Key::Step(1)), Some(3));
        assert_eq!(target(&c, 3, Key::Step(-10)), Some(1));
        assert_eq!(target(&c, 3, Key::Cycle), Some(1));
        assert_eq!(target(&c, 2, Key::Step(1)), Some(1));
        let b = control(ControlKind::Boolean, (0, 1, 1), 1);
        assert_eq!(target(&b, 1, Key::Step(1)), Some(0));
        assert_eq!(target(&b, 0, Key::Step(-1)), Some(1));
        assert_eq!(target(&b, 0, Key::Cycle), Some(1));
    }
}
