//! tars-camera binary. For now only the `broker` subcommand (the embedded
//! MQTT broker in the foreground, used by the tests); the service CLI comes
//! with the service.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tars-camera", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the embedded MQTT broker in the foreground until killed.
    #[cfg(feature = "embedded-broker")]
    Broker {
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        #[arg(long, default_value_t = 1883)]
        port: u16,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "embedded-broker")]
        Some(Cmd::Broker { host, port }) => {
            let filter = format!("info,{}", tars_camera::mqtt::broker::QUIET_LOG_DIRECTIVES);
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_writer(std::io::stderr)
                .init();
            let addr = std::net::SocketAddr::new(host, port);
            let result = tars_camera::mqtt::broker::run_foreground(addr, |addr| {
                println!("broker listening on {addr}");
            });
            if let Err(e) = result {
                eprintln!("tars-camera broker: {e}");
            }
            ExitCode::FAILURE
        }
        None => {
            eprintln!("tars-camera: the service is not wired yet; try `tars-camera broker`");
            ExitCode::from(2)
        }
    }
}
