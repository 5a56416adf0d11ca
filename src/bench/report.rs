//! The benchmark's results: tables on stdout, JSON for `--json`, and the
//! performance targets judged against what was measured in this run. Every
//! row names the encoder it ran with.

use serde::Serialize;

use super::encode::EncodeRow;
use super::mqtt_run::MqttRow;
use super::pipeline::{PipelineRow, UiRow};
use super::service_runs::{FanoutRow, QuietRow, SoakRow, StartupRow};
use super::sys::Machine;

/// One target, its threshold and what this run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: &'static str,
    pub wanted: String,
    pub measured: String,
    /// `None`: not measured in this run.
    pub met: Option<bool>,
}

/// What drawing a test-pattern frame costs (the pipeline's source).
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub width: u32,
    pub height: u32,
    pub render_ms: f64,
}

/// Everything `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub quality: u8,
    pub encode: Vec<EncodeRow>,
    /// Test-pattern drawing cost per size.
    pub source: Vec<SourceRow>,
    pub pipeline: Vec<PipelineRow>,
    /// Per service size and codec.
    pub ui: Vec<UiRow>,
    pub fanout: Vec<FanoutRow>,
    pub mqtt: Option<MqttRow>,
    pub quiet: Vec<QuietRow>,
    pub startup: Option<StartupRow>,
    pub soak: Option<SoakRow>,
    pub chaos: Option<super::chaos::ChaosRow>,
    pub attach: Option<super::attach_cost::AttachRow>,
    pub metrics: Option<super::metrics_cost::MetricsRow>,
    /// `--file`: the same rows on recorded footage.
    pub footage: Option<super::footage::FootageReport>,
    pub targets: Vec<Target>,
    pub machine: Machine,
}

impl Report {
    #[must_use]
    pub fn new(quality: u8) -> Self {
        Self {
            quality,
            encode: Vec::new(),
            source: Vec::new(),
            pipeline: Vec::new(),
            ui: Vec::new(),
            fanout: Vec::new(),
            mqtt: None,
            quiet: Vec::new(),
            startup: None,
            soak: None,
            chaos: None,
            attach: None,
            metrics: None,
            footage: None,
            targets: Vec::new(),
            machine: Machine::describe(),
        }
    }

    pub fn print_encode(&self) {
        println!(
            "\nEncode, q{} (median per frame, same test-pattern frames)",
            self.quality
        );
        println!(
            "{:<14} {:>10} {:>10} {:>10} {:>8} {:>10} {:>14} {:>9}",
            "encoder",
            "size",
            "ms/frame",
            "CPU ms/f",
            "MP/s",
            "fps/core",
            "fps N threads",
            "JPEG KB"
        );
        for r in &self.encode {
            println!(
                "{:<14} {:>10} {:>10.2} {:>10.2} {:>8.1} {:>10.1} {:>14} {:>9.1}",
                r.encoder,
                format!("{}x{}", r.width, r.height),
                r.ms_per_frame,
                r.cpu_ms_per_frame,
                r.mp_per_s,
                r.fps_one_core,
                format!("{:.1} ({})", r.fps_parallel, r.threads),
                kb(r.jpeg_bytes),
            );
        }
        for s in &self.source {
            println!(
                "test pattern {}x{}: {:.2} ms to draw a frame",
                s.width, s.height, s.render_ms
            );
        }
    }

    pub fn print_pipeline(&self) {
        println!(
            "\nPipeline, unpaced: test pattern -> encode pool -> hub -> 1 /stream reader (loopback) + MQTT 2 Hz (embedded broker);\n\
             service CPU: this process but the reader thread (the client);\n\
             each round: the encoder alone on one thread for 1 s on the same frames before and after its pipeline (1-thr fps: their mean)"
        );
        println!(
            "{:<10} {:<14} {:>5} {:>8} {:>8} {:>10} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10} {:>11}",
            "size",
            "encoder",
            "round",
            "fps",
            "hub fps",
            "CPU % svc",
            "source",
            "reader",
            "CPU ms/f",
            "ms/hub f",
            "1-thr fps",
            "/ 1t turbo",
            "/ bare enc"
        );
        for r in &self.pipeline {
            println!(
                "{:<10} {:<14} {:>5} {:>8.1} {:>8.1} {:>10.0} {:>8.0} {:>8.0} {:>9.2} {:>9.2} {:>10.1} {:>10} {:>11.2}",
                format!("{}x{}", r.width, r.height),
                r.encoder,
                r.round,
                r.fps,
                r.hub_fps,
                r.cpu_percent,
                r.source_cpu_percent,
                r.reader_cpu_percent,
                r.cpu_ms_per_frame,
                r.cpu_ms_per_hub_frame,
                r.one_thread_fps,
                r.vs_one_thread_turbo
                    .map_or_else(|| "-".to_owned(), |v| format!("{v:.2}")),
                r.cpu_vs_bare_encode,
            );
        }
    }

