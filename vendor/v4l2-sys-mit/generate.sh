#!/bin/sh
# Regenerate bindings/*.rs. Needs libclang and the C headers of each target:
#   apt-get install libclang-dev linux-libc-dev \
#     libc6-dev-arm64-cross libc6-dev-armhf-cross
# The Linux uapi headers (linux/, asm-generic/) of the host are used for every
# target so that the files differ only where the architecture makes them
# differ; asm/ and glibc come from each target's cross headers.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/generate/target}"
cargo build --release --manifest-path "$here/generate/Cargo.toml"
gen="$CARGO_TARGET_DIR/release/v4l2-sys-mit-generate"
builtin=$(ls -d /usr/lib/llvm-*/lib/clang/*/include | sort -V | tail -n 1)
overlay=$(mktemp -d)
trap 'rm -rf "$overlay"' EXIT
ln -s /usr/include/linux "$overlay/linux"
ln -s /usr/include/asm-generic "$overlay/asm-generic"

"$gen" x86_64-linux-gnu "$here/bindings/x86_64.rs" \
  -isystem "$builtin" -isystem /usr/include/x86_64-linux-gnu -isystem /usr/include
"$gen" aarch64-linux-gnu "$here/bindings/aarch64.rs" \
  -isystem "$builtin" -isystem "$overlay" -isystem /usr/aarch64-linux-gnu/include
"$gen" arm-linux-gnueabihf "$here/bindings/arm.rs" \
  -isystem "$builtin" -isystem "$overlay" -isystem /usr/arm-linux-gnueabihf/include
echo "wrote $here/bindings/{x86_64,aarch64,arm}.rs"
