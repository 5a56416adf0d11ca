//! Brightness, contrast and saturation done in software, for sources that
//! have no controls of their own (the test pattern): the same control path
//! as a camera's, so every face of the service can be tried without one.

use super::controls::{ControlInfo, ControlKind, ControlsError, Write};

const BRIGHTNESS: u32 = 1;
const CONTRAST: u32 = 2;
const SATURATION: u32 = 3;

/// The three software controls and what they are set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureAdjust {
    /// -100..=100, added to every channel (0: unchanged).
    brightness: i64,
    /// 0..=200 percent around mid grey (100: unchanged).
    contrast: i64,
    /// 0..=200 percent of colour (0: grey; 100: unchanged).
    saturation: i64,
    /// Brightness and contrast as one table per channel value.
    lut: [u8; 256],
}

impl Default for PictureAdjust {
    fn default() -> Self {
        let mut a = Self {
            brightness: 0,
            contrast: 100,
            saturation: 100,
            lut: [0; 256],
        };
        a.fill_lut();
        a
    }
}

impl PictureAdjust {
    /// The controls with their current values.
    #[must_use]
    pub fn controls(&self) -> Vec<ControlInfo> {
        let c = |id, name: &str, label: &str, (min, max, default), value| ControlInfo {
            name: name.to_owned(),
            label: label.to_owned(),
            kind: ControlKind::Integer,
            min,
            max,
            step: 1,
            default,
            value,
            menu: Vec::new(),
            inactive: false,
            read_only: false,
            grabbed: false,
            id,
        };
        vec![
            c(
                BRIGHTNESS,
                "brightness",
                "Brightness",
                (-100, 100, 0),
                self.brightness,
            ),
            c(
                CONTRAST,
                "contrast",
                "Contrast",
                (0, 200, 100),
                self.contrast,
            ),
            c(
                SATURATION,
                "saturation",
                "Saturation",
                (0, 200, 100),
                self.saturation,
            ),
        ]
    }

    /// Set checked writes (from [`super::controls::resolve`] on
    /// [`Self::controls`]).
    ///
    /// # Errors
    /// An id that is not one of the three (never from a checked write).
    pub fn set(&mut self, writes: &[Write]) -> Result<(), ControlsError> {
        let mut next = self.clone();
        for w in writes {
            match w.id {
                BRIGHTNESS => next.brightness = w.value.clamp(-100, 100),
                CONTRAST => next.contrast = w.value.clamp(0, 200),
                SATURATION => next.saturation = w.value.clamp(0, 200),
                _ => {
                    return Err(ControlsError::Refused {
                        name: w.name.clone(),
                        why: "not a control of this source".to_owned(),
                    });
                }
            }
        }
        next.fill_lut();
        *self = next;
        Ok(())
    }

    fn fill_lut(&mut self) {
        for (v, out) in self.lut.iter_mut().enumerate() {
            // (v - 128) * contrast% + 128 + brightness * 255 / 100
            let v = v as i64;
            let adjusted = (v - 128) * self.contrast / 100 + 128 + self.brightness * 255 / 100;
            *out = adjusted.clamp(0, 255) as u8;
        }
    }

    /// True when the picture is left as it is.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.brightness == 0 && self.contrast == 100 && self.saturation == 100
    }

    /// Adjust packed RGB in place: one table look-up per channel for
    /// brightness and contrast, fixed-point arithmetic for saturation.
    pub fn apply(&self, rgb: &mut [u8]) {
        if self.is_identity() {
            return;
        }
        if self.saturation == 100 {
            for v in rgb.iter_mut() {
                *v = self.lut[usize::from(*v)];
            }
            return;
        }
        // The saturation as a factor in 1/256ths.
        let k = i32::try_from(self.saturation * 256 / 100).unwrap_or(256);
        for px in rgb.chunks_exact_mut(3) {
            let r = i32::from(self.lut[usize::from(px[0])]);
            let g = i32::from(self.lut[usize::from(px[1])]);
            let b = i32::from(self.lut[usize::from(px[2])]);
            // BT.601 luma, then each channel pulled towards or away from it.
            let y = (77 * r + 150 * g + 29 * b) >> 8;
            px[0] = (y + (((r - y) * k) >> 8)).clamp(0, 255) as u8;
            px[1] = (y + (((g - y) * k) >> 8)).clamp(0, 255) as u8;
            px[2] = (y + (((b - y) * k) >> 8)).clamp(0, 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::controls::{ControlValue, resolve};

    fn set(a: &mut PictureAdjust, name: &str, value: i64) {
        let writes = resolve(
            &a.controls(),
            &[(name.to_owned(), ControlValue::Number(value))],
        )
        .expect("valid");
        a.set(&writes).expect("set");
    }

    #[test]
    fn defaults_leave_the_picture_alone() {
        let a = PictureAdjust::default();
        let mut rgb = vec![10, 128, 250, 0, 0, 0];
        a.apply(&mut rgb);
        assert_eq!(rgb, [10, 128, 250, 0, 0, 0]);
    }

    #[test]
    fn each_control_does_what_it_says() {
        let mut a = PictureAdjust::default();
        set(&mut a, "brightness", 20);
        let mut rgb = vec![100, 100, 100];
        a.apply(&mut rgb);
        assert_eq!(rgb, [151, 151, 151]);
        let mut a = PictureAdjust::default();
        set(&mut a, "contrast", 200);
        let mut rgb = vec![64, 128, 192];
        a.apply(&mut rgb);
        assert_eq!(rgb, [0, 128, 255]);
        let mut a = PictureAdjust::default();
        set(&mut a, "saturation", 0);
        let mut rgb = vec![255, 0, 0];
        a.apply(&mut rgb);
        assert_eq!(rgb[0], rgb[1]);
        assert_eq!(rgb[1], rgb[2]);
        assert_eq!(a.controls()[2].value, 0);
    }

    #[test]
    fn out_of_range_is_refused_by_name() {
        let a = PictureAdjust::default();
        let err = resolve(
            &a.controls(),
            &[("contrast".to_owned(), ControlValue::Number(201))],
        )
        .expect_err("refused");
        assert_eq!(err.to_string(), "contrast: must be 0 to 200 (got 201)");
    }
}
