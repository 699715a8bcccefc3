#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked, throw-away GNOME Keyring
# (what the tests that use the real keychain need): scripts/in-session.sh CMD ARGS...
set -euo pipefail
exec dbus-run-session -- bash -c '
  set -euo pipefail
  export XDG_DATA_HOME="$(mktemp -d)" NO_AT_BRIDGE=1
  printf "ci-keyring-pass" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  gnome-keyring-daemon --start --components=secrets >/dev/null
  exec keyctl session - "$@"' _ "$@"
