package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"ptdesk/core"
)

// patientFlags are the flags add and edit share.
type patientFlags struct {
	id, first, last, birthYear, gender, email, phone, diagnosis string
}

func (f *patientFlags) register(fs *flag.FlagSet, withID bool) {
	if withID {
		fs.StringVar(&f.id, "id", "", "explicit patient id (default: the next number)")
	}
	fs.StringVar(&f.first, "first-name", "", "first name (required)")
	fs.StringVar(&f.last, "last-name", "", "last name (required)")
	fs.StringVar(&f.birthYear, "birth-year", "", "four-digit birth year")
	fs.StringVar(&f.gender, "gender", "", "female, male or other")
	fs.StringVar(&f.email, "email", "", "email address")
	fs.StringVar(&f.phone, "phone", "", "mobile phone")
	fs.StringVar(&f.diagnosis, "diagnosis-code", "", "diagnosis code")
}

// apply copies the flags that were given onto p.
func (f *patientFlags) apply(fs *flag.FlagSet, p *core.Patient) error {
	set := visited(fs)
	if set["id"] {
		p.ID = f.id
	}
	if set["first-name"] {
		p.FirstName = f.first
	}
	if set["last-name"] {
		p.LastName = f.last
	}
	if set["birth-year"] {
		y, err := parseBirthYear(f.birthYear)
		if err != nil {
			return err
		}
		p.BirthYear = y
	}
	if set["gender"] {
		g, err := core.ParseGender(f.gender)
		if err != nil {
			return err
		}
		p.Gender = g
	}
	if set["email"] {
		p.Email = f.email
	}
	if set["phone"] {
		p.Phone = f.phone
	}
	if set["diagnosis-code"] {
		p.DiagnosisCode = f.diagnosis
	}
	return nil
}

func parseBirthYear(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(s)
	if err != nil {
		return 0, core.Errorf(core.EINVALID, "birth_year", "Birth year %q is not a number; use four digits like 1980.", s)
	}
	return y, nil
}

func cmdPatientsAdd(ctx context.Context, c *cli, args []string) error {
	fs := flags("patients add")
	var pf patientFlags
	pf.register(fs, true)
	if _, err := parse(fs, args, 0, 0, "only flags, for example --first-name Jane --last-name Smith"); err != nil {
		return err
	}
	var p core.Patient
	if err := pf.apply(fs, &p); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	saved, warnings, err := d.AddPatient(ctx, p)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		c.warn("%s", w)
	}
	fmt.Fprintln(c.stdout, saved.ID)
	return nil
}

func cmdPatientsEdit(ctx context.Context, c *cli, args []string) error {
	fs := flags("patients edit")
	var pf patientFlags
	pf.register(fs, false)
	pos, err := parse(fs, args, 1, 1, "one patient ID and the flags to change")
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	p, err := d.Patient(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := pf.apply(fs, p); err != nil {
		return err
	}
	_, warnings, err := d.EditPatient(ctx, *p)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		c.warn("%s", w)
	}
	return nil
}

func cmdPatientsShow(ctx context.Context, c *cli, args []string) error {
	fs := flags("patients show")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args, 1, 1, "one patient ID")
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	p, err := d.Patient(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(p)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("id", p.ID)
	row("first name", p.FirstName)
	row("last name", p.LastName)
	row("birth year", yearText(p.BirthYear))
	row("gender", genderText(p.Gender))
	row("email", p.Email)
	row("mobile phone", p.Phone)
	row("diagnosis code", p.DiagnosisCode)
	row("archived", strconv.FormatBool(p.Archived))
	row("created", p.CreatedAt.Local().Format("2006-01-02 15:04"))
	row("updated", p.UpdatedAt.Local().Format("2006-01-02 15:04"))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range p.Warnings() {
		c.warn("%s", w)
	}
	return nil
}

func yearText(y int) string {
	if y == 0 {
		return "(unknown)"
	}
	return strconv.Itoa(y)
}

func genderText(g core.Gender) string {
	if g == core.GenderUnknown {
		return "(unknown)"
	}
	return string(g)
}

func cmdPatientsArchive(ctx context.Context, c *cli, args []string) error {
	pos, err := parse(flags("patients archive"), args, 1, 1, "one patient ID")
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	return d.ArchivePatient(ctx, pos[0])
}

// searchResult is the JSON shape scripts depend on.
type searchResult struct {
	ID            string `json:"id"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	BirthYear     *int   `json:"birth_year"`
	Email         string `json:"email,omitempty"`
	Phone         string `json:"mobile_phone,omitempty"`
	Gender        string `json:"gender,omitempty"`
	DiagnosisCode string `json:"diagnosis_code,omitempty"`
}

func cmdPatientsSearch(ctx context.Context, c *cli, args []string) error {
	fs := flags("patients search")
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", core.DefaultSearchLimit, "at most this many results")
	pos, err := parse(fs, args, 1, -1, "a QUERY, for example: patients search smi 1980")
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("--limit must be between 1 and 1000")
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	ps, err := d.Search(ctx, strings.Join(pos, " "), *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]searchResult, 0, len(ps))
		for _, p := range ps {
			r := searchResult{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone, Gender: string(p.Gender), DiagnosisCode: p.DiagnosisCode}
			if p.BirthYear != 0 {
				y := p.BirthYear
				r.BirthYear = &y
			}
			out = append(out, r)
		}
		return c.printJSON(out)
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.stderr, "no patients match")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tBORN\tEMAIL")
	for _, p := range ps {
		born := "-"
		if p.BirthYear != 0 {
			born = strconv.Itoa(p.BirthYear)
		}
		fmt.Fprintf(tw, "%s\t%s, %s\t%s\t%s\n", p.ID, p.LastName, p.FirstName, born, p.Email)
	}
	return tw.Flush()
}
