#!/usr/bin/env bash
# Runs each fuzz target for a bounded time: scripts/fuzz.sh [SECONDS per target, default 60].
# cargo-fuzz needs the compiler's unstable flags; RUSTC_BOOTSTRAP enables them on stable Rust.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2 -q
export RUSTC_BOOTSTRAP=1
for target in purchase_code license_key envato_json api_request site_url; do
  mkdir -p "corpus/$target"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 3
  echo "fuzz: $target ran ${secs}s with no crash"
done
