#!/usr/bin/env bash
# Windows must never silently break: cross-compile ptdeskctl.exe and run it
# under wine — generate a key, add and search a patient, answer as the
# sandbox. Prints "windows smoke: N passed, 0 failed" on success.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's wine64 package puts its loader in /usr/lib/wine.
WINE=$(command -v wine64 || command -v wine || ls /usr/lib/wine/wine64 2>/dev/null || true)
WINESERVER=$(command -v wineserver || ls /usr/lib/wine/wineserver64 2>/dev/null || echo true)
if [ -z "$WINE" ]; then
  echo "windows smoke: wine is not installed (make test installs wine64)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
  WINEPREFIX="$tmp/prefix" "$WINESERVER" -k 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o "$tmp/ptdeskctl.exe" ./cmd/ptdeskctl
export WINEPREFIX="$tmp/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
"$WINE" wineboot --init >/dev/null 2>&1 || true
# wine 8.0 lacks bcryptprimitives.dll, which the Go runtime needs: add the
# small stand-in from .ci/wine when the prefix has none.
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -e "$sys32/bcryptprimitives.dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$sys32/bcryptprimitives.dll" \
    .ci/wine/bcryptprimitives.c .ci/wine/bcryptprimitives.def -lbcrypt
fi

exe() { "$WINE" "$tmp/ptdeskctl.exe" --home 'C:\ptdesk-smoke' "$@" 2>"$tmp/stderr" | tr -d '\r'; }
passed=0
check() { # count one step that passed
  echo "ok: $1"; passed=$((passed + 1))
}

key=$(exe keys generate)
[[ "$key" =~ ^[A-Za-z0-9]{40}$ ]] || { echo "FAIL keys generate printed: $key"; cat "$tmp/stderr"; exit 1; }
check "keys generate"

id=$(exe patients add --first-name José --last-name Núñez --birth-year 1980)
[ "$id" = 1 ] || { echo "FAIL patients add printed: $id"; cat "$tmp/stderr"; exit 1; }
check "patients add"

found=$(exe patients search --json nunez)
grep -q '"last_name": "Núñez"' <<<"$found" || { echo "FAIL patients search: $found"; cat "$tmp/stderr"; exit 1; }
check "patients search"

port=$((20000 + RANDOM % 20000))
"$WINE" "$tmp/ptdeskctl.exe" sandbox --addr "127.0.0.1:$port" >/dev/null 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/" 2>/dev/null | grep -q -i sandbox; then
    check "sandbox answering"
    echo "windows smoke: $passed passed, 0 failed"
    exit 0
  fi
  sleep 0.2
done
echo "FAIL: the sandbox under wine did not answer on port $port"
exit 1
