//! The arguments of `tars-camera bench`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Sections to run: encode, pipeline, ui, fanout, mqtt, quiet, startup,
    /// soak, attach, metrics, chaos, or all [default: encode pipeline ui]
    #[arg(value_enum)]
    pub sections: Vec<BenchSection>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// JPEG quality to measure.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Seconds per pipeline measurement (fanout, quiet: twice this).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Only these resolutions (e.g. 640x480,1280x720).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<String>,
    /// Pipeline rounds, each next to one-thread encodes of the same frames
    /// (the targets take the median ratio).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub rounds: u32,
    /// Encodes per test frame for the encode rows (the median is reported).
    #[arg(long, default_value_t = 40)]
    pub runs: u32,
    /// MQTT broker for the `mqtt` section [default: start `mosquitto` on a free loopback port].
    #[arg(long, value_name = "URL")]
    pub mqtt_url: Option<String>,
    /// `/stream` clients for the `fanout` and `soak` sections.
    #[arg(long, default_value_t = 16)]
    pub clients: u32,
    /// Length of the `soak` section in seconds.
    #[arg(long, default_value_t = 600.0)]
    pub soak_seconds: f64,
    /// Length of the `chaos` section in seconds (at least 30).
    #[arg(long, default_value_t = 600.0)]
    pub chaos_seconds: f64,
    /// Also measure encode and pipeline on this recording (MJPEG file, saved
    /// /stream or folder of JPEGs), next to the test pattern at its size
    /// [default sizes: the recording's]
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// A part of `tars-camera bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchSection {
    /// Encode ms/frame and MP/s per encoder and resolution.
    Encode,
    /// Unpaced service FPS and CPU per resolution (one /stream reader, MQTT 2 Hz).
    Pipeline,
    /// The terminal UI's CPU and bytes/s over a 640x480@30 service.
    Ui,
    /// /stream fan-out at 1280x720@30: 1 vs --clients readers.
    Fanout,
    /// 30 Hz 640x480 frames through an MQTT broker: loss and age.
    Mqtt,
    /// 640x480@10, MQTT 2 Hz, no client: CPU and RSS (headless and with the UI).
    Quiet,
    /// Start-up to the first frame on /snapshot.
    Startup,
    /// RSS over --soak-seconds with --clients readers at 1280x720@30.
    Soak,
    /// The attached UI's CPU and the service's extra CPU for serving it (80x24, preview 4 fps).
    Attach,
    /// `GET /metrics` on a 640x480@10 service, and its rendering alone.
    Metrics,
    /// Faults for --chaos-seconds: viewers come and go, clients stall, the
    /// broker is killed and restarted (not part of `all`).
    Chaos,
    /// Every section.
    All,
}
