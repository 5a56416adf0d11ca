//! The modes a camera offers, with stepwise sizes and rates reduced to the
//! values worth considering for the request.

use v4l::Fraction;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::prelude::Device;
use v4l::video::Capture;

use super::driver::{DriverError, guard};
use crate::capture::camera_mode::{Mode, PixelFormat, Request};

/// The modes the device offers, with stepwise sizes and rates reduced to the
/// values worth considering for `req`.
pub(super) fn offered_modes(device: &Device, req: &Request) -> Result<Vec<Mode>, DriverError> {
    let descriptions = guard("listing formats", || device.enum_formats())?;
    let mut modes = Vec::new();
    for desc in descriptions {
        let fourcc = desc.fourcc.repr;
        if PixelFormat::from_fourcc(fourcc).is_none() {
            continue;
        }
        // Drivers that cannot enumerate sizes get asked for the request.
        let sizes = match device.enum_framesizes(desc.fourcc) {
            Ok(sizes) if !sizes.is_empty() => sizes
                .into_iter()
                .flat_map(|s| sizes_for(s.size, req))
                .collect(),
            _ => vec![(req.width, req.height)],
        };
        for (width, height) in sizes {
            let intervals = device
                .enum_frameintervals(desc.fourcc, width, height)
                .unwrap_or_default();
            let mut any = false;
            for iv in intervals {
                for (num, den) in intervals_for(iv.interval, req) {
                    modes.push(Mode {
                        fourcc,
                        width,
                        height,
                        interval_num: num,
                        interval_den: den,
                    });
                    any = true;
                }
            }
            if !any {
                modes.push(Mode {
                    fourcc,
                    width,
                    height,
                    interval_num: 1,
                    interval_den: req.fps,
                });
            }
        }
    }
    Ok(modes)
}

/// A discrete size as is; a stepwise range as its ends plus the request
/// snapped onto the grid.
fn sizes_for(size: FrameSizeEnum, req: &Request) -> Vec<(u32, u32)> {
    match size {
        FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
        FrameSizeEnum::Stepwise(s) => {
            let snap = |v: u32, min: u32, max: u32, step: u32| {
                let v = v.clamp(min, max.max(min));
                let step = step.max(1);
                min + (v - min) / step * step
            };
            vec![
                (s.min_width, s.min_height),
                (s.max_width, s.max_height),
                (
                    snap(req.width, s.min_width, s.max_width, s.step_width),
                    snap(req.height, s.min_height, s.max_height, s.step_height),
                ),
            ]
        }
    }
}

/// A discrete interval as is; a range as its fastest end plus the requested
/// rate when it lies inside.
fn intervals_for(interval: FrameIntervalEnum, req: &Request) -> Vec<(u32, u32)> {
    match interval {
        FrameIntervalEnum::Discrete(f) => vec![(f.numerator, f.denominator)],
        FrameIntervalEnum::Stepwise(s) => {
            let secs = |f: &Fraction| f64::from(f.numerator) / f64::from(f.denominator.max(1));
            let mut out = vec![(s.min.numerator, s.min.denominator)];
            let wanted = 1.0 / f64::from(req.fps.max(1));
            if secs(&s.min) <= wanted && wanted <= secs(&s.max) {
                out.push((1, req.fps));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepwise_sizes_snap_the_request_onto_the_grid() {
        let req = Request::new(641, 479, 30);
        let s = v4l::framesize::Stepwise {
            min_width: 32,
            max_width: 2592,
            step_width: 2,
            min_height: 32,
            max_height: 1944,
            step_height: 2,
        };
        let sizes = sizes_for(FrameSizeEnum::Stepwise(s), &req);
        assert_eq!(sizes, [(32, 32), (2592, 1944), (640, 478)]);
    }

    #[test]
    fn stepwise_rates_include_the_request() {
        let req = Request::new(640, 480, 25);
        let iv = v4l::frameinterval::Stepwise {
            min: Fraction::new(1, 90),
            max: Fraction::new(1, 1),
            step: Fraction::new(1, 1),
        };
        assert_eq!(
            intervals_for(FrameIntervalEnum::Stepwise(iv), &req),
            [(1, 90), (1, 25)]
        );
    }
}
