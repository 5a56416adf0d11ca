//! `tars-camera bench`: encode throughput and pipeline FPS on this machine.

use crate::config::BenchArgs;

/// Run the benchmark and print the table.
///
/// # Errors
/// A bad size argument or an unwritable JSON file.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let _ = args;
    Err("bench: not built yet".into())
}
