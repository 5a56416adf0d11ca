//! `tars-camera list-cameras`: every V4L2 capture device with its formats,
//! sizes and frame rates.
//!
//! Devices are found by their `/dev/videoN` nodes (not through nokhwa's or
//! v4l's enumeration, which panic on a udev alias such as `/dev/video-front`).
//! Nodes that are not capture devices (a UVC camera's metadata node, the
//! Raspberry Pi's codec and ISP nodes) are left out.

use std::io::{self, Write};

use v4l::capability::Flags as CapFlags;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::prelude::Device;
use v4l::video::Capture;
use v4l::{FourCC, Fraction};

use super::super::camera_mode::PixelFormat;
use super::driver::guard;

/// One capture device.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraInfo {
    /// N of `/dev/videoN`, what `--device` takes.
    pub index: u32,
    pub path: String,
    /// The driver's name for it ("HD Pro Webcam C920").
    pub name: String,
    pub driver: String,
    pub bus: String,
    pub formats: Vec<FormatInfo>,
    /// Its controls with their values now.
    pub controls: Vec<crate::capture::controls::ControlInfo>,
    /// Why the device could not be inspected (e.g. permission denied).
    pub error: Option<String>,
}

/// One pixel format of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatInfo {
    /// "MJPG", "YUYV", "H264", …
    pub fourcc: String,
    /// The driver's description ("Motion-JPEG").
    pub description: String,
    /// Whether tars-camera can capture in it.
    pub usable: bool,
    pub sizes: Vec<SizeInfo>,
}

/// One frame size and its rates.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeInfo {
    pub width: u32,
    pub height: u32,
    /// Discrete rates, fastest first.
    pub fps: Vec<f64>,
    /// A continuous range instead: (slowest, fastest).
    pub fps_range: Option<(f64, f64)>,
    /// For a stepwise size range: the largest size and the step.
    pub up_to: Option<(u32, u32, u32, u32)>,
}

/// Every V4L2 capture device on this machine; empty when there is none.
/// Never fails: a device that cannot be inspected is listed with `error`.
pub fn list_cameras() -> Vec<CameraInfo> {
    video_nodes().into_iter().filter_map(inspect).collect()
}

/// N of every `/dev/videoN` node, in order.
pub(super) fn video_nodes() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/dev") else {
        return Vec::new();
    };
    let mut indexes: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| super::watch::video_index(e.file_name().to_str()?))
        .collect();
    indexes.sort_unstable();
    indexes
}

fn inspect(index: u32) -> Option<CameraInfo> {
    let path = format!("/dev/video{index}");
    let mut info = CameraInfo {
        index,
        path: path.clone(),
        name: String::new(),
        driver: String::new(),
        bus: String::new(),
        formats: Vec::new(),
        controls: Vec::new(),
        error: None,
    };
    let device = match Device::with_path(&path) {
        Ok(d) => d,
        Err(e) => {
            info.error = Some(super::describe_open_error(&e));
            return Some(info);
        }
    };
    let caps = match guard("querying the device", || device.query_caps()) {
        Ok(caps) => caps,
        Err(e) => {
            info.error = Some(e.to_string());
            return Some(info);
        }
    };
    if !caps.capabilities.contains(CapFlags::VIDEO_CAPTURE) {
        return None;
    }
    info.name = caps.card;
    info.driver = caps.driver;
    info.bus = caps.bus;
    let descriptions = match guard("listing formats", || device.enum_formats()) {
        Ok(d) => d,
        Err(e) => {
            info.error = Some(e.to_string());
            return Some(info);
        }
    };
    for desc in descriptions {
        let sizes = device
            .enum_framesizes(desc.fourcc)
            .unwrap_or_default()
            .into_iter()
            .map(|s| size_info(&device, desc.fourcc, s.size))
            .collect();
        info.formats.push(FormatInfo {
            fourcc: desc.fourcc.str().unwrap_or("????").trim_end().to_string(),
            description: desc.description,
            usable: PixelFormat::from_fourcc(desc.fourcc.repr).is_some(),
            sizes,
        });
    }
    info.controls = super::controls::enumerate(&device);
    Some(info)
}

fn size_info(device: &Device, fourcc: FourCC, size: FrameSizeEnum) -> SizeInfo {
    let (width, height, up_to) = match size {
        FrameSizeEnum::Discrete(d) => (d.width, d.height, None),
        FrameSizeEnum::Stepwise(s) => (
            s.min_width,
            s.min_height,
            Some((s.max_width, s.max_height, s.step_width, s.step_height)),
        ),
    };
    let fps_of = |f: &Fraction| {
        if f.numerator == 0 {
            0.0
        } else {
            f64::from(f.denominator) / f64::from(f.numerator)
        }
    };
    let mut fps = Vec::new();
    let mut fps_range = None;
    for iv in device
        .enum_frameintervals(fourcc, width, height)
        .unwrap_or_default()
    {
        match iv.interval {
            FrameIntervalEnum::Discrete(f) => fps.push(fps_of(&f)),
            FrameIntervalEnum::Stepwise(s) => fps_range = Some((fps_of(&s.max), fps_of(&s.min))),
        }
    }
    fps.sort_by(|a, b| b.total_cmp(a));
    fps.dedup();
    SizeInfo {
        width,
        height,
        fps,
        fps_range,
        up_to,
    }
}

