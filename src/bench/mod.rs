//! `tars-camera bench`: what this machine does with the service.
//!
//! Sections (default: encode, pipeline, ui — about 2 minutes):
//! - encode: every encoder of this build on the same test-pattern frames;
//! - pipeline: the real service unpaced, one `/stream` reader, MQTT 2 Hz
//!   through the embedded broker, with each encoder of this build;
//! - ui: the terminal UI's CPU and bytes/s;
//! - fanout, mqtt, quiet, startup, soak: the service as a child process,
//!   measured from outside (see `service_runs`);
//! - chaos: the service under faults for `--chaos-seconds` (see `chaos`).
//! - with `--file`, encode and pipeline rows on recorded footage too (see
//!   `footage`).
//!
//! Prints a table per section (each row names its encoder) and the targets
//! with their verdicts; `--json FILE` writes the same numbers. Speed is
//! judged here, never in `cargo test`.

use color_eyre::eyre;
use color_eyre::eyre::WrapErr as _;

mod args;
pub mod attach_cost;
pub mod broker_process;
mod chaos;
mod chaos_load;
mod child;
pub mod encode;
pub mod footage;
mod metrics_cost;
mod mqtt_run;
mod pipeline;
mod reader;
mod report;
mod service_runs;
mod side_by_side;
mod subscriber;
pub mod sys;
mod targets;
pub mod ui_cost;
mod yuyv;

use crate::encode::{Codec, EncoderKind};
pub use args::{BenchArgs, BenchSection};

pub use report::Report;

/// Parse `WxH`.
///
/// # Errors
/// Not two positive numbers joined by `x`, or larger than JPEG allows.
pub fn parse_size(s: &str) -> eyre::Result<(u32, u32)> {
    let bad = || eyre::eyre!("--sizes: '{s}' is not a size like 1280x720");
    let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        return Err(eyre::eyre!("--sizes: '{s}': each side must be 16 to 8192"));
    }
    Ok((w, h))
}

/// The default sizes.
pub const SIZES: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];

fn wants(args: &BenchArgs, section: BenchSection) -> bool {
    if args.sections.is_empty() {
        matches!(
            section,
            BenchSection::Encode | BenchSection::Pipeline | BenchSection::Ui
        )
    } else {
        args.sections.contains(&section) || args.sections.contains(&BenchSection::All)
    }
}

/// The embedded broker for the sections that need one, started once.
#[cfg(feature = "embedded-broker")]
fn embedded_broker() -> eyre::Result<String> {
    crate::broker::spawn_embedded("127.0.0.1", 0)
        .map(|addr| format!("mqtt://{addr}"))
        .map_err(|e| eyre::eyre!("embedded broker: {e}"))
}

#[cfg(not(feature = "embedded-broker"))]
fn embedded_broker() -> eyre::Result<String> {
    Err(eyre::eyre!(
        "this build has no embedded broker (feature embedded-broker)"
    ))
}

/// Run the benchmark and print the tables.
///
/// # Errors
/// A bad argument, a failed measurement, or an unwritable JSON file.
pub fn run(args: &BenchArgs) -> eyre::Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(eyre::eyre!(
            "--seconds: must be above 0 and at most 3600 (got {})",
            args.seconds
        ));
    }
    let sizes = sizes(args)?;
    let mut report = Report::new(args.quality);
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run `cargo run --release -- bench` for real numbers");
    }
    // The encoder `--encoder auto` picks here; child services run with it.
    let codec = Codec::auto();
    eprintln!(
        "tars-camera bench on {} ({} cores), service encoder {}",
        report.machine.cpu,
        report.machine.cores,
        codec.describe()
    );
    // The pipeline is judged against the bare encode: measure it too.
    if wants(args, BenchSection::Encode) || wants(args, BenchSection::Pipeline) {
        run_encode(args, &sizes, &mut report)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-rt")
        .enable_all()
        .build()
        .map_err(|e| eyre::eyre!("cannot start the runtime: {e}"))?;
    let broker = if needs_broker(args) {
        embedded_broker()?
    } else {
        String::new()
    };
    let ctx = Ctx {
        args,
        runtime: &runtime,
        broker: &broker,
        codec: &codec,
    };
    if wants(args, BenchSection::Pipeline) {
        run_pipeline(&ctx, &sizes, &mut report)?;
    }
    if let Some(f) = &report.footage {
        footage::print(f, &report.encode, &report.pipeline);
    }
    if wants(args, BenchSection::Ui) {
        run_ui(&ctx, &mut report)?;
    }
    run_service_sections(&ctx, &mut report)?;
    if wants(args, BenchSection::Attach) {
        eprintln!("attach 80x24 over 640x480@10 ...");
        let row = attach_cost::measure(&runtime, args.seconds.max(5.0), args.quality, &broker)?;
        row.print();
        report.attach = Some(row);
    }
    if args.sections.contains(&BenchSection::Chaos) {
        eprintln!("chaos for {} s ...", args.chaos_seconds);
        let row = chaos::run(&runtime, args.chaos_seconds.max(30.0))?;
        row.print();
        report.chaos = Some(row);
    }
    report.judge();
    report.print_targets();
    match &args.json {
        Some(path) => write_json(&report, path),
        None => Ok(()),
    }
}

