package main

import (
	"flag"
	"io"
)

// appID is PT Desk's application id: Fyne keeps the Preferences under it,
// and FyneApp.toml and the packages use the same.
const appID = "com.ptdesk.app"

// flags are ptdesk's command-line options.
type flags struct {
	// home is the data directory (else $PTDESK_HOME, else the user's
	// configuration directory).
	home string
	// db is the database connection string (else $PTDESK_DB, else the
	// choice saved in Settings, else the SQLite file in the data
	// directory).
	db string
	// hidden starts in the tray without showing the window (used when PT
	// Desk starts at sign-in).
	hidden bool
	// demo fills an empty data directory with sample practitioners and
	// patients pointed at the local sandbox, and keeps keys in memory
	// instead of the keyring: for trying PT Desk and for screenshots.
	demo bool
	// screen opens screens at start, as ui.App.ShowScreen describes (for
	// example "as:Dr Lee,search:smi,patient"). For screenshots.
	screen string
}

// parseFlags reads the command line; -h prints the options to stderr.
func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("ptdesk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.home, "home", "", "data directory (default $PTDESK_HOME, else the user configuration directory)")
	fs.StringVar(&f.db, "db", "", "database: sqlite:PATH or postgres://user@host:5432/clinic (default $PTDESK_DB, else the one chosen in Settings, else the data directory's own)")
	fs.BoolVar(&f.hidden, "hidden", false, "start in the tray without showing the window")
	fs.BoolVar(&f.demo, "demo", false, "fill an empty data directory with sample data; keep keys in memory")
	fs.StringVar(&f.screen, "screen", "", "open screens at start, e.g. \"search:smi,patient\" (for screenshots)")
	err := fs.Parse(args)
	return f, err
}
