#!/usr/bin/env bash
# Desktop benchmarks recorded in BENCHMARKS.md: cold start (app requested -> runs table of a
# 10k-run store on screen) and idle memory of the app and its WebKit processes, on the release
# binary `cargo xtask bundle deb` builds; then the installers' sizes. `cargo xtask bench` runs it
# after installing what it needs (WebKitGTK, Xvfb, WebKitWebDriver, tauri-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TRACKBENCH_DESKTOP_TARGET_DIR:-/var/tmp/trackbench-desktop-target}
APP=$T/release/trackbench-desktop
CLI=${TRACKBENCH_BIN:-${CARGO_TARGET_DIR:-target}/debug/trackbench}
[ -x "$APP" ] || cargo xtask bundle deb
[ -x "$CLI" ] || cargo build --locked -p trackbench-cli
echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | tr -s ' '), load $(cut -d' ' -f1-3 /proc/loadavg)"
env -u DISPLAY CARGO_TARGET_DIR="$T" TRACKBENCH_BIN="$(realpath "$CLI")" \
  TAURI_DRIVER="$T/tools/bin/tauri-driver" TRACKBENCH_DESKTOP_APP="$APP" LANG=en_US.UTF-8 \
  TRACKBENCH_BENCH_RUNS="${TRACKBENCH_BENCH_RUNS:-10000}" \
  cargo test --locked --manifest-path src-tauri/Cargo.toml --test smoke -- \
  --ignored --nocapture --exact bench_cold_start_to_runs_table | grep -E '^(BENCH|SKIPPED)'
ls -l "$T"/release/bundle/*/* 2>/dev/null || true