    pub fn print_ui(&self) {
        if self.ui.is_empty() {
            return;
        }
        println!("\nTerminal UI 120x40 (true colour), preview at 4 fps");
        println!(
            "{:<36} {:<14} {:>9} {:>9} {:>8} {:>10} {:>14}",
            "service", "encoder", "CPU %", "KB/s", "redraws", "decoded", "decode ms/full"
        );
        for u in &self.ui {
            println!(
                "{:<36} {:<14} {:>9.1} {:>9.1} {:>8} {:>10} {:>14}",
                u.service,
                u.encoder,
                u.cpu_percent_of_one_core,
                u.bytes_per_s / 1024.0,
                u.redraws,
                format!("{}x{}", u.decoded_width, u.decoded_height),
                format!("{:.2}/{:.2}", u.preview_decode_ms, u.full_decode_ms),
            );
        }
    }

    pub fn print_fanout(&self) {
        println!("\n/stream fan-out (service in a child process, readers here)");
        println!(
            "{:<14} {:>7} {:>10} {:>11} {:>14} {:>13} {:>13} {:>8}",
            "encoder",
            "clients",
            "size",
            "service fps",
            "client fps min",
            "service CPU %",
            "CPU ms/frame",
            "RSS MB"
        );
        for r in &self.fanout {
            println!(
                "{:<14} {:>7} {:>10} {:>11.1} {:>14.1} {:>13.1} {:>13.2} {:>8.1}",
                r.encoder,
                r.clients,
                format!("{}x{}@{}", r.width, r.height, r.target_fps),
                r.service_fps,
                r.client_fps_min,
                r.service_cpu_percent,
                r.service_cpu_ms_per_frame,
                r.rss_mb,
            );
        }
    }

    pub fn print_mqtt(&self) {
        if let Some(m) = &self.mqtt {
            println!(
                "\nMQTT {}x{} ({}) at {} Hz through {} for {:.1} s: received {}, lost {}, age capture->subscriber p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; service CPU {:.1} %",
                m.width,
                m.height,
                m.encoder,
                m.rate_hz,
                m.broker,
                m.seconds,
                m.received,
                m.lost,
                m.age_ms_p50,
                m.age_ms_p99,
                m.age_ms_max,
                m.service_cpu_percent
            );
        }
    }

    pub fn print_quiet(&self) {
        println!("\nQuiet: 640x480@10, MQTT 2 Hz, no HTTP client");
        for q in &self.quiet {
            println!(
                "{:<28} {:<14} CPU {:>5.1} % of one core, RSS {:>5.1} MB ({:.0} s)",
                q.mode, q.encoder, q.cpu_percent_of_one_core, q.rss_mb, q.seconds
            );
        }
    }

    pub fn print_startup(&self) {
        if let Some(s) = &self.startup {
            println!(
                "\nStart-up to the first frame on /snapshot ({} runs, {}): median {:.0} ms, min {:.0} ms, max {:.0} ms",
                s.runs, s.encoder, s.ms_median, s.ms_min, s.ms_max
            );
        }
    }

    pub fn print_metrics(&self) {
        if let Some(m) = &self.metrics {
            println!(
                "\nmetrics: GET /metrics (fresh connection, {} scrapes, {} bytes): median {:.3} ms, p99 {:.3} ms; rendering alone: median {:.1} µs",
                m.scrapes, m.bytes, m.get_ms_median, m.get_ms_p99, m.render_us_median
            );
        }
    }