/// Whether a section that runs a service (and so needs a broker) is asked for.
fn needs_broker(args: &BenchArgs) -> bool {
    [
        BenchSection::Pipeline,
        BenchSection::Ui,
        BenchSection::Fanout,
        BenchSection::Quiet,
        BenchSection::Startup,
        BenchSection::Soak,
        BenchSection::Metrics,
        BenchSection::Attach,
    ]
    .iter()
    .any(|&s| wants(args, s))
}

/// `--json`: the whole report.
fn write_json(report: &Report, path: &std::path::Path) -> eyre::Result<()> {
    let text = serde_json::to_string_pretty(report).map_err(|e| eyre::eyre!("{e}"))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| eyre::eyre!("--json: cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// What the sections that run services share.
struct Ctx<'a> {
    args: &'a BenchArgs,
    runtime: &'a tokio::runtime::Runtime,
    /// The embedded broker's URL (empty when no section needs it).
    broker: &'a str,
    /// The codec `--encoder auto` picks on this machine.
    codec: &'a Codec,
}

/// `--sizes`, or the defaults (with footage: the recording's size).
fn sizes(args: &BenchArgs) -> eyre::Result<Vec<(u32, u32)>> {
    let footage_size = args.file.as_deref().map(footage::size).transpose()?;
    if args.sizes.is_empty() {
        return Ok(footage_size.map_or_else(|| SIZES.to_vec(), |size| vec![size]));
    }
    args.sizes.iter().map(|s| parse_size(s)).collect()
}

/// Every encoder on the test pattern at each size (and on the footage).
fn run_encode(args: &BenchArgs, sizes: &[(u32, u32)], report: &mut Report) -> eyre::Result<()> {
    let threads = crate::capture::encode_pool::default_workers();
    for &(w, h) in sizes {
        eprintln!("encode {w}x{h} ...");
        let frames = std::sync::Arc::new(encode::test_frames(w, h, 4)?);
        let rows = encode::rows_with_ceiling(&frames, (w, h), args.quality, args.runs, threads)?;
        report.encode.extend(rows);
        report.source.push(report::SourceRow {
            width: w,
            height: h,
            render_ms: encode::render_ms(w, h, 30)?,
        });
    }
    report.print_encode();
    let mut yuyv_rows = Vec::new();
    for &(w, h) in sizes.iter().filter(|(w, _)| w % 2 == 0) {
        let frames = encode::test_frames(w, h, 4)?;
        yuyv_rows.extend(yuyv::measure(&frames, (w, h), args.quality, args.runs)?);
    }
    yuyv::print(&yuyv_rows);
    if let Some(path) = &args.file {
        eprintln!("encode on {} ...", path.display());
        report.footage = Some(footage::measure_encode(path, args.quality, args.runs)?);
    }
    Ok(())
}

/// The unpaced pipeline with every encoder at each size (and on the footage).
fn run_pipeline(ctx: &Ctx<'_>, sizes: &[(u32, u32)], report: &mut Report) -> eyre::Result<()> {
    let args = ctx.args;
    for &(width, height) in sizes {
        let setup = side_by_side::Setup {
            width,
            height,
            quality: args.quality,
            seconds: args.seconds,
            broker_url: ctx.broker,
        };
        let rows = side_by_side::measure(ctx.runtime, setup, args.rounds)?;
        report.pipeline.extend(rows);
    }
    report.print_pipeline();
    if let Some(path) = &args.file {
        let rows =
            footage::measure_pipeline(ctx.runtime, path, args.quality, args.seconds, ctx.broker)?;
        footage::attach_pipeline(&mut report.footage, path, args.quality, rows)?;
    }
    Ok(())
}

/// The UI's cost with each codec: Rust codecs first (the preview's full
/// decode), then libjpeg-turbo (reduced decode), on the same service sizes.
fn run_ui(ctx: &Ctx<'_>, report: &mut Report) -> eyre::Result<()> {
    let codecs: Vec<Codec> = EncoderKind::available()
        .into_iter()
        .filter_map(|k| k.codec().ok())
        .collect();
    for size in [(640, 480), (1920, 1080)] {
        for codec in &codecs {
            eprintln!(
                "ui 120x40 over {}x{}@30 with {} ...",
                size.0,
                size.1,
                codec.name()
            );
            let seconds = ctx.args.seconds.max(3.0);
            let row = pipeline::measure_ui(ctx.runtime, size, codec, seconds, ctx.broker)?;
            report.ui.push(row);
        }
    }
    report.print_ui();
    Ok(())
}

/// The sections that run the service as a child process.
fn run_service_sections(ctx: &Ctx<'_>, report: &mut Report) -> eyre::Result<()> {
    let (args, broker, kind) = (ctx.args, ctx.broker, ctx.codec.kind());
    let clients = usize::try_from(args.clients.max(1)).unwrap_or(16);
    if wants(args, BenchSection::Fanout) {
        eprintln!("fanout 1280x720@30: 1 and {clients} clients ...");
        report.fanout =
            service_runs::fanout(clients, args.seconds * 2.0, args.quality, broker, kind)?;
        report.print_fanout();
    }
    if wants(args, BenchSection::Mqtt) {
        run_mqtt(ctx, report)?;
    }
    if wants(args, BenchSection::Quiet) {
        eprintln!("quiet 640x480@10, MQTT 2 Hz ...");
        let seconds = (args.seconds * 3.0).max(6.0);
        report.quiet = service_runs::quiet(seconds, args.quality, broker, kind)?;
        report.print_quiet();
    }
    if wants(args, BenchSection::Startup) {
        eprintln!("startup to first frame, 5 runs ...");
        report.startup = Some(service_runs::startup(5, args.quality, broker, kind)?);
        report.print_startup();
    }
    if wants(args, BenchSection::Metrics) {
        eprintln!("metrics: {} scrapes of GET /metrics ...", 200);
        report.metrics = Some(metrics_cost::measure(broker, args.quality, kind)?);
        report.print_metrics();
    }
    if wants(args, BenchSection::Soak) {
        eprintln!(
            "soak {clients} clients at 1280x720@30 for {} s ...",
            args.soak_seconds
        );
        let seconds = args.soak_seconds.max(5.0);
        report.soak = Some(service_runs::soak(
            clients,
            seconds,
            args.quality,
            broker,
            kind,
        )?);
        report.print_soak();
    }
    Ok(())
}

/// 30 Hz frames through `--mqtt-url`, or a Mosquitto of its own.
fn run_mqtt(ctx: &Ctx<'_>, report: &mut Report) -> eyre::Result<()> {
    let (url, name, _mosquitto) = match &ctx.args.mqtt_url {
        Some(url) => (url.clone(), url.clone(), None),
        None => {
            let exe = std::env::current_exe()?;
            let m =
                broker_process::BrokerProcess::start(broker_process::BrokerKind::Mosquitto, &exe)
                    .wrap_err(
                    "cannot start mosquitto (apt-get install mosquitto, or give --mqtt-url)",
                )?;
            (m.url(), format!("mosquitto ({})", m.url()), Some(m))
        }
    };
    eprintln!("mqtt 640x480 at 30 Hz through {name} for 8 s ...");
    report.mqtt = Some(mqtt_run::mqtt(
        ctx.runtime,
        &url,
        &name,
        8.0,
        ctx.args.quality,
        ctx.codec.kind(),
    )?);
    report.print_mqtt();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_or_name_the_option() {
        assert_eq!(parse_size("1280x720").ok(), Some((1280, 720)));
        assert_eq!(parse_size(" 640X480 ").ok(), Some((640, 480)));
        for bad in ["1280", "x720", "0x10", "axb", "99999x10"] {
            let e = parse_size(bad).expect_err(bad);
            assert!(e.to_string().starts_with("--sizes"), "{e}");
        }
    }
}
