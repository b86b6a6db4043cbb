package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/secrets"
)

// keyring is the secret store of this invocation: the tests' one, else
// the system keyring.
func (c *cli) keyring() core.SecretStore {
	if c.secrets != nil {
		return c.secrets
	}
	return secrets.NewKeyring("")
}

// homeDir resolves and creates the data directory without opening its
// store, for the commands that choose the store.
func (c *cli) homeDir() (string, error) {
	home, err := desk.HomeDir(c.home)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", core.Errorf(core.EINTERNAL, "home", "Could not create the data directory %s (%v); choose another with --home or PTDESK_HOME.", home, err)
	}
	return home, nil
}

// cmdDBUse saves the database this computer's desks open, the app and
// ptdeskctl alike, from their next start: what IT sets once per computer
// instead of PTDESK_DB. A PostgreSQL database is tested first, so that a
// mistyped URL is never saved.
func cmdDBUse(ctx context.Context, c *cli, args []string) error {
	fs := flags("db use")
	stdin := fs.Bool("stdin", false, "read the URL from standard input (one line), keeping its password out of the command line")
	noCheck := fs.Bool("no-check", false, "save without connecting first (the server is not up yet)")
	pos, err := parse(fs, args, 0, 1, "a postgres:// URL, sqlite, or --stdin")
	if err != nil {
		return err
	}
	if *stdin == (len(pos) == 1) {
		return usagef("db use needs exactly one of a URL (postgres://... or sqlite) or --stdin")
	}
	setting := ""
	if *stdin {
		if setting, err = readLine(c.stdin, "db", "No URL on standard input: pipe one line, for example: ptdeskctl db use --stdin < clinic-db-url"); err != nil {
			return err
		}
	} else {
		setting = pos[0]
	}
	setting = strings.TrimSpace(setting)
	home, err := c.homeDir()
	if err != nil {
		return err
	}
	sec := c.keyring()
	if setting == "sqlite" || setting == "sqlite:" {
		if err := desk.SaveDatabase(home, "sqlite", sec); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "Saved: PT Desk on this computer opens its own directory (SQLite) in %s from its next start; restart the app to switch.\n", home)
		c.warnOverridden()
		return nil
	}
	if _, err := desk.ParseDatabase(setting, home); err != nil {
		return core.Errorf(core.EINVALID, "db", "db use takes a PostgreSQL URL like postgres://user@host:5432/clinic, sqlite (this computer's own directory) or sqlite:PATH.")
	}
	if !*noCheck {
		fmt.Fprintf(c.stderr, "Connecting to %s…\n", desk.MaskDatabase(setting))
		if err := desk.TestDatabase(ctx, setting, home); err != nil {
			return core.Errorf(core.ErrorCode(err), "db", "%s Nothing was saved.", strings.TrimSpace(core.ErrorMessage(err)))
		}
	}
	if err := desk.SaveDatabase(home, setting, sec); err != nil {
		return err
	}
	msg := "Saved: PT Desk on this computer opens %s from its next start; restart the app to switch."
	if masked := desk.MaskDatabase(setting); masked != setting {
		msg = "Saved: PT Desk on this computer opens %s from its next start (the password is in the system keyring, not in the file); restart the app to switch."
	}
	fmt.Fprintf(c.stderr, msg+"\n", desk.MaskDatabase(setting))
	c.warnOverridden()
	return nil
}

// warnOverridden says when --db or PTDESK_DB outranks a saved choice.
func (c *cli) warnOverridden() {
	switch {
	case c.db != "":
		c.warn("--db is given and outranks the saved choice for this command")
	case os.Getenv(desk.DatabaseEnv) != "":
		c.warn("%s is set and outranks the saved choice; unset it to use the saved one", desk.DatabaseEnv)
	}
}

// dbShown is what `db show --json` prints.
type dbShown struct {
	Database string `json:"database"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
	File     string `json:"file,omitempty"`
	Home     string `json:"home"`
	// Saved is the saved choice when --db or PTDESK_DB outranks it.
	Saved string `json:"saved,omitempty"`
}

// cmdDBShow prints the database this invocation opens (its password
// masked) and what chose it.
func cmdDBShow(_ context.Context, c *cli, args []string) error {
	fs := flags("db show")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	home, err := c.homeDir()
	if err != nil {
		return err
	}
	sec := c.keyring()
	choice, err := desk.ChooseDatabase(home, c.db, sec)
	if err != nil {
		return err
	}
	db, err := desk.ParseDatabase(choice.Setting, home)
	if err != nil {
		return err
	}
	out := dbShown{Database: choice.Masked(), Kind: db.Kind, Source: string(choice.Source), File: choice.File, Home: home}
	if db.Kind == "sqlite" {
		out.Database = "sqlite:" + db.Path
	}
	if choice.Source == desk.SourceFlag || choice.Source == desk.SourceEnv {
		if saved, ok, err := desk.SavedDatabase(home, sec); err == nil && ok {
			out.Saved = saved.Masked()
		}
	}
	if *asJSON {
		return c.printJSON(out)
	}
	fmt.Fprintf(c.stdout, "database:       %s\n", out.Database)
	fmt.Fprintf(c.stdout, "chosen by:      %s\n", choice.Source.Describe())
	if out.File != "" {
		fmt.Fprintf(c.stdout, "saved in:       %s\n", out.File)
	}
	if out.Saved != "" {
		fmt.Fprintf(c.stdout, "saved (unused): %s\n", out.Saved)
	}
	fmt.Fprintf(c.stdout, "data directory: %s\n", home)
	return nil
}
