#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked, throw-away GNOME Keyring
# (what the tests that use the real keychain need): scripts/in-session.sh CMD ARGS...
# The keyring's files and control socket live in fresh temporary folders, so sessions never
# share a daemon; a stored-and-cleared probe secret proves the keyring is usable before CMD runs.
set -euo pipefail
exec dbus-run-session -- bash -c '
  set -euo pipefail
  export XDG_DATA_HOME="$(mktemp -d)" XDG_RUNTIME_DIR="$(mktemp -d)" NO_AT_BRIDGE=1
  ready=0
  for attempt in 1 2 3 4 5; do
    printf "ci-keyring-pass" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || true
    gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1 || true
    if printf probe | secret-tool store --label=keymanager-probe keymanager-probe 1 2>/dev/null \
       && secret-tool clear keymanager-probe 1 2>/dev/null; then
      ready=1
      break
    fi
    echo "in-session: the keyring is not ready yet (attempt $attempt)" >&2
    sleep 1
  done
  [ "$ready" = 1 ] || { echo "in-session: could not unlock a keyring" >&2; exit 1; }
  exec keyctl session - "$@"' _ "$@"
