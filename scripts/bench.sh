#!/usr/bin/env bash
# Start-up and idle-memory benchmark against a bare Tauri 2 window (release builds, Xvfb).
#   scripts/bench.sh [--runs N] [--idle-secs S]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
(cd ui && npm run build --silent)
cargo build --locked --release -p sam-desktop -p bare-window
cargo build --locked --release -p sam-e2e --bin startup-bench
target="${CARGO_TARGET_DIR:-target}/release"
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  "$target/startup-bench" --sam "$target/sam-desktop" --floor "$target/bare-window" "$@"
