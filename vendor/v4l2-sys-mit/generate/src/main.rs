//! Writes the V4L2 bindings for one target, the way upstream's build script
//! did (default bindgen options, `#include <linux/videodev2.h>`), but with the
//! target and the header directories explicit so a cross target can be
//! generated on any host.
//!
//! Usage: v4l2-sys-mit-generate CLANG_TARGET OUT_FILE [-isystem DIR]...

use std::env;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: v4l2-sys-mit-generate CLANG_TARGET OUT_FILE [CLANG_ARG]...");
        return ExitCode::FAILURE;
    }
    let header = concat!(env!("CARGO_MANIFEST_DIR"), "/../wrapper.h");
    let mut clang_args = vec![format!("--target={}", args[0]), "-nostdinc".to_string()];
    clang_args.extend(args[2..].iter().cloned());
    let bindings = match bindgen::Builder::default()
        .header(header)
        .clang_args(&clang_args)
        .generate()
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bindgen failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = bindings.write_to_file(&args[1]) {
        eprintln!("cannot write {}: {e}", args[1]);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
