//! tars-camera: parse the command line, then run the service, a subcommand,
//! or exit 2 with one line naming the bad option. Failures after start-up
//! and panics are reported by color-eyre (the terminal restored first).

use std::process::ExitCode;

fn main() -> color_eyre::Result<ExitCode> {
    tars_camera::memory::return_large_buffers_to_the_system();
    color_eyre::install()?;
    tars_camera::cli::main()
}
