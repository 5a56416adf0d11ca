//! The program's edge: the command line, and what it turns into — a running
//! service, a subcommand, or an exit status (2 for bad input, before
//! anything starts). Errors past that point are reported with color-eyre.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::bench::BenchArgs;
use crate::config::{self, Config, EXIT_USAGE, Options, Origins};
use crate::events::EventLog;
use crate::service::Service;

#[derive(Debug, Parser)]
#[command(
    name = "tars-camera",
    version,
    about = "Camera service of the TARS robot: MJPEG over HTTP, frames, health and heartbeat over MQTT, and a terminal UI",
    after_help = "Every option also reads its environment variable and the TOML file given by --config (keys as the long option, with _ for -). Precedence: flag > env > file > default."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Subcommands>,
    #[command(flatten)]
    pub options: Options,
}

#[derive(Debug, Subcommand)]
pub enum Subcommands {
    /// List cameras with their formats, resolutions and frame rates.
    ListCameras,
    /// Measure this machine: encode throughput and pipeline FPS per resolution.
    Bench(BenchArgs),
    /// The terminal UI over a service already running (another process); q leaves it running.
    Attach(crate::attach::run::AttachArgs),
    /// Run only the embedded MQTT broker, in the foreground (for tests and demos).
    Broker {
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        #[arg(long, default_value_t = 1883)]
        port: u16,
    },
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Parse `argv`; on a bad value, one line naming its flag or, when the
/// value came from the environment, the variable and its value.
fn parse(argv: Vec<OsString>) -> Result<(Cli, Origins), ExitCode> {
    let command = Cli::command();
    let parsed = command
        .clone()
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    match parsed {
        Ok((cli, matches)) => Ok((cli, Origins::from_matches(&command, &matches))),
        Err(e) => Err(clap_error(&command, &argv, e)),
    }
}

/// A clap error; a bad value from an environment variable names the variable.
fn clap_error(command: &clap::Command, argv: &[OsString], e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
    {
        let long = arg.split([' ', '=']).next().unwrap_or("");
        let on_line = argv.iter().any(|a| {
            let a = a.to_string_lossy();
            a == long || a.starts_with(&format!("{long}="))
        });
        let var = command
            .get_arguments()
            .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long))
            .and_then(|a| a.get_env());
        if !on_line && let Some(var) = var {
            let value = std::env::var_os(var).unwrap_or_default();
            let why = std::error::Error::source(&e)
                .map_or_else(|| "invalid value".to_owned(), ToString::to_string);
            return usage_error(&format!(
                "{}={}: {why} (the variable of {long})",
                var.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    // Help and version print to stdout and exit 0; errors exit 2.
    e.exit()
}

/// `tars-camera broker`: the embedded broker alone, in the foreground.
#[cfg(feature = "embedded-broker")]
fn run_broker(host: IpAddr, port: u16) -> Result<ExitCode> {
    crate::logging::init_stderr("info");
    crate::broker::run_foreground(std::net::SocketAddr::new(host, port), |addr| {
        println!("broker listening on {addr}");
    })
    .wrap_err("broker")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "embedded-broker"))]
fn run_broker(_host: IpAddr, _port: u16) -> Result<ExitCode> {
    Ok(usage_error(
        "broker: this build has no embedded broker (feature embedded-broker)",
    ))
}

/// Run the program with the process's arguments; returns the exit status.
///
/// # Errors
/// A failure after start-up (terminal, runtime, a subcommand), reported by
/// the caller through color-eyre.
pub fn main() -> Result<ExitCode> {
    let (cli, origins) = match parse(std::env::args_os().collect()) {
        Ok(parsed) => parsed,
        Err(code) => return Ok(code),
    };
    match cli.command {
        Some(Subcommands::ListCameras) => {
            let cameras = crate::capture::camera::list_cameras();
            let mut out = std::io::stdout().lock();
            crate::capture::camera::print_camera_list(&cameras, &mut out)
                .wrap_err("list-cameras")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Subcommands::Bench(args)) => match crate::bench::run(&args) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => Ok(usage_error(&e.to_string())),
        },
        Some(Subcommands::Broker { host, port }) => run_broker(host, port),
        Some(Subcommands::Attach(args)) => run_attach(&args),
        None => match config::resolve(cli.options, origins, crate::capture::file::settle) {
            Ok(config) => run_service(config),
            Err(e) => Ok(usage_error(&e.to_string())),
        },
    }
}

