package main

import (
	"context"
	"fmt"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// demoPatients are sample patients: common and accented names, two without
// a birth year (they show the warning), one with every field.
var demoPatients = []core.Patient{
	{FirstName: "Jane", LastName: "Smith", BirthYear: 1980, Gender: core.GenderFemale, Email: "jane.smith@example.com", Phone: "+447911123456", DiagnosisCode: "M54.5"},
	{FirstName: "John", LastName: "Smithers", BirthYear: 1975, Gender: core.GenderMale, Email: "john.smithers@example.org"},
	{FirstName: "Sofía", LastName: "Smyth", Gender: core.GenderFemale, Email: "sofia.smyth@example.net"},
	{FirstName: "Oliver", LastName: "Smith", BirthYear: 2001, Gender: core.GenderMale},
	{FirstName: "Amelia", LastName: "Smithson", BirthYear: 1962, Gender: core.GenderFemale, Phone: "+447911123458"},
	{FirstName: "Noah", LastName: "Brown", BirthYear: 1990, Gender: core.GenderMale, Email: "noah.brown@example.com"},
	{FirstName: "Zoë", LastName: "Øster", BirthYear: 1988, Gender: core.GenderOther},
	{FirstName: "Liam", LastName: "O'Brien", Gender: core.GenderMale, Email: "liam.obrien@example.ie"},
	{FirstName: "Emma", LastName: "Johansson", BirthYear: 1995, Gender: core.GenderFemale, Email: "emma.j@example.se"},
	{FirstName: "Mateo", LastName: "García", BirthYear: 1983, Gender: core.GenderMale, Phone: "+447911123459"},
	{FirstName: "Ava", LastName: "Williams", BirthYear: 1970, Gender: core.GenderFemale},
	{FirstName: "Lucas", LastName: "Müller", BirthYear: 1958, Gender: core.GenderMale, Email: "lucas.mueller@example.de"},
}

// seedDemo fills an empty directory with sample data: a clinic set up for
// the local sandbox (ptdeskctl sandbox), one practitioner with a key, one
// without, the patients above, and a few recent opens. The demo keeps keys
// in memory only, so on a later start the practitioners that had a key get
// a fresh one.
func seedDemo(ctx context.Context, d *desk.Desk) error {
	n, err := d.CountPatients(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return renewDemoKeys(ctx, d)
	}
	if err := d.SetPMSName(ctx, "sandbox_clinic"); err != nil {
		return err
	}
	if err := d.SetPhoneRegion(ctx, "GB"); err != nil {
		return err
	}
	lee, err := d.AddPractitioner(ctx, core.Practitioner{Name: "Dr Alex Lee", Email: "alex.lee@example.com", Server: "http://127.0.0.1:7900"})
	if err != nil {
		return err
	}
	if _, _, err := d.SetNewKey(ctx, lee.ID); err != nil {
		return err
	}
	if _, err := d.AddPractitioner(ctx, core.Practitioner{Name: "Sam Rivera", Server: "uk"}); err != nil {
		return err
	}
	var added []*core.Patient
	for _, p := range demoPatients {
		saved, _, err := d.AddPatient(ctx, p)
		if err != nil {
			return fmt.Errorf("add %s: %w", p.FullName(), err)
		}
		added = append(added, saved)
	}
	// A few opens (without a browser) so that Recent has something.
	for _, i := range []int{5, 1, 0} {
		if _, err := d.Open(ctx, added[i].ID, lee.ID, desk.OpenOptions{NoBrowser: true}); err != nil {
			return fmt.Errorf("open %s: %w", added[i].FullName(), err)
		}
	}
	// Jane's email changed since she was last opened: the form shows it.
	jane := *added[0]
	jane.Email = "jane@smith.example.com"
	_, _, err = d.EditPatient(ctx, jane)
	return err
}

// renewDemoKeys gives every practitioner whose key is recorded but not in
// the (in-memory) keyring a new key.
func renewDemoKeys(ctx context.Context, d *desk.Desk) error {
	ps, err := d.Practitioners(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Key != nil && d.KeyStatus(ctx, p) != desk.KeyPresent {
			if _, _, err := d.SetNewKey(ctx, p.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