/// Prints the list as a readable table, or a clear "no camera found".
///
/// # Errors
/// Only what writing to `out` returns.
pub fn print_camera_list(cameras: &[CameraInfo], out: &mut impl Write) -> io::Result<()> {
    if cameras.is_empty() {
        writeln!(
            out,
            "no camera found (no V4L2 capture device under /dev/video*)"
        )?;
        writeln!(
            out,
            "  check that the camera is plugged in, `ls -l /dev/video*`,"
        )?;
        writeln!(out, "  and that this user may open it (group 'video').")?;
        return Ok(());
    }
    for (i, cam) in cameras.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let name = if cam.name.is_empty() {
            "?"
        } else {
            cam.name.as_str()
        };
        write!(out, "{}  {name}", cam.path)?;
        if !cam.driver.is_empty() {
            write!(out, "  ({}, {})", cam.driver, cam.bus)?;
        }
        writeln!(out, "  --device {}", cam.index)?;
        if let Some(err) = &cam.error {
            writeln!(out, "  cannot inspect: {err}")?;
            continue;
        }
        if cam.formats.is_empty() {
            writeln!(out, "  no formats offered")?;
        }
        for f in &cam.formats {
            let note = if f.usable {
                ""
            } else {
                "  (not usable by tars-camera)"
            };
            writeln!(out, "  {:<4}  {}{note}", f.fourcc, f.description)?;
            for s in &f.sizes {
                let size = match s.up_to {
                    None => format!("{}x{}", s.width, s.height),
                    Some((w, h, sw, sh)) => {
                        format!("{}x{} to {w}x{h} (step {sw}x{sh})", s.width, s.height)
                    }
                };
                let rates = match s.fps_range {
                    Some((lo, hi)) => format!(
                        "{} to {} fps",
                        crate::stats::fps_text(lo),
                        crate::stats::fps_text(hi)
                    ),
                    None if s.fps.is_empty() => "rates not listed".to_string(),
                    None => {
                        let list: Vec<String> =
                            s.fps.iter().map(|f| crate::stats::fps_text(*f)).collect();
                        format!("{} fps", list.join(", "))
                    }
                };
                writeln!(out, "        {size:<11} {rates}")?;
            }
        }
        super::controls::print(&cam.controls, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(cams: &[CameraInfo]) -> String {
        let mut out = Vec::new();
        print_camera_list(cams, &mut out).expect("writing to a Vec");
        String::from_utf8(out).expect("utf-8")
    }

    fn size(width: u32, height: u32, fps: &[f64]) -> SizeInfo {
        SizeInfo {
            width,
            height,
            fps: fps.to_vec(),
            fps_range: None,
            up_to: None,
        }
    }

    #[test]
    fn empty_list_says_no_camera_found() {
        let text = render(&[]);
        assert!(text.starts_with("no camera found"), "{text}");
    }

    #[test]
    fn table_shows_formats_sizes_and_rates() {
        let cams = [
            CameraInfo {
                index: 0,
                path: "/dev/video0".into(),
                name: "HD Pro Webcam C920".into(),
                driver: "uvcvideo".into(),
                bus: "usb-0000:01:00.0-1.3".into(),
                formats: vec![
                    FormatInfo {
                        fourcc: "MJPG".into(),
                        description: "Motion-JPEG".into(),
                        usable: true,
                        sizes: vec![
                            size(1920, 1080, &[30.0, 24.0, 15.0]),
                            size(640, 480, &[30.0, 29.97]),
                        ],
                    },
                    FormatInfo {
                        fourcc: "H264".into(),
                        description: "H.264".into(),
                        usable: false,
                        sizes: vec![size(1920, 1080, &[])],
                    },
                ],
                controls: Vec::new(),
                error: None,
            },
            CameraInfo {
                index: 2,
                path: "/dev/video2".into(),
                name: "mmal service 16.1".into(),
                driver: "bcm2835 mmal".into(),
                bus: "platform:bcm2835-v4l2-0".into(),
                formats: vec![FormatInfo {
                    fourcc: "YUYV".into(),
                    description: "YUYV 4:2:2".into(),
                    usable: true,
                    sizes: vec![SizeInfo {
                        width: 32,
                        height: 32,
                        fps: vec![],
                        fps_range: Some((1.0, 90.0)),
                        up_to: Some((2592, 1944, 2, 2)),
                    }],
                }],
                controls: Vec::new(),
                error: None,
            },
            CameraInfo {
                index: 4,
                path: "/dev/video4".into(),
                name: String::new(),
                driver: String::new(),
                bus: String::new(),
                formats: vec![],
                controls: Vec::new(),
                error: Some("permission denied (is this user in the 'video' group?)".into()),
            },
        ];
        let text = render(&cams);
        let expected = "\
/dev/video0  HD Pro Webcam C920  (uvcvideo, usb-0000:01:00.0-1.3)  --device 0
  MJPG  Motion-JPEG
        1920x1080   30, 24, 15 fps
        640x480     30, 29.97 fps
  H264  H.264  (not usable by tars-camera)
        1920x1080   rates not listed

/dev/video2  mmal service 16.1  (bcm2835 mmal, platform:bcm2835-v4l2-0)  --device 2
  YUYV  YUYV 4:2:2
        32x32 to 2592x1944 (step 2x2) 1 to 90 fps

/dev/video4  ?  --device 4
  cannot inspect: permission denied (is this user in the 'video' group?)
";
        assert_eq!(text, expected);
    }

    #[test]
    fn this_machine_lists_without_panicking() {
        // CI machines have no camera: the list is empty. A developer's
        // machine may have one; either way every entry has a path.
        for cam in list_cameras() {
            assert!(cam.path.starts_with("/dev/video"));
        }
    }
}
