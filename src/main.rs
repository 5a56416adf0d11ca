//! tars-camera: parse the command line, then run the service, a subcommand,
//! or exit 2 with one line naming the bad option.

use std::process::ExitCode;

use clap::Parser;
use tars_camera::app;
use tars_camera::config::Cli;

fn main() -> ExitCode {
    app::main(Cli::parse())
}
