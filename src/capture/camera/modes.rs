//! The modes a camera offers, with stepwise sizes and rates reduced to the
//! values worth considering for the request.

use v4l::Fraction;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::prelude::Device;
use v4l::video::Capture;

use super::driver::{DriverError, guard};
use crate::capture::camera_mode::{self, Mode, PixelFormat, Request};
use crate::capture::mode::{ModeOption, group_offers};

/// The mode to open for `req` and the sizes and rates the device offers;
/// the reason when it offers nothing this service can use.
pub(super) fn pick(
    device: &Device,
    req: &Request,
    card: &str,
) -> Result<(Mode, Vec<ModeOption>), String> {
    let modes = offered_modes(device, req).map_err(|e| e.to_string())?;
    let offered = group_offers(modes.iter().filter_map(|m| {
        Some((
            m.pixel_format()?.name().to_owned(),
            m.width,
            m.height,
            m.fps(),
        ))
    }));
    let Some(mode) = camera_mode::choose(&modes, req) else {
        return Err(format!(
            "'{card}' offers none of the formats this service can use (MJPEG, YUYV, NV12); \
             run `tars-camera list-cameras` to see what it offers"
        ));
    };
    Ok((mode, offered))
}

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
            let fits = |&(w, h): &(u32, u32)| {
                (s.min_width..=s.max_width).contains(&w)
                    && (s.min_height..=s.max_height).contains(&h)
                    && (w - s.min_width) % s.step_width.max(1) == 0
                    && (h - s.min_height) % s.step_height.max(1) == 0
            };
            let mut out = vec![
                (s.min_width, s.min_height),
                (s.max_width, s.max_height),
                (
                    snap(req.width, s.min_width, s.max_width, s.step_width),
                    snap(req.height, s.min_height, s.max_height, s.step_height),
                ),
            ];
            // The usual sizes the range holds, to pick from.
            out.extend(COMMON_SIZES.iter().copied().filter(fits));
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

/// Sizes offered from a stepwise range besides its ends and the request.
const COMMON_SIZES: [(u32, u32); 6] = [
    (320, 240),
    (640, 480),
    (800, 600),
    (1280, 720),
    (1640, 1232),
    (1920, 1080),
];

/// Rates offered from a continuous range besides its fastest end and the
/// request.
const COMMON_RATES: [u32; 5] = [5, 10, 15, 25, 30];

/// A discrete interval as is; a range as its fastest end plus the requested
/// rate when it lies inside.
fn intervals_for(interval: FrameIntervalEnum, req: &Request) -> Vec<(u32, u32)> {
    match interval {
        FrameIntervalEnum::Discrete(f) => vec![(f.numerator, f.denominator)],
        FrameIntervalEnum::Stepwise(s) => {
            let secs = |f: &Fraction| f64::from(f.numerator) / f64::from(f.denominator.max(1));
            let mut out = vec![(s.min.numerator, s.min.denominator)];
            let inside = |fps: u32| {
                let wanted = 1.0 / f64::from(fps.max(1));
                secs(&s.min) <= wanted && wanted <= secs(&s.max)
            };
            for fps in std::iter::once(req.fps).chain(COMMON_RATES) {
                if inside(fps) && !out.contains(&(1, fps)) {
                    out.push((1, fps));
                }
            }
            out
        }
    }
}