    pub fn print_soak(&self) {
        if let Some(s) = &self.soak {
            println!(
                "\nSoak {} clients at {}x{}@{} ({}) for {:.0} s: RSS start {:.1} MB, end {:.1} MB, max {:.1} MB; slowest client {:.1} fps; service CPU {:.1} %",
                s.clients,
                s.width,
                s.height,
                s.fps,
                s.encoder,
                s.seconds,
                s.rss_mb_start,
                s.rss_mb_end,
                s.rss_mb_max,
                s.client_fps_min,
                s.service_cpu_percent
            );
        }
    }

    /// Fill `targets` from what was measured.
    pub fn judge(&mut self) {
        let mut t = Vec::new();
        self.judge_pipeline(&mut t);
        if let [one, many] = self.fanout.as_slice() {
            let ratio = many.service_cpu_ms_per_frame / one.service_cpu_ms_per_frame.max(1e-9);
            t.push(Target {
                name: "/stream fan-out 720p@30: CPU/frame N clients vs 1",
                wanted: "<= 1.5".into(),
                measured: format!(
                    "{ratio:.2} ({:.2} vs {:.2} ms/frame, {} clients)",
                    many.service_cpu_ms_per_frame, one.service_cpu_ms_per_frame, many.clients
                ),
                met: Some(ratio <= 1.5),
            });
            t.push(Target {
                name: "/stream fan-out 720p@30: slowest client fps",
                wanted: ">= 27".into(),
                measured: format!("{:.1}", many.client_fps_min),
                met: Some(many.client_fps_min >= 27.0),
            });
        }
        if let Some(m) = &self.mqtt {
            t.push(Target {
                name: "MQTT 30 Hz 640x480: frames lost over 8 s",
                wanted: "0".into(),
                measured: format!("{} of {}", m.lost, m.received as u64 + m.lost),
                met: Some(m.lost == 0 && m.received > 0),
            });
            t.push(Target {
                name: "MQTT 30 Hz 640x480: age capture->subscriber p99",
                wanted: "<= 30 ms".into(),
                measured: format!("{:.1} ms", m.age_ms_p99),
                met: Some(m.received > 0 && m.age_ms_p99 <= 30.0),
            });
        }
        for q in &self.quiet {
            t.push(Target {
                name: "quiet 640x480@10, MQTT 2 Hz (report only)",
                wanted: "report".into(),
                measured: format!(
                    "{}: CPU {:.1} %, RSS {:.1} MB",
                    q.mode, q.cpu_percent_of_one_core, q.rss_mb
                ),
                met: None,
            });
        }
        if let Some(s) = &self.soak {
            t.push(Target {
                name: "RSS with N clients at 720p, over the soak",
                wanted: "<= 40 MB, flat".into(),
                measured: format!(
                    "start {:.1}, end {:.1}, max {:.1} MB over {:.0} s",
                    s.rss_mb_start, s.rss_mb_end, s.rss_mb_max, s.seconds
                ),
                met: Some(s.rss_mb_max <= 40.0),
            });
        } else if let Some(many) = self.fanout.last() {
            t.push(Target {
                name: "RSS with N clients at 720p (end of fan-out, no soak)",
                wanted: "<= 40 MB".into(),
                measured: format!("{:.1} MB with {} clients", many.rss_mb, many.clients),
                met: Some(many.rss_mb <= 40.0),
            });
        }
        if let Some(s) = &self.startup {
            t.push(Target {
                name: "start-up to first frame on /snapshot (median)",
                wanted: "<= 300 ms".into(),
                measured: format!("{:.0} ms (max {:.0})", s.ms_median, s.ms_max),
                met: Some(s.ms_median <= 300.0),
            });
        }
        self.targets = t;
    }

    pub fn print_targets(&self) {
        if self.targets.is_empty() {
            return;
        }
        println!("\nTargets");
        for t in &self.targets {
            let verdict = match t.met {
                Some(true) => "met   ",
                Some(false) => "MISSED",
                None => "  -   ",
            };
            println!(
                "{verdict} {:<62} want {:<14} got {}",
                t.name, t.wanted, t.measured
            );
        }
    }
}

#[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}
