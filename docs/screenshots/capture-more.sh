#!/bin/sh
# capture-more.sh renders the import wizard, the program Inbox and a
# patient's Programs tab under Xvfb with the sample data of `ptdesk --demo`
# and saves import.png, inbox.png and programs.png beside this script. The
# Inbox and Programs show what the demo directory holds; inbox.png and
# programs.png in the repository were taken after filing a few programs.
#
#   docs/screenshots/capture-more.sh [PTDESK_BINARY]
#
# Needs what capture.sh needs.
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
export XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" LANG=en_US.UTF-8 FYNE_SCALE=1
home="$tmp/home"
# A practice system's export: semicolons, a German header, a column PT
# Desk does not import, and a row without a last name.
printf 'Client no;Vorname;Surname;DOB;Email;Notes\nP-1;Ann;Lee;03/04/1980;ann@example.com;VIP\nP-2;Bob;;1975;bob@\nP-3;Cy;Dunn;1990;cy@example.com\n' >"$tmp/clinic-export.csv"

shot() {
	name=$1 screen=$2 title=$3
	"$bin" --demo --home "$home" --screen "$screen" >"$tmp/$name.log" 2>&1 &
	pid=$!
	if ! wid=$(timeout 30 xdotool search --sync --onlyvisible --name "$title" | head -n 1); then
		echo "capture: no window titled '$title' for $name" >&2
		cat "$tmp/$name.log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 2
	xwd -silent -id "$wid" | /usr/bin/convert xwd:- "png:$here/$name.png"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "capture: $here/$name.png"
}

shot import "as:Dr Alex Lee,import:$tmp/clinic-export.csv" "^Import patients"
shot inbox "as:Dr Alex Lee,inbox" "^Inbox"
shot programs "as:Dr Alex Lee,search:jane smith,programs" "^Edit patient"
