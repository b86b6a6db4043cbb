package main

import (
	"context"
	"fmt"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// launchWait is how long open --no-browser waits for the page to be fetched:
// the launch URL expires after 60 seconds anyway.
const launchWait = 60 * time.Second

func cmdOpen(ctx context.Context, c *cli, args []string) error {
	fs := flags("open")
	practitioner := fs.String("practitioner", "", "who signs in to Physitrack (id or name; required)")
	noBrowser := fs.Bool("no-browser", false, "print the one-time launch URL instead of opening a browser, and wait until it is fetched")
	pos, err := parse(fs, args, 1, 1, "one PATIENT_ID and --practitioner")
	if err != nil {
		return err
	}
	if *practitioner == "" {
		return usagef("open needs --practitioner (an id or name from 'ptdeskctl practitioners list')")
	}
	d, err := c.openForKeys(ctx, true)
	if err != nil {
		return err
	}
	l, err := d.Open(ctx, pos[0], *practitioner, desk.OpenOptions{NoBrowser: *noBrowser})
	if err != nil {
		return err
	}
	for _, w := range l.Patient.Warnings() {
		c.warn("%s", w)
	}
	if *noBrowser {
		fmt.Fprintln(c.stdout, l.URL)
	} else {
		fmt.Fprintf(c.stderr, "Opening %s in Physitrack as %s.\n", l.Patient.FullName(), l.Practitioner.Name)
	}
	// The launch server lives in this process: keep it until the page has
	// been fetched, or the link has expired.
	select {
	case <-l.Fetched:
		return nil
	case <-ctx.Done():
		return core.Errorf(core.EINTERNAL, "launch", "Interrupted before the launch page was opened.")
	case <-time.After(launchWait):
		return core.Errorf(core.EINTERNAL, "launch", "The launch page was not opened within %s; the link has expired. Run the command again.", launchWait)
	}
}
