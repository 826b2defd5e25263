#!/usr/bin/env bash
# Sets up what is missing, builds the UI and the app (release), and starts SAM Desktop on its
# local default: no cloud account and no keys needed. Arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "building the fluid background (wasm) and the UI"
scripts/build-fluid-wasm.sh
(cd ui && npm run build --silent)
echo "building SAM Desktop (the first build takes a few minutes)"
# sam-host is the workspace daemon the app starts for each workspace; it sits next to the app.
cargo build --locked --release -p sam-desktop -p sam-cli -p sam-host
exec "${CARGO_TARGET_DIR:-target}/release/sam-desktop" "$@"
