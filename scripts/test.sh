#!/usr/bin/env bash
# Sets up, then runs every test tier — or only the tiers named:
#   scripts/test.sh                 # lint rust ui e2e
#   scripts/test.sh rust ui         # just those
# Headless: the tiers run under a virtual display (xvfb-run), a private D-Bus session bus
# (dbus-run-session) and a real, unlocked gnome-keyring Secret Service.
# SAM_UPDATE_SCREENSHOT=1 copies the e2e shell screenshot to docs/screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."

tiers=("$@")
((${#tiers[@]})) || tiers=(lint rust ui e2e)
for t in "${tiers[@]}"; do
  case "$t" in lint|rust|ui|e2e) ;; *) echo "test.sh: unknown tier '$t' (tiers: lint rust ui e2e)" >&2; exit 2 ;; esac
done

# CI starts from a fresh clone each time: keep one target directory outside the clone.
if [[ "${CI:-}" == "true" && -z "${CARGO_TARGET_DIR:-}" ]]; then
  export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/sam-desktop/target"
fi

if [[ -z "${SAM_TEST_SESSION:-}" ]]; then
  scripts/setup.sh --test
  export SAM_TEST_SESSION=1
  exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$0" "${tiers[@]}"
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

# A real Secret Service for the keyring checks, with its files in a throwaway folder.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_RUNTIME_DIR="$scratch/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"
printf %s sam-test | XDG_DATA_HOME="$scratch/keyrings" gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null

step "UI build (the app embeds ui/dist, with the fluid background's wasm)"
scripts/build-fluid-wasm.sh
(cd ui && npm run build --silent)

if command -v cargo-nextest >/dev/null 2>&1; then
  rust_test() { cargo nextest run --locked --no-fail-fast "$@"; }
else
  rust_test() { cargo test --locked --no-fail-fast "$@"; }
fi

for tier in "${tiers[@]}"; do
  case "$tier" in
    lint)
      step "lint: rustfmt, clippy, tsc"
      cargo fmt --all --check
      cargo clippy --locked --workspace --all-targets -- -D warnings
      (cd ui && npm run typecheck --silent)
      ;;
    rust)
      step "rust: unit and integration tests"
      rust_test --workspace --exclude sam-e2e
      ;;
    ui)
      step "ui: vitest"
      (cd ui && npm test --silent)
      ;;
    e2e)
      step "e2e: the real app over WebDriver under Xvfb"
      cargo build --locked -p sam-desktop -p sam-host
      export SAM_APP_BINARY="$target_dir/debug/sam-desktop"
      if command -v cargo-nextest >/dev/null 2>&1; then
        # One retry: twice in nine full runs one test (a different one each time) failed about
        # two seconds after the app started, and neither reproduced alone; nextest reports a
        # test that passed on its retry as FLAKY, so it stays visible.
        cargo nextest run --locked --no-fail-fast -p sam-e2e --test-threads 1 --retries 1
      else
        cargo test --locked --no-fail-fast -p sam-e2e -- --test-threads 1
      fi
      echo "screenshots: $PWD/artifacts/e2e"
      if [[ -n "${SAM_UPDATE_SCREENSHOT:-}" ]]; then
        cp artifacts/e2e/shell.png docs/screenshot.png
        echo "updated docs/screenshot.png"
      fi
      ;;
  esac
done
