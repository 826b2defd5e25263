#!/usr/bin/env bash
# sam-fluid GPU benchmark on a lent GPU machine (no internet, no cargo needed).
#
#   scripts/fluid-gpu-bench.sh [BINARY] [extra fluid-bench options...]
#
# BINARY defaults to the first that exists of fluid-bench-peer, then fluid-bench, in
# target/fluid-gpu/ (git-ignored: copy prebuilt binaries there to carry them to the GPU
# machine), target-fluid/release/, /work/target-fluid/release/, $CARGO_TARGET_DIR/release/.
# The binaries need glibc >= 2.35 and load libvulkan.so.1 / libEGL at run time.
# `fluid-bench-peer` includes the fluid_core peer; `fluid-bench` runs sam-fluid alone.
# Build both with:
#   CARGO_TARGET_DIR=/work/target-fluid cargo build --release -p sam-fluid --bin fluid-bench
#   (cd crates/sam-fluid/peer-bench && CARGO_TARGET_DIR=/work/target-fluid cargo build --release)
#
# Two runs:
#   1. the default comparison (30 warm-up + 200 frames, submit + wait per frame)
#      -> $OUT/fluid-bench.json
#   2. the diagnostic run: 2 s of back-to-back frames first (GPU clock ramp-up), the same
#      submit + wait comparison, pipelined throughput (frames back to back, one wait), and
#      sam-fluid's per-pass GPU times (timestamp queries) -> $OUT/fluid-bench-profile.json
#      (skip it with PROFILE=0; WARMUP_MS overrides the 2000 ms).
# OUT defaults to ./fluid-bench-out. The memory bandwidth for the floor comparison comes
# from the GPU name (override with BANDWIDTH_GBS). Takes well under 3 minutes on an H100/H200.
set -uo pipefail
cd "$(dirname "$0")/.."

bin="${1:-}"
[[ $# -gt 0 ]] && shift
if [[ -z "$bin" ]]; then
  for dir in target/fluid-gpu target-fluid/release /work/target-fluid/release "${CARGO_TARGET_DIR:-/nonexistent}/release"; do
    for name in fluid-bench-peer fluid-bench; do
      if [[ -x "$dir/$name" ]]; then bin="$dir/$name"; break 2; fi
    done
  done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "fluid-gpu-bench: no prebuilt fluid-bench binary found (pass its path as \$1)." >&2
  if command -v cargo >/dev/null 2>&1; then
    echo "fluid-gpu-bench: trying an offline build (needs the crates in ~/.cargo/registry)..." >&2
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-fluid}"
    if (cd crates/sam-fluid/peer-bench && timeout 900 cargo build --release --offline -j "$(nproc)") >&2; then
      bin="$CARGO_TARGET_DIR/release/fluid-bench-peer"
    elif timeout 900 cargo build --release --offline -p sam-fluid --bin fluid-bench -j "$(nproc)" >&2; then
      bin="$CARGO_TARGET_DIR/release/fluid-bench"
    fi
  fi
  [[ -x "$bin" ]] || { echo "fluid-gpu-bench: FAILED: nothing to run" >&2; exit 1; }
fi

out="${OUT:-$PWD/fluid-bench-out}"
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true

echo "== fluid-gpu-bench: $bin"
gpu_name=""
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv 2>/dev/null || nvidia-smi -L
  gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)"
else
  echo "nvidia-smi: not found"
fi
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | sed 's/^/vulkan icd: /' || true

bw="${BANDWIDTH_GBS:-}"
if [[ -z "$bw" ]]; then
  case "$gpu_name" in
    *H200*) bw=4800 ;;
    *H100*NVL*) bw=3900 ;;
    *H100*PCIe*) bw=2000 ;;
    *H100*) bw=3350 ;;
    *A100*80GB*) bw=2039 ;;
    *A100*) bw=1555 ;;
    *) bw="" ;;
  esac
fi
bw_args=()
[[ -n "$bw" ]] && bw_args=(--bandwidth-gbs "$bw") && echo "bandwidth for the floor: $bw GB/s ($gpu_name)"

# Vulkan first (the discrete GPU, high-performance preference); GL if Vulkan is missing.
# Defaults first: extra options given to this script override them.
# run JSON_NAME [options...]
run() {
  local json="$1"; shift
  timeout 80 "$bin" gpu --warmup 30 --frames 200 "${bw_args[@]}" "$@" --json-out "$out/$json"
}
backend=vulkan
echo "== run 1: default comparison (submit + wait per frame)"
if ! WGPU_BACKEND=vulkan run fluid-bench.json --backend vulkan "$@"; then
  echo "fluid-gpu-bench: the Vulkan run failed; retrying with GL (EGL)" >&2
  backend=gl
  WGPU_BACKEND=gl run fluid-bench.json --backend gl "$@" || { echo "fluid-gpu-bench: FAILED" >&2; exit 1; }
fi

status=0
rm -f "$out/fluid-bench-profile.json"
if [[ "${PROFILE:-1}" != 0 ]]; then
  warm_ms="${WARMUP_MS:-2000}"
  echo
  echo "== run 2: ${warm_ms} ms clock warm-up, pipelined throughput, per-pass GPU times ($backend)"
  if ! WGPU_BACKEND=$backend run fluid-bench-profile.json --backend $backend \
      --warmup-ms "$warm_ms" --pipelined --profile "$@"; then
    echo "fluid-gpu-bench: the diagnostic run (run 2) failed" >&2
    status=1
  fi
fi

if grep -qi -e llvmpipe -e lavapipe -e '"Cpu' "$out/fluid-bench.json"; then
  cat >&2 <<'WARN'

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  WARNING: the benchmark ran on a SOFTWARE renderer (llvmpipe/lavapipe), not  !!
!!  the NVIDIA GPU. These numbers say nothing about the discrete-GPU targets.    !!
!!  Check that the NVIDIA Vulkan ICD (nvidia_icd.json) and libvulkan1 exist.    !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
WARN
fi
echo "== JSON: $out/fluid-bench.json"
cat "$out/fluid-bench.json"
if [[ -f "$out/fluid-bench-profile.json" ]]; then
  echo "== JSON: $out/fluid-bench-profile.json"
  cat "$out/fluid-bench-profile.json"
fi
exit $status
