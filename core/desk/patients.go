package desk

import (
	"context"
	"fmt"

	"ptdesk/core"
)

// AddPatient validates and stores a new patient. It returns the stored
// patient and the warnings the user must see (a missing birth year).
func (d *Desk) AddPatient(ctx context.Context, p core.Patient) (*core.Patient, []string, error) {
	norm, err := d.phoneNormalizer(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := p.Normalize(d.now(), norm); err != nil {
		return nil, nil, err
	}
	if err := d.store.CreatePatient(ctx, &p); err != nil {
		return nil, nil, fmt.Errorf("add patient: %w", err)
	}
	return &p, p.Warnings(), nil
}

// EditPatient validates and stores changed fields of an existing patient. p
// must carry the Version it was read at; if another desk changed the patient
// since, the edit is refused with ECONFLICT and nothing is written.
func (d *Desk) EditPatient(ctx context.Context, p core.Patient) (*core.Patient, []string, error) {
	if p.ID == "" {
		return nil, nil, core.Errorf(core.EINVALID, "id", "Which patient? The id is missing.")
	}
	norm, err := d.phoneNormalizer(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := p.Normalize(d.now(), norm); err != nil {
		return nil, nil, err
	}
	if err := d.store.UpdatePatient(ctx, &p); err != nil {
		return nil, nil, fmt.Errorf("edit patient %s: %w", p.ID, err)
	}
	return &p, p.Warnings(), nil
}

// Patient returns one patient by id.
func (d *Desk) Patient(ctx context.Context, id string) (*core.Patient, error) {
	p, err := d.store.Patient(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find patient %s: %w", id, err)
	}
	return p, nil
}

// ArchivePatient hides a patient from search; the id is kept forever.
func (d *Desk) ArchivePatient(ctx context.Context, id string) error {
	if err := d.store.ArchivePatient(ctx, id); err != nil {
		return fmt.Errorf("archive patient %s: %w", id, err)
	}
	d.audit(ctx, "archive", "", id)
	return nil
}

// Search answers search-as-you-type; limit 0 means the default.
func (d *Desk) Search(ctx context.Context, text string, limit int) ([]*core.Patient, error) {
	ps, err := d.store.SearchPatients(ctx, core.PatientQuery{Text: text, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("search patients: %w", err)
	}
	return ps, nil
}

// CountPatients counts the directory, archived included.
func (d *Desk) CountPatients(ctx context.Context) (int, error) {
	return d.store.CountPatients(ctx)
}
