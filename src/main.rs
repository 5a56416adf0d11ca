//! tars-camera: parse the command line, then run the service, a subcommand,
//! or exit 2 with one line naming the bad option. Failures after start-up
//! and panics are reported by color-eyre (the terminal restored first).

use std::process::ExitCode;

fn main() -> color_eyre::Result<ExitCode> {
    tars_camera::memory::return_large_buffers_to_the_system();
    // Error reports in colour only where the logs are: a terminal, and
    // neither NO_COLOR nor the journal asking for plain text.
    let plain = ["NO_COLOR", "JOURNAL_STREAM"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
        || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let hooks = color_eyre::config::HookBuilder::default();
    if plain {
        hooks.theme(color_eyre::config::Theme::new()).install()?;
    } else {
        hooks.install()?;
    }
    tars_camera::cli::main()
}
