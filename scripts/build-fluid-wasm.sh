#!/usr/bin/env bash
# Builds the fluid background (crates/sam-fluid) for the webview: wasm32 + WebGL2, and its
# wasm-bindgen glue, into ui/src/features/fluid/pkg/ (git-ignored), which the UI build bundles.
# Run before every UI build (scripts/run.sh and scripts/test.sh do). Honours CARGO_TARGET_DIR.
#   scripts/build-fluid-wasm.sh
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the version of the
# wasm-bindgen crate in Cargo.lock (scripts/setup.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf '\033[1;31mbuild-fluid-wasm: %s\033[0m\n' "$*" >&2; exit 1; }

out=ui/src/features/fluid/pkg
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[[ -n "$want" ]] || die "no wasm-bindgen in Cargo.lock"
command -v wasm-bindgen >/dev/null 2>&1 || die "wasm-bindgen is not installed: run scripts/setup.sh (cargo install wasm-bindgen-cli --version =$want)"
have=$(wasm-bindgen --version | awk '{ print $2 }')
[[ "$have" == "$want" ]] || die "wasm-bindgen $have does not match the wasm-bindgen crate $want in Cargo.lock: run scripts/setup.sh"
if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || die "the Rust target wasm32-unknown-unknown is missing: run scripts/setup.sh (rustup target add wasm32-unknown-unknown)"
fi

# `harness` (the default feature) is the native headless harness; the wasm build has none.
cargo build --locked -p sam-fluid --target wasm32-unknown-unknown --release --no-default-features
wasm="$target_dir/wasm32-unknown-unknown/release/sam_fluid.wasm"
[[ -f "$wasm" ]] || die "cargo did not produce $wasm"

# Into a fresh folder, then swapped in, so an interrupted run never leaves a half package.
tmp=$(mktemp -d "${out}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# No default `new URL("…_bg.wasm", import.meta.url)`: the wasm comes inlined (loadFluid.ts), and
# that default would make Vite ship a second, unused copy.
wasm-bindgen --target web --omit-default-module-path --out-dir "$tmp" "$wasm"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
printf 'build-fluid-wasm: %s (%s KiB of wasm)\n' "$out" "$(( $(stat -c %s "$out/sam_fluid_bg.wasm") / 1024 ))"
