package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

func cmdAudit(ctx context.Context, c *cli, args []string) error {
	fs := flags("audit")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	entries, err := d.Audit(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(entries)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTION\tPRACTITIONER\tPATIENT\tDESK USER")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format(time.RFC3339), e.Action, dash(e.PractitionerID), dash(e.PatientID), e.DeskUser)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
