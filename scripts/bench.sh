#!/usr/bin/env bash
# Every benchmark, printed as one table: the sync and license benchmarks (core, release build)
# and the release app's start-up, memory and bundle size (needs `make package`, which `make
# bench` runs first). Each row says whether its target is met.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
cargo bench -q -p keymanager --bench sync 2>/dev/null | tee -a "$out" >/dev/null
cargo bench -q -p keymanager --bench licenses 2>/dev/null | tee -a "$out" >/dev/null
cargo bench -q -p keymanager --bench outbox 2>/dev/null | tee -a "$out" >/dev/null
# The licensing server under an established load generator.
command -v oha >/dev/null || cargo install oha --locked -q
cargo bench -q -p keymanager --bench serve 2>/dev/null | tee -a "$out" >/dev/null
# Update delivery: PUC metadata beside health, downloads beside nginx (Debian's, from setup.sh --test).
cargo bench -q -p keymanager --bench updates 2>/dev/null | tee -a "$out" >/dev/null
bash scripts/bench-app.sh 2>/dev/null | tee -a "$out" >/dev/null
printf '\n| %-60s | %16s | %10s | %-6s |\n' "KeyManager benchmarks ($(nproc) cores, $(date -u +%Y-%m-%d))" figure target ""
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..62})" "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..8})"
# Rows of the three tables, without their headers and separators, in one format.
grep '^| ' "$out" | grep -v -E '^\| (sync benchmark|licenses benchmark|outbox benchmark|licensing server benchmark|update delivery benchmark|release app)' | \
  awk -F'|' '{ gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); gsub(/^ +| +$/, "", $5);
               printf "| %-60s | %16s | %10s | %-6s |\n", $2, $3, $4, $5 }'
echo
if grep -q MISSED "$out"; then echo "Some targets are missed (MISSED above)."; fi
rm -f "$out"
