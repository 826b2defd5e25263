#!/usr/bin/env bash
# Installs what SAM Desktop needs to build and run (and, with --test, to run every test tier).
# Idempotent: a second run checks and skips what is already there.
#   scripts/setup.sh          # build + run the app
#   scripts/setup.sh --test   # also the test tools (tauri-driver, Xvfb, D-Bus, keyring daemon)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31msetup: %s\033[0m\n' "$*" >&2; exit 1; }

# --- system packages -------------------------------------------------------------------------
# Build: WebKitGTK 4.1 (brings GTK3, libsoup3, JavaScriptCore), the tray library, pkg-config,
# ALSA headers (voice capture through cpal), cmake and libclang (whisper.cpp, on-device
# transcription: whisper-rs-sys builds it with cmake and a C++ compiler, bindgen needs libclang).
APT_BUILD=(build-essential pkg-config curl file libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
           librsvg2-dev libssl-dev libdbus-1-dev git openssh-client libasound2-dev cmake libclang-dev)
# Tests: a virtual display, a private session bus, a real keyring daemon, the WebKit driver.
# cloud-init: its `cloud-init schema` validates the user-data SAM renders for workspace VMs
# (python3-yaml comes with it). Installed without recommends it adds no running service.
# openssh-server: the tests run a private sshd on loopback as a workspace host (never the
# system service).
# podman, runc, debootstrap: sam-host's dev container tests bring containers up with podman
# (runc: crun fails on some VMs) from a base image built locally with debootstrap.
# mesa-vulkan-drivers, libvulkan1: lavapipe, the software Vulkan adapter sam-fluid's GPU tests use.
# pulseaudio, pulseaudio-utils, libasound2-plugins, espeak-ng: sam-voice's capture tests play
# speech made by espeak-ng through a private PulseAudio into the real ALSA capture path.
# xdotool: the e2e suite presses the global push-to-talk shortcut on the X server (XTEST).
APT_TEST=(xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools webkit2gtk-driver util-linux cloud-init
          openssh-server podman runc debootstrap mesa-vulkan-drivers libvulkan1
          pulseaudio pulseaudio-utils libasound2-plugins espeak-ng xdotool)

packages=("${APT_BUILD[@]}")
$want_test && packages+=("${APT_TEST[@]}")

if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing system packages: ${missing[*]}"
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then
      command -v sudo >/dev/null || die "need root to install ${missing[*]} (no sudo found)"
      sudo_cmd=(sudo)
    fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      || die "apt-get could not install: ${missing[*]}"
  else
    say "system packages present"
  fi
else
  say "not a Debian/Ubuntu system: make sure these (or your distribution's equivalents) are installed:"
  say "  ${packages[*]}"
  say "  (Fedora: webkit2gtk4.1-devel libayatana-appindicator-gtk3-devel openssl-devel; see https://v2.tauri.app/start/prerequisites/)"
fi

# --- Rust --------------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || die "Rust is not installed: install it with rustup (https://rustup.rs), then rerun."
if command -v rustup >/dev/null 2>&1; then
  # The targets the build needs beyond the host: the fluid background runs in the webview as
  # wasm (scripts/build-fluid-wasm.sh).
  RUST_TARGETS=(wasm32-unknown-unknown)
  for t in "${RUST_TARGETS[@]}"; do
    rustup target list --installed | grep -qx "$t" || { say "adding Rust target $t"; rustup target add "$t" || die "rustup could not add $t"; }
  done
  if $want_test; then
    for c in rustfmt clippy; do
      rustup component list --installed 2>/dev/null | grep -q "^$c" || { say "adding $c"; rustup component add "$c"; }
    done
  fi
fi

if ! command -v rustup >/dev/null 2>&1; then
  rustc --print target-libdir --target wasm32-unknown-unknown >/dev/null 2>&1 \
    && [[ -d "$(rustc --print target-libdir --target wasm32-unknown-unknown)" ]] \
    || die "the Rust target wasm32-unknown-unknown is missing (no rustup here): install your distribution's Rust standard library for wasm32-unknown-unknown, then rerun."
fi

# wasm-bindgen's CLI turns the fluid background's wasm into a JS module; it must be the same
# version as the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[[ -n "$WASM_BINDGEN_VERSION" ]] || die "no wasm-bindgen in Cargo.lock"
wasm_bindgen_bin=$(command -v wasm-bindgen 2>/dev/null || echo "${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen")
if [[ ! -x "$wasm_bindgen_bin" ]] || [[ "$("$wasm_bindgen_bin" --version 2>/dev/null | awk '{ print $2 }')" != "$WASM_BINDGEN_VERSION" ]]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" \
    || die "cargo could not install wasm-bindgen-cli $WASM_BINDGEN_VERSION (needed to build the fluid background)"
else
  say "wasm-bindgen $WASM_BINDGEN_VERSION present"
fi

# --- Node and the UI's packages ----------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "Node.js 20.19+ is not installed (Debian's nodejs is too old): install it from nodejs.org or with nvm, then rerun."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $(node --version) is too old: SAM's UI build needs 20.19 or newer."
stamp=ui/node_modules/.package-lock.json
if [[ ! -f "$stamp" || ui/package-lock.json -nt "$stamp" ]]; then
  say "installing UI packages (npm ci)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
else
  say "UI packages present"
fi

# --- test tools --------------------------------------------------------------------------------
if $want_test; then
  TAURI_DRIVER_VERSION=2.1.0
  if ! { command -v tauri-driver >/dev/null 2>&1 || [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]]; }; then
    say "installing tauri-driver $TAURI_DRIVER_VERSION"
    cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" || die "cargo could not install tauri-driver"
  fi
  # The Dev Containers CLI, pinned in tools/devcontainer/package-lock.json; the sam-host tests
  # run it from tools/devcontainer/node_modules/.bin/devcontainer.
  dc_stamp=tools/devcontainer/node_modules/.package-lock.json
  if [[ ! -f "$dc_stamp" || tools/devcontainer/package-lock.json -nt "$dc_stamp" ]]; then
    say "installing the Dev Containers CLI (npm ci in tools/devcontainer)"
    (cd tools/devcontainer && npm ci --no-audit --no-fund --loglevel=error) \
      || die "npm could not install the Dev Containers CLI in tools/devcontainer"
  else
    say "Dev Containers CLI present"
  fi
  # Real ACP agents (Claude Code, Codex, Gemini CLI, OpenCode), pinned in
  # tools/agents/package-lock.json, for the offline end-to-end agent tests; they also fill
  # npm's cache, from which the host's own install path is tested offline. (Mistral Vibe needs
  # Python >= 3.12, which Debian 12 does not have.)
  agents_stamp=tools/agents/node_modules/.package-lock.json
  if [[ ! -f "$agents_stamp" || tools/agents/package-lock.json -nt "$agents_stamp" ]]; then
    say "installing the pinned ACP agents (npm install in tools/agents)"
    # Not `npm ci`: OpenCode's package lists its builds for every platform as optional
    # dependencies, the registry here serves only the Linux ones, so the lock holds only
    # those and `npm ci` refuses it as out of sync. `install --no-save` follows the lock's
    # exact versions and leaves it as it is.
    npm install --no-save --prefix tools/agents --no-audit --no-fund --loglevel=error \
      || die "npm could not install the ACP agents in tools/agents"
  else
    say "ACP agents present"
  fi
fi
say "done"
