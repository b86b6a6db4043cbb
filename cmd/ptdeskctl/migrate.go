package main

import (
	"context"
	"fmt"

	"ptdesk/core/desk"
	"ptdesk/core/secrets"
)

// cmdMigrate moves a desk's SQLite directory into a clinic's PostgreSQL
// database, reporting progress on stderr and what was copied on stdout.
func cmdMigrate(ctx context.Context, c *cli, args []string) error {
	fs := flags("migrate")
	from := fs.String("from", "", "the desk's store: sqlite:PATH (default: the SQLite file of --home)")
	to := fs.String("to", "", "the clinic's database: postgres://user@host:5432/clinic (default: --db, "+desk.DatabaseEnv+" or the one saved with 'db use')")
	merge := fs.Bool("merge", false, "add to a database that already holds a directory; ids it has are reported and left out")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if _, err := parse(fs, args, 0, 0, "only flags: --from sqlite:PATH --to postgres://... [--merge] [--json]"); err != nil {
		return err
	}
	if *from == "" {
		home, err := desk.HomeDir(c.home)
		if err != nil {
			return err
		}
		*from = "sqlite:" + home
	}
	if *to == "" {
		home, err := desk.HomeDir(c.home)
		if err != nil {
			return err
		}
		// The database this computer is set to use, if it is a clinic's.
		choice, err := desk.ChooseDatabase(home, c.db, c.keyring())
		if err != nil {
			return err
		}
		if choice.Shared() {
			*to = choice.Setting
		}
	}
	if *to == "" {
		return usagef("migrate needs --to postgres://user@host:5432/clinic")
	}
	sec := c.secrets
	if sec == nil && *merge {
		sec = secrets.NewKeyring("")
	}
	fmt.Fprintf(c.stderr, "Copying the directory at %s into the clinic database.\n", *from)
	r, err := desk.Migrate(ctx, desk.MigrateOptions{From: *from, To: *to, Merge: *merge, Secrets: sec, Progress: c.stderr})
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(r)
	}
	fmt.Fprintf(c.stdout, "patients\t%d\npractitioners\t%d\nkeys\t%d\nrecents\t%d\naudit lines\t%d\nprogram webhooks\t%d\nprograms\t%d\n",
		r.Patients, r.Practitioners, r.Keys, r.Recents, r.Audit, r.Events, r.Programs)
	for _, cl := range r.Clashes {
		fmt.Fprintf(c.stdout, "left out\t%s\n", cl)
	}
	if r.KeysMoved > 0 {
		fmt.Fprintf(c.stdout, "keyring entries moved\t%d\n", r.KeysMoved)
	}
	fmt.Fprintf(c.stderr, "Done: counts and checksums verified. Point every desk at the database: ptdeskctl db use URL, or the app's Settings > Use this database (or --db or %s).\n", desk.DatabaseEnv)
	return nil
}
