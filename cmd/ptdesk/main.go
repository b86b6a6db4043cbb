// Command ptdesk is PT Desk's desktop app: a window and a tray menu to find a
// patient and open them in Physitrack, and the screens to set up
// practitioners and their keys. It only wires things together; the screens
// live in ui/ and the use cases in core/desk.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"ptdesk/core"
	"ptdesk/ui/instance"
)

func main() {
	f, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag package has said why
	}
	tuneGC()
	if err := run(f); err != nil {
		if errors.Is(err, instance.ErrRunning) {
			fmt.Fprintln(os.Stderr, "ptdesk:", err)
			return
		}
		fmt.Fprintln(os.Stderr, "ptdesk:", core.ErrorMessage(err))
		os.Exit(1)
	}
}
