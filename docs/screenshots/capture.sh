#!/bin/sh
# capture.sh renders PT Desk's main screens in a real window under Xvfb,
# with the sample data of `ptdesk --demo`, and saves them as PNGs beside
# this script. Keys stay in memory; nothing outside a temporary folder is
# touched.
#
#   docs/screenshots/capture.sh [PTDESK_BINARY]
#
# Without an argument it builds ./cmd/ptdesk first. Needs: xvfb-run, xauth,
# xdotool, xwd (x11-apps), ImageMagick, dbus-run-session.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${PTDESK_CAPTURE_INNER:-}" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	bin=${1:-}
	if [ -z "$bin" ]; then
		bin=$tmp/ptdesk
		(cd "$root" && go build -o "$bin" ./cmd/ptdesk)
	fi
	export PTDESK_CAPTURE_INNER=1 PTDESK_BIN=$bin PTDESK_TMP=$tmp
	exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$0"
fi

tmp=$PTDESK_TMP
bin=$PTDESK_BIN
# Fyne keeps its Preferences under XDG_CONFIG_HOME: a fresh one per run.
export XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" LANG=en_US.UTF-8 FYNE_SCALE=1
home="$tmp/home"

# shot NAME SCREEN TITLE [THEME]: start PT Desk on SCREEN, wait for the
# window whose title matches the regular expression TITLE (ASCII only:
# xdotool does not match the em dash in the titles), let it draw, and save
# it as NAME.png.
shot() {
	name=$1 screen=$2 title=$3 theme=${4:-light}
	FYNE_THEME=$theme "$bin" --demo --home "$home" --screen "$screen" >"$tmp/$name.log" 2>&1 &
	pid=$!
	if ! wid=$(timeout 30 xdotool search --sync --onlyvisible --name "$title" | head -n 1); then
		echo "capture: no window titled '$title' for $name" >&2
		cat "$tmp/$name.log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 2 # the first frames, the dialogs' animations
	xwd -silent -id "$wid" | /usr/bin/convert xwd:- "png:$here/$name.png"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "capture: $here/$name.png"
}

shot search "as:Dr Alex Lee,search:smi" "Dr Alex Lee$"
shot search-dark "as:Dr Alex Lee,search:smi" "Dr Alex Lee$" dark
shot recent "as:Dr Alex Lee,search:" "Dr Alex Lee$"
shot patient "as:Dr Alex Lee,search:jane,patient" "^Edit patient"
shot patient-new "as:Dr Alex Lee,newpatient" "^New patient"
shot practitioners "as:Dr Alex Lee,practitioners" "^Practitioners & keys"
shot key-rotation "as:Dr Alex Lee,key" "^Practitioners & keys"
shot key-rotation-dark "as:Dr Alex Lee,key" "^Practitioners & keys" dark
shot settings "as:Dr Alex Lee,settings" "^Settings"
shot tray-menu "as:Dr Alex Lee,search:smi,tray" "Dr Alex Lee$"
shot refusal "refusal:smith" "Sam Rivera$"