/// Logs go to stderr headless, and to the Events pane under the UI; both
/// keep the recent lines for `/events`.
fn init_logging(config: &Config, headless: bool, events: &EventLog) {
    if headless {
        crate::logging::init_headless(&config.log_level, events);
    } else {
        crate::logging::init_ui(&config.log_level, events);
    }
}

/// `tars-camera attach [ADDRESS]`.
fn run_attach(args: &crate::attach::run::AttachArgs) -> Result<ExitCode> {
    let target = match args.target() {
        Ok(t) => t,
        Err(e) => return Ok(usage_error(&format!("attach: {e}"))),
    };
    if !(args.preview_fps > 0.0 && args.preview_fps <= 30.0) {
        return Ok(usage_error(&format!(
            "--preview-fps: must be more than 0 and at most 30 (got {})",
            args.preview_fps
        )));
    }
    if !std::io::stdout().is_terminal() {
        return Ok(usage_error("attach: needs a terminal (stdout is not one)"));
    }
    let events = EventLog::new(200);
    crate::logging::init_ui("info", &events);
    crate::attach::run::run(target, args.preview_fps, events, None)?;
    Ok(ExitCode::SUCCESS)
}

/// In UI mode, with the port taken: the target if a tars-camera serves there.
fn running_service(config: &Config) -> Option<crate::attach::Target> {
    let host = if config.http_host.is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        match config.http_host {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        }
    };
    let (basic, token) = config.http_auth.secrets();
    let credentials = crate::attach::Credentials {
        basic: basic.cloned(),
        token: token.cloned(),
    };
    let url = format!("http://{host}:{}", config.http_port);
    let target = crate::attach::Target::parse(&url, credentials).ok()?;
    crate::attach::is_tars_camera(&target).then_some(target)
}

fn run_service(config: Config) -> Result<ExitCode> {
    let listener = match crate::http::bind(config.http_host, config.http_port) {
        Ok(l) => l,
        Err(e)
            if e.kind() == std::io::ErrorKind::AddrInUse
                && !config.no_tui
                && std::io::stdout().is_terminal() =>
        {
            // UI mode: a service already running there gets the UI attached.
            if let Some(target) = running_service(&config) {
                let events = EventLog::new(200);
                crate::logging::init_ui(&config.log_level, &events);
                let note = format!(
                    "a tars-camera already serves on {}: attached to it (q leaves it running)",
                    target.url
                );
                crate::attach::run::run(target, config.preview_fps, events, Some(note))?;
                return Ok(ExitCode::SUCCESS);
            }
            return Ok(usage_error(&format!(
                "--http-port: {}:{} is already in use",
                config.http_host, config.http_port
            )));
        }
        Err(e) => {
            let what = if e.kind() == std::io::ErrorKind::AddrInUse {
                "is already in use".to_owned()
            } else {
                e.to_string()
            };
            return Ok(usage_error(&format!(
                "--http-port: {}:{} {what}",
                config.http_host, config.http_port
            )));
        }
    };
    let headless = config.no_tui || !std::io::stdout().is_terminal();
    let events = EventLog::new(200);
    init_logging(&config, headless, &events);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tars-rt")
        .enable_all()
        .build()
        .wrap_err("cannot start the runtime")?;
    let result = runtime.block_on(async move {
        // Before anything starts: a signal while starting stops cleanly.
        let signals = crate::signals::Termination::catch().wrap_err("signals")?;
        let service = Service::start_logged(config, listener, None, events.clone()).await?;
        if headless {
            crate::headless::run(service, signals).await?;
            Ok(())
        } else {
            run_ui(service, events, signals).await
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result.map(|()| ExitCode::SUCCESS)
}

/// The UI over the service in this process, until `q` or a signal.
async fn run_ui(
    service: Service,
    events: EventLog,
    mut signals: crate::signals::Termination,
) -> Result<()> {
    let link = crate::tui::UiLink {
        status: service.status.clone(),
        frames: Arc::clone(&service.hub),
        commands: service.commands.clone(),
        preview_fps: service.config.preview_fps,
        events,
        codec: service.config.encoder.clone(),
    };
    let ui = tokio::select! {
        r = crate::tui::run_terminal(link) => r.wrap_err("terminal"),
        signal = signals.recv() => {
            // Dropping the UI future restores the terminal.
            tracing::info!("{signal}: stopping");
            Ok(())
        }
        () = async {
            let mut failed = service.failed_watch();
            let _ = failed.wait_for(Option::is_some).await;
        } => Ok(()),
    };
    let failure = service.failure();
    service.shutdown().await;
    match failure {
        Some(why) => Err(eyre!(why)),
        None => ui,
    }
}
