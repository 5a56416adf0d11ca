//! Pixel colours for the terminal: true colour, or the nearest entry of the
//! xterm 256-colour palette where the terminal has no true colour.

use ratatui::style::Color;

/// One pixel, red, green, blue.
pub type Rgb = [u8; 3];

/// How colours reach the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// 24-bit colour, each channel rounded to 32 levels so camera noise does
    /// not change every cell on every frame (unchanged cells are not resent).
    TrueColor,
    /// The xterm 256-colour palette (6×6×6 cube and 24 greys), nearest match.
    Palette256,
}

impl ColorMode {
    /// From the environment: `COLORTERM=truecolor|24bit` means true colour.
    #[must_use]
    pub fn detect() -> Self {
        Self::from_colorterm(std::env::var("COLORTERM").ok().as_deref())
    }

    /// From a `COLORTERM` value.
    #[must_use]
    pub fn from_colorterm(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("truecolor" | "24bit") => Self::TrueColor,
            _ => Self::Palette256,
        }
    }

    /// The terminal colour for one pixel.
    #[must_use]
    pub fn color(self, rgb: Rgb) -> Color {
        match self {
            Self::TrueColor => {
                let [r, g, b] = rgb.map(quantize);
                Color::Rgb(r, g, b)
            }
            Self::Palette256 => Color::Indexed(ansi256(rgb)),
        }
    }
}

/// Round a channel to one of 32 evenly spaced levels, 0 and 255 included.
#[must_use]
pub fn quantize(v: u8) -> u8 {
    let level = (u32::from(v) * 31 + 127) / 255;
    u8::try_from((level * 255 + 15) / 31).unwrap_or(u8::MAX)
}

const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn cube_index(v: u8) -> usize {
    CUBE_LEVELS
        .iter()
        .enumerate()
        .min_by_key(|&(_, &l)| l.abs_diff(v))
        .map_or(0, |(i, _)| i)
}

fn distance(a: Rgb, b: Rgb) -> u32 {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| u32::from(x.abs_diff(y)).pow(2))
        .sum()
}

/// The nearest xterm 256-colour index (cube 16–231 or grey 232–255).
#[must_use]
pub fn ansi256(rgb: Rgb) -> u8 {
    let [ri, gi, bi] = rgb.map(cube_index);
    let cube_rgb = [CUBE_LEVELS[ri], CUBE_LEVELS[gi], CUBE_LEVELS[bi]];
    let cube = 16 + 36 * ri + 6 * gi + bi;
    let mean = rgb.iter().map(|&c| u32::from(c)).sum::<u32>() / 3;
    // Greys are 8, 18, …, 238.
    let grey_step = (mean.saturating_sub(3) / 10).min(23);
    let grey_value = u8::try_from(8 + 10 * grey_step).unwrap_or(u8::MAX);
    let grey = 232 + grey_step as usize;
    let best = if distance(rgb, [grey_value; 3]) < distance(rgb, cube_rgb) {
        grey
    } else {
        cube
    };
    u8::try_from(best).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_picks_the_nearest_cube_or_grey() {
        assert_eq!(ansi256([255, 0, 0]), 196);
        assert_eq!(ansi256([0, 0, 0]), 16);
        assert_eq!(ansi256([255, 255, 255]), 231);
        assert_eq!(ansi256([128, 128, 128]), 244);
        assert_eq!(ansi256([0, 95, 135]), 24);
        assert_eq!(
            ColorMode::from_colorterm(Some("truecolor")),
            ColorMode::TrueColor
        );
        assert_eq!(
            ColorMode::from_colorterm(Some("24bit")),
            ColorMode::TrueColor
        );
        assert_eq!(ColorMode::from_colorterm(None), ColorMode::Palette256);
        assert_eq!(
            ColorMode::TrueColor.color([255, 0, 0]),
            Color::Rgb(255, 0, 0)
        );
        assert_eq!(quantize(128), 132);
        assert!(
            (0..=255u8)
                .all(|v| quantize(quantize(v)) == quantize(v) && quantize(v).abs_diff(v) <= 4)
        );
        assert_eq!((quantize(0), quantize(255)), (0, 255));
    }
}
