//! Rotation and mirroring of packed RGB24, applied before encoding.

/// Rotation and mirroring applied to a picture before encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transform {
    /// Clockwise degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    pub flip_h: bool,
    pub flip_v: bool,
}

impl Transform {
    /// True when the picture passes unchanged.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.rotation == 0 && !self.flip_h && !self.flip_v
    }

    /// Size of the output for an input of `width` x `height`.
    #[must_use]
    pub fn output_size(&self, width: u32, height: u32) -> (u32, u32) {
        if self.rotation == 90 || self.rotation == 270 {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Apply to packed RGB24 `src` into `dst` (resized as needed); returns the
    /// output size. Mirroring happens after rotation, in output coordinates.
    pub fn apply(&self, src: &[u8], width: u32, height: u32, dst: &mut Vec<u8>) -> (u32, u32) {
        let (w, h) = (width as usize, height as usize);
        let (ow, oh) = self.output_size(width, height);
        let (ow_us, oh_us) = (ow as usize, oh as usize);
        dst.resize(w * h * 3, 0);
        if self.rotation == 90 || self.rotation == 270 {
            self.rotate_quarter(src, w, h, dst);
            return (ow, oh);
        }
        // 0 or 180: each output row is one input row, forwards or reversed.
        let reversed = (self.rotation == 180) != self.flip_h;
        for y in 0..oh_us {
            let oy = if self.flip_v { oh_us - 1 - y } else { y };
            let sy = if self.rotation == 180 { h - 1 - y } else { y };
            let src_row = &src[sy * w * 3..(sy + 1) * w * 3];
            let row = &mut dst[oy * ow_us * 3..(oy + 1) * ow_us * 3];
            if reversed {
                for (d, p) in row.chunks_exact_mut(3).zip(src_row.chunks_exact(3).rev()) {
                    d.copy_from_slice(p);
                }
            } else {
                row.copy_from_slice(src_row);
            }
        }
        (ow, oh)
    }

    /// 90/270: walking an output row walks an input column, which misses
    /// the cache on every pixel. So go in bands of output rows: for each
    /// output column, the band's pixels come from one short run of an input
    /// row, and each output row of the band is written in order.
    fn rotate_quarter(&self, src: &[u8], w: usize, h: usize, dst: &mut [u8]) {
        const BAND: usize = 16;
        let (ow, oh) = (h, w);
        for y0 in (0..oh).step_by(BAND) {
            let y1 = (y0 + BAND).min(oh);
            for x in 0..ow {
                let ox = if self.flip_h { ow - 1 - x } else { x };
                // 90: output (x, y) is input (y, h-1-x); 270: (w-1-y, x).
                // Either way the band is one run of an input row.
                let (sy, c0, c1) = if self.rotation == 90 {
                    (h - 1 - x, y0, y1)
                } else {
                    (x, w - y1, w - y0)
                };
                let run = &src[(sy * w + c0) * 3..(sy * w + c1) * 3];
                let mut put = |k: usize, px: &[u8]| {
                    let y = y0 + k;
                    let oy = if self.flip_v { oh - 1 - y } else { y };
                    let d = (oy * ow + ox) * 3;
                    dst[d..d + 3].copy_from_slice(px);
                };
                if self.rotation == 90 {
                    run.chunks_exact(3)
                        .enumerate()
                        .for_each(|(k, px)| put(k, px));
                } else {
                    run.chunks_exact(3)
                        .rev()
                        .enumerate()
                        .for_each(|(k, px)| put(k, px));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3x2 picture whose pixel value encodes its (x, y).
    fn grid(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                v.extend_from_slice(&[x as u8, y as u8, 7]);
            }
        }
        v
    }

    fn at(buf: &[u8], w: u32, x: u32, y: u32) -> (u8, u8) {
        let i = ((y * w + x) * 3) as usize;
        (buf[i], buf[i + 1])
    }

    #[test]
    fn identity_copies() {
        let src = grid(3, 2);
        let mut dst = Vec::new();
        let t = Transform::default();
        assert_eq!(t.apply(&src, 3, 2, &mut dst), (3, 2));
        assert_eq!(dst, src);
    }

    #[test]
    fn rotations_move_the_corners_clockwise() {
        let src = grid(3, 2);
        let mut dst = Vec::new();
        // Output pixels (x, y), each with the input pixel (x, y) it shows.
        type Shows = &'static [((u32, u32), (u8, u8))];
        // (rotation, output size, what its pixels show)
        let cases: [(u16, (u32, u32), Shows); 3] = [
            // 90 clockwise: output is 2x3; output top-left is input bottom-left.
            (
                90,
                (2, 3),
                &[((0, 0), (0, 1)), ((1, 0), (0, 0)), ((0, 2), (2, 1))],
            ),
            (180, (3, 2), &[((0, 0), (2, 1)), ((2, 1), (0, 0))]),
            // 270 clockwise: output top-left is input top-right.
            (270, (2, 3), &[((0, 0), (2, 0)), ((1, 2), (0, 1))]),
        ];
        for (rotation, size, pixels) in cases {
            let t = Transform {
                rotation,
                ..Transform::default()
            };
            assert_eq!(t.apply(&src, 3, 2, &mut dst), size, "{rotation}");
            for &((x, y), shown) in pixels {
                assert_eq!(at(&dst, size.0, x, y), shown, "{rotation} at ({x}, {y})");
            }
        }
    }

    #[test]
    fn flips_mirror() {
        let src = grid(3, 2);
        let mut dst = Vec::new();
        let t = Transform {
            flip_h: true,
            ..Transform::default()
        };
        t.apply(&src, 3, 2, &mut dst);
        assert_eq!(at(&dst, 3, 0, 0), (2, 0));
        let t = Transform {
            flip_v: true,
            ..Transform::default()
        };
        t.apply(&src, 3, 2, &mut dst);
        assert_eq!(at(&dst, 3, 0, 0), (0, 1));
        let t = Transform {
            rotation: 180,
            flip_h: true,
            flip_v: true,
        };
        t.apply(&src, 3, 2, &mut dst);
        assert_eq!(dst, src, "180 plus both flips is the identity");
    }

    /// The output pixel (x, y) of `t`, computed the slow, obvious way.
    fn reference(t: Transform, src: &[u8], w: usize, h: usize, x: usize, y: usize) -> [u8; 3] {
        let (ow, oh) = if t.rotation % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        };
        // Undo the flips (they act on the output), then the rotation.
        let x = if t.flip_h { ow - 1 - x } else { x };
        let y = if t.flip_v { oh - 1 - y } else { y };
        let (sx, sy) = match t.rotation {
            90 => (y, h - 1 - x),
            180 => (w - 1 - x, h - 1 - y),
            270 => (w - 1 - y, x),
            _ => (x, y),
        };
        let i = (sy * w + sx) * 3;
        [src[i], src[i + 1], src[i + 2]]
    }

    #[test]
    fn every_transform_matches_the_reference_on_odd_sizes() {
        let (w, h) = (37usize, 23usize);
        let src: Vec<u8> = (0..w * h * 3).map(|i| (i * 31 % 251) as u8).collect();
        let mut dst = Vec::new();
        for rotation in [0, 90, 180, 270] {
            for (flip_h, flip_v) in [(false, false), (true, false), (false, true), (true, true)] {
                let t = Transform {
                    rotation,
                    flip_h,
                    flip_v,
                };
                let (ow, oh) = t.apply(&src, w as u32, h as u32, &mut dst);
                for y in 0..oh as usize {
                    for x in 0..ow as usize {
                        let d = (y * ow as usize + x) * 3;
                        assert_eq!(
                            dst[d..d + 3],
                            reference(t, &src, w, h, x, y),
                            "{t:?} at ({x}, {y})"
                        );
                    }
                }
            }
        }
    }
}
