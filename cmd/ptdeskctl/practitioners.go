package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
)

func cmdPractitionersAdd(ctx context.Context, c *cli, args []string) error {
	fs := flags("practitioners add")
	name := fs.String("name", "", "display name (required)")
	email := fs.String("email", "", "email address")
	server := fs.String("server", "us", "Physitrack server: us, uk, ie, ca, au, nz, staging, or an origin")
	if _, err := parse(fs, args, 0, 0, "only flags, for example --name \"Dr Lee\" --server uk"); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	p, err := d.AddPractitioner(ctx, core.Practitioner{Name: *name, Email: *email, Server: *server})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, p.ID)
	fmt.Fprintf(c.stderr, "Next: ptdeskctl keys set %s --generate, then paste the key in Physitrack (My account > Settings).\n", p.ID)
	return nil
}

func cmdPractitionersEdit(ctx context.Context, c *cli, args []string) error {
	fs := flags("practitioners edit")
	name := fs.String("name", "", "display name")
	email := fs.String("email", "", "email address")
	server := fs.String("server", "", "Physitrack server")
	pos, err := parse(fs, args, 1, 1, "one PRACTITIONER (id or name) and the flags to change")
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	p, err := d.FindPractitioner(ctx, pos[0])
	if err != nil {
		return err
	}
	set := visited(fs)
	if set["name"] {
		p.Name = *name
	}
	if set["email"] {
		p.Email = *email
	}
	if set["server"] {
		p.Server = *server
	}
	_, err = d.EditPractitioner(ctx, *p)
	return err
}

func cmdPractitionersRemove(ctx context.Context, c *cli, args []string) error {
	pos, err := parse(flags("practitioners remove"), args, 1, 1, "one PRACTITIONER (id or name)")
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	return d.RemovePractitioner(ctx, pos[0])
}

// practitionerRow is the JSON shape of practitioners list.
type practitionerRow struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Email          string     `json:"email,omitempty"`
	Server         string     `json:"server"`
	Origin         string     `json:"origin"`
	KeyStatus      string     `json:"key_status"`
	KeyFingerprint string     `json:"key_fingerprint,omitempty"`
	KeySetAt       *time.Time `json:"key_set_at,omitempty"`
}

func keyStatusText(s desk.KeyStatus) string {
	switch s {
	case desk.KeyPresent:
		return "set"
	case desk.KeyMissing:
		return "not on this computer"
	case desk.KeyMismatch:
		return "different key on this computer"
	}
	return "not set"
}

func cmdPractitionersList(ctx context.Context, c *cli, args []string) error {
	fs := flags("practitioners list")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	d, err := c.openForKeys(ctx, true)
	if err != nil {
		return err
	}
	ps, err := d.Practitioners(ctx)
	if err != nil {
		return err
	}
	rows := make([]practitionerRow, 0, len(ps))
	for _, p := range ps {
		origin, _ := p.Origin()
		r := practitionerRow{ID: p.ID, Name: p.Name, Email: p.Email, Server: p.Server, Origin: origin, KeyStatus: keyStatusText(d.KeyStatus(ctx, p))}
		if p.Key != nil {
			at := p.Key.SetAt
			r.KeyFingerprint, r.KeySetAt = p.Key.Fingerprint, &at
		}
		rows = append(rows, r)
	}
	if *asJSON {
		return c.printJSON(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(c.stderr, "no practitioners yet: ptdeskctl practitioners add --name NAME")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSERVER\tKEY\tFINGERPRINT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Origin, r.KeyStatus, r.KeyFingerprint)
	}
	return tw.Flush()
}
