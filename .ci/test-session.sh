#!/usr/bin/env bash
# Runs every test the way CI does: in a private D-Bus session with a fresh,
# unlocked gnome-keyring (the real Secret Service), on a virtual X display,
# with the real Chromium. PTDESK_REQUIRE_REAL=1 turns "tool missing" skips
# into failures, so nothing is skipped silently here.
set -euo pipefail
cd "$(dirname "$0")/.."

export PTDESK_REQUIRE_REAL=1
export LANG=en_US.UTF-8
# Keep Go's build cache where it is even though XDG_CACHE_HOME moves below.
GOCACHE="$(go env GOCACHE)"
GOMODCACHE="$(go env GOMODCACHE)"
export GOCACHE GOMODCACHE

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

# The shared-store tests need PostgreSQL; start the local server if it is
# installed but stopped. Without one they skip with a message.
if [ -z "${PTDESK_TEST_DB:-}" ]; then
  echo "NOTE: PTDESK_TEST_DB is not set, so the PostgreSQL tests will be skipped." >&2
  echo "      To run them: PTDESK_TEST_DB=postgres://USER@HOST:5432/DB?sslmode=disable make test" >&2
elif command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    for v in /etc/postgresql/*/; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true
    done
  fi
fi


# One D-Bus session for the whole run; the keyring is unlocked with a
# throwaway password (an empty one creates no login collection).
dbus-run-session -- bash -euo pipefail -c '
  echo "ptdesk-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  xvfb-run -a -s "-screen 0 1280x800x24" go test -count=1 -timeout 40m ./...
'
echo "== the desktop UI with the software driver (no cgo)"
CGO_ENABLED=0 go test -count=1 -tags ci ./ui/...
