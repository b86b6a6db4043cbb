package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
)

func cmdProgramsList(ctx context.Context, c *cli, args []string) error {
	fs := flags("programs list")
	asJSON := fs.Bool("json", false, "print JSON")
	patient := fs.String("patient", "", "only this patient's programs")
	if _, err := parse(fs, args, 0, 0, "only [--json] [--patient ID]"); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	list, err := d.Programs(ctx, *patient)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []*desk.ProgramEntry{}
		}
		return c.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stderr, "No programs filed yet.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDATE\tPATIENT\tPROGRAM\tVERSION\tPRACTITIONER\tFILE")
	for _, p := range list {
		patient := p.PatientID
		if p.PatientName != "" {
			patient += " " + p.PatientName
		}
		file := p.Path
		if file == "" {
			file = "(in the database)"
		}
		version := strconv.Itoa(p.Version)
		if p.Updated {
			version += " (update)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Date, patient, p.Name, version, orDash(p.PractitionerName), file)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdProgramsInbox(ctx context.Context, c *cli, args []string) error {
	fs := flags("programs inbox")
	asJSON := fs.Bool("json", false, "print JSON")
	all := fs.Bool("all", false, "include filed events (recent arrivals)")
	if _, err := parse(fs, args, 0, 0, "only [--json] [--all]"); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	var f core.InboxFilter
	if *all {
		f.Statuses = []core.WebhookStatus{core.WebhookPending, core.WebhookFiled, core.WebhookUnmatched, core.WebhookRefused, core.WebhookExpired}
	}
	list, err := d.ProgramInbox(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []*desk.InboxEntry{}
		}
		return c.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stderr, "The inbox is empty: every program received has been filed.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tRECEIVED\tSTATUS\tPATIENT\tPROGRAM\tREASON")
	for _, e := range list {
		patient := e.PatientID
		if e.AssignedPatientID != "" {
			patient = e.AssignedPatientID + " (assigned)"
		}
		if e.PatientName != "" {
			patient += " " + e.PatientName
		}
		status := string(e.Status)
		if e.Status == core.WebhookPending && e.Attempts > 0 {
			status = fmt.Sprintf("retrying (%d), next %s", e.Attempts, e.NextAttemptAt.Local().Format(time.TimeOnly))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.ReceivedAt.Local().Format("2006-01-02 15:04"), status, patient, e.Name,
			oneLine(orDash(e.LastError)))
	}
	return tw.Flush()
}

func eventID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%q is not an event id (a number from ptdeskctl programs inbox)", s)
	}
	return id, nil
}

func cmdProgramsRetry(ctx context.Context, c *cli, args []string) error {
	pos, err := parse(flags("programs retry"), args, 1, 1, "one EVENT_ID (from ptdeskctl programs inbox)")
	if err != nil {
		return err
	}
	id, err := eventID(pos[0])
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	e, err := d.RetryProgram(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Program %q (event %d) will be tried again within seconds by the process receiving webhooks (ptdeskctl serve or the app).\n", e.Name, e.ID)
	return nil
}

func cmdProgramsAssign(ctx context.Context, c *cli, args []string) error {
	pos, err := parse(flags("programs assign"), args, 2, 2, "EVENT_ID PATIENT_ID")
	if err != nil {
		return err
	}
	id, err := eventID(pos[0])
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	e, err := d.AssignProgram(ctx, id, pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Program %q (event %d) will be filed with patient %s within seconds by the process receiving webhooks (ptdeskctl serve or the app).\n", e.Name, e.ID, e.AssignedPatientID)
	return nil
}
