//! The program's edge: turns a parsed command line into a running service,
//! a subcommand, or an exit status (2 for bad input, before anything starts).

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;

use crate::config::{self, Cli, Config, EXIT_USAGE, Subcommands};
use crate::service::Service;

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn filter(level: &str) -> EnvFilter {
    // Third-party crates stay at warn unless asked for debug/trace.
    let others = if matches!(level, "debug" | "trace") {
        level
    } else {
        "warn"
    };
    // rumqttd logs routine disconnects at ERROR: keep it off.
    EnvFilter::new(format!("{others},tars_camera={level},rumqttd=off"))
}

/// `tars-camera broker`: the embedded broker alone, in the foreground.
#[cfg(feature = "embedded-broker")]
fn run_broker(host: std::net::IpAddr, port: u16) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_writer(std::io::stderr)
        .init();
    let result =
        crate::mqtt::broker::run_foreground(std::net::SocketAddr::new(host, port), |addr| {
            println!("broker listening on {addr}");
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: broker: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "embedded-broker"))]
fn run_broker(_host: std::net::IpAddr, _port: u16) -> ExitCode {
    usage_error("broker: this build has no embedded broker (feature embedded-broker)")
}

/// Run the program; returns the process exit status.
#[must_use]
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Subcommands::ListCameras) => {
            let cameras = crate::capture::camera::list_cameras();
            let mut out = std::io::stdout().lock();
            match crate::capture::camera::print_camera_list(&cameras, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Subcommands::Bench(args)) => match crate::bench::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error(&e),
        },
        Some(Subcommands::Broker { host, port }) => run_broker(host, port),
        None => {
            let config = match config::resolve(cli.options) {
                Ok(c) => c,
                Err(e) => return usage_error(&e.to_string()),
            };
            run_service(config)
        }
    }
}

fn run_service(config: Config) -> ExitCode {
    let listener = match crate::http::bind(config.http_host, config.http_port) {
        Ok(l) => l,
        Err(e) => {
            let what = if e.kind() == std::io::ErrorKind::AddrInUse {
                "is already in use".to_owned()
            } else {
                e.to_string()
            };
            return usage_error(&format!(
                "--http-port: {}:{} {what}",
                config.http_host, config.http_port
            ));
        }
    };
    let headless = config.no_tui || !std::io::stdout().is_terminal();
    let events = crate::tui::log::EventLog::new(200);
    if headless {
        tracing_subscriber::fmt()
            .with_env_filter(filter(&config.log_level))
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    } else {
        // Logs go to the Events pane, never over the UI.
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        tracing_subscriber::registry()
            .with(events.layer().with_filter(filter(&config.log_level)))
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tars-rt")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let preview_fps = config.preview_fps;
        let service = Service::start(config, listener)
            .await
            .map_err(|e| e.to_string())?;
        if headless {
            return crate::headless::run(service)
                .await
                .map_err(|e| e.to_string());
        }
        let link = crate::tui::UiLink {
            status: service.status.clone(),
            frames: std::sync::Arc::clone(&service.hub),
            commands: service.commands.clone(),
            preview_fps,
            events,
            codec: service.config.encoder.clone(),
        };
        let ui = tokio::select! {
            r = crate::tui::run_terminal(link) => r.map_err(|e| format!("terminal: {e}")),
            signal = crate::headless::termination() => {
                // Dropping the UI future restores the terminal.
                signal.map(|s| tracing::info!("{s}: stopping")).map_err(|e| e.to_string())
            }
        };
        service.shutdown().await;
        ui
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
