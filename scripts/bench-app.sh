#!/usr/bin/env bash
# The release app's figures: cold start to first paint, idle memory of all its processes, and
# the .deb's size. Needs `make package` first (target/release/keymanager-app and the .deb).
# Prints one table; each figure is compared with its target.
set -euo pipefail
cd "$(dirname "$0")/.."
app=target/release/keymanager-app
deb=$(ls target/release/bundle/deb/*.deb 2>/dev/null | head -1 || true)
[ -x "$app" ] && [ -n "$deb" ] || { echo "bench-app: run 'make package' first"; exit 1; }
runs=${APP_BENCH_RUNS:-5}

measure() {
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
    set -euo pipefail
    app=$1; runs=$2
    export XDG_DATA_HOME="$(mktemp -d)" NO_AT_BRIDGE=1 GTK_A11Y=none
    printf "bench-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    gnome-keyring-daemon --start --components=secrets >/dev/null
    mem_tree() { # "RSS PSS" in KiB, summed over a process and all its descendants
      local rss=0 pss=0 p
      for p in $(pstree -pT "$1" | grep -o "([0-9]*)" | tr -d "()"); do
        rss=$(( rss + $(awk "/^VmRSS/ {print \$2}" /proc/$p/status 2>/dev/null || echo 0) ))
        pss=$(( pss + $(awk "/^Pss:/ {print \$2}" /proc/$p/smaps_rollup 2>/dev/null || echo 0) ))
      done
      echo "$rss $pss"
    }
    for i in $(seq 1 "$runs"); do
      data=$(mktemp -d); log=$(mktemp)
      start=$(date +%s%N)
      KEYMANAGER_DATA_DIR=$data KEYMANAGER_LOG=info "$app" 2>"$log" &
      pid=$!
      until grep -q "first paint" "$log"; do
        sleep 0.01
        if [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 30000 ]; then echo "no first paint"; kill $pid; exit 1; fi
      done
      wall=$(( ($(date +%s%N) - start) / 1000000 ))
      inner=$(sed "s/\x1b\[[0-9;]*m//g" "$log" | grep -o "first paint ms=[0-9]*" | head -1 | cut -d= -f2 || true)
      sleep 10
      read -r rss pss < <(mem_tree $pid)
      echo "run $i first_paint_wall_ms=$wall first_paint_app_ms=$inner idle_rss_kib=$rss idle_pss_kib=$pss"
      kill -TERM $pid; wait $pid 2>/dev/null || true
      rm -rf "$data" "$log"
    done' _ "$1" "$2"
}

dpkg -s psmisc >/dev/null 2>&1 || { apt-get install -y -qq psmisc >/dev/null; }
results=$(measure "$app" "$runs")
echo "$results" >&2
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
start_ms=$(echo "$results" | grep -o "first_paint_wall_ms=[0-9]*" | cut -d= -f2 | median)
rss_kib=$(echo "$results" | grep -o "idle_rss_kib=[0-9]*" | cut -d= -f2 | median)
pss_kib=$(echo "$results" | grep -o "idle_pss_kib=[0-9]*" | cut -d= -f2 | median)
deb_bytes=$(stat -c %s "$deb")
verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }
printf '\n| %-52s | %12s | %8s | %-6s |\n' "release app (median of $runs runs, under Xvfb)" figure target ""
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..54})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..8})"
printf '| %-52s | %9s ms | %8s | %-6s |\n' "cold start to first paint" "$start_ms" "< 1 s" "$(verdict $(( start_ms < 1000 )))"
printf '| %-52s | %9s MB | %8s | %-6s |\n' "idle memory, all processes, RSS summed (after 10 s)" "$(( rss_kib / 1024 ))" "< 150 MB" "$(verdict $(( rss_kib < 150 * 1024 )))"
printf '| %-52s | %9s MB | %8s | %-6s |\n' "idle memory, all processes, PSS (shared pages split)" "$(( pss_kib / 1024 ))" "< 150 MB" "$(verdict $(( pss_kib < 150 * 1024 )))"
printf '| %-52s | %9s MB | %8s | %-6s |\n' "release bundle ($(basename "$deb"))" "$(awk "BEGIN {printf \"%.1f\", $deb_bytes/1048576}")" "< 15 MB" "$(verdict $(( deb_bytes < 15 * 1048576 )))"
echo
