package desk

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"ptdesk/core"
	"ptdesk/core/ptsso"
)

// Launch is an open in progress: the one-time URL that signs the
// practitioner in to Physitrack on the patient's page.
type Launch struct {
	URL          string
	Patient      *core.Patient
	Practitioner *core.Practitioner
	// Fetched is closed once the browser has fetched the launch page.
	Fetched <-chan struct{}
}

// OpenOptions changes how Open hands the launch to the browser.
type OpenOptions struct {
	// NoBrowser prepares the launch URL without opening a browser.
	NoBrowser bool
}

// Open signs the practitioner in to Physitrack on the patient's page,
// creating or updating the client there. It refuses before any browser opens
// when Physitrack would fail silently: a missing required field, no
// integration name, or no key on this desk.
func (d *Desk) Open(ctx context.Context, patientID, practitionerRef string, opts OpenOptions) (*Launch, error) {
	l, form, err := d.prepareForm(ctx, patientID, practitionerRef)
	if err != nil {
		return nil, err
	}
	srv, err := d.launchServer(ctx)
	if err != nil {
		return nil, err
	}
	url, fetched, err := srv.Prepare(form)
	if err != nil {
		return nil, fmt.Errorf("prepare launch: %w", err)
	}
	l.URL, l.Fetched = url, fetched
	if !opts.NoBrowser {
		if err := d.opener.Open(url); err != nil {
			return nil, core.Errorf(core.EINTERNAL, "browser", "Could not open the web browser (%v). Check that a default browser is set.", err)
		}
	}
	rec := core.OpenRecord{At: d.now(), PractitionerID: l.Practitioner.ID, PatientID: l.Patient.ID, DeskUser: d.deskUser, Sent: form.Sent()}
	if err := d.store.RecordOpen(ctx, rec); err != nil {
		return l, fmt.Errorf("record open: %w", err)
	}
	return l, nil
}

// CheckOpen runs every check Open runs, without launching: the UI calls it
// to show what is missing before the practitioner presses Enter.
func (d *Desk) CheckOpen(ctx context.Context, patientID, practitionerRef string) error {
	_, _, err := d.prepareForm(ctx, patientID, practitionerRef)
	return err
}

func (d *Desk) prepareForm(ctx context.Context, patientID, practitionerRef string) (*Launch, *ptsso.Form, error) {
	pat, err := d.Patient(ctx, patientID)
	if err != nil {
		return nil, nil, err
	}
	if pat.Archived {
		return nil, nil, core.Errorf(core.EINVALID, "archived", "%s is archived; archived patients are not opened in Physitrack.", pat.FullName())
	}
	pr, err := d.FindPractitioner(ctx, practitionerRef)
	if err != nil {
		return nil, nil, err
	}
	settings, err := d.store.Settings(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read settings: %w", err)
	}
	if settings.PMSName == "" {
		return nil, nil, core.Errorf(core.EINVALID, "pms-name", "The integration name Physitrack gave the clinic is not set: set it in Settings (ptdeskctl config set pms-name NAME).")
	}
	if _, err := pr.Origin(); err != nil {
		return nil, nil, err
	}
	key, err := d.practitionerKey(ctx, pr)
	if err != nil {
		return nil, nil, err
	}
	form, err := ptsso.NewForm(pr, settings.PMSName, key, pat)
	if err != nil {
		return nil, nil, err
	}
	return &Launch{Patient: pat, Practitioner: pr}, form, nil
}

// launchServer starts the loopback launch server on first use.
func (d *Desk) launchServer(ctx context.Context) (*ptsso.Server, error) {
	d.launchMu.Lock()
	defer d.launchMu.Unlock()
	if d.launch != nil {
		return d.launch, nil
	}
	srv := ptsso.NewServer(ptsso.Options{Now: d.now})
	// The server lives as long as the desk, not the request that started it.
	if err := srv.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start launch server: %w", err)
	}
	d.launch = srv
	return srv, nil
}

// PendingChanges lists the patient fields that differ from what was last
// sent to Physitrack for this practitioner: the next open updates them. A
// patient never opened by the practitioner returns nil, true.
func (d *Desk) PendingChanges(ctx context.Context, patientID, practitionerID string) (changed []string, never bool, err error) {
	pat, err := d.Patient(ctx, patientID)
	if err != nil {
		return nil, false, err
	}
	last, err := d.store.LastSent(ctx, practitionerID, patientID)
	if err != nil {
		return nil, false, fmt.Errorf("read last sent fields: %w", err)
	}
	if last == nil {
		return nil, true, nil
	}
	now, err := ptsso.PatientFields(pat)
	if err != nil {
		return nil, false, err
	}
	keys := map[string]bool{}
	for k := range maps.Keys(now) {
		keys[k] = true
	}
	for k := range maps.Keys(last) {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if now[k] != last[k] {
			changed = append(changed, k)
		}
	}
	return changed, false, nil
}

// RecentPatients lists the practitioner's last opened patients.
func (d *Desk) RecentPatients(ctx context.Context, practitionerID string, n int) ([]*core.Patient, error) {
	return d.store.RecentPatients(ctx, practitionerID, n)
}
