//! Writes the man pages and shell completions of the Debian package from
//! the program's own command line (so they cannot drift from it):
//!
//! ```sh
//! cargo run --example package_docs -- OUT_DIR
//! ```
//!
//! `OUT_DIR/man1/tars-camera.1` (and one page per subcommand,
//! `tars-camera-bench.1`, …), `OUT_DIR/completions/tars-camera.bash`,
//! `_tars-camera` (zsh) and `tars-camera.fish`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;
use tars_camera::cli::Cli;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: package_docs OUT_DIR");
        return ExitCode::from(2);
    };
    match write_all(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("package_docs: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

fn write_man(cmd: &clap::Command, path: &Path) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    std::fs::write(path, page)
}

fn write_all(out: &Path) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = out.join("man1");
    std::fs::create_dir_all(&man)?;
    write_man(&cmd, &man.join("tars-camera.1"))?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("tars-camera-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("tars-camera {}", sub.get_name()));
        write_man(&page, &man.join(format!("{name}.1")))?;
    }
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd, "tars-camera", &completions)?;
    }
    Ok(())
}
