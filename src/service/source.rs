//! The frame source the configuration asks for.

use crate::capture::FrameSource;
use crate::capture::camera::CameraSource;
use crate::capture::file::FileSource;
use crate::capture::flaky::FlakySource;
use crate::capture::test_pattern::{Clock, TestPattern};
use crate::config::{Config, SourceKind};

/// The configured source, wrapped in its failure schedule when one is given
/// (tests).
#[must_use]
pub fn from_config(config: &Config) -> Box<dyn FrameSource> {
    let source: Box<dyn FrameSource> = match config.source {
        SourceKind::TestPattern => Box::new(TestPattern::new(
            config.width,
            config.height,
            config.fps,
            Clock::Wall,
        )),
        SourceKind::Camera => {
            // fps is validated to (0, 240]: the rounded value fits.
            let fps = config.fps.round().max(1.0) as u32;
            Box::new(CameraSource::new(
                config.device.index(),
                config.width,
                config.height,
                fps,
            ))
        }
        SourceKind::File => Box::new(FileSource::new(
            config.file.clone().unwrap_or_default(),
            config.loop_playback,
            config.fps,
        )),
    };
    match &config.fail_schedule {
        Some(schedule) => Box::new(FlakySource::new(source, schedule.clone())),
        None => source,
    }
}
