package desk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ptdesk/core"
	"ptdesk/core/keys"
	"ptdesk/core/programs"
	"ptdesk/core/sqlite"
)

// This file is the desk's side of program PDFs: the webhook secret, the
// listener and worker (StartPrograms), and what the Programs tab, the Inbox
// window and the command line show and do.

// programStore is the store's program side. Every store will have it once
// core.Store includes core.ProgramStore; until then a store without it is
// reported plainly.
func (d *Desk) programStore() (programs.Store, error) {
	ps, ok := d.store.(programs.Store)
	if !ok {
		return nil, core.Errorf(core.EINTERNAL, "store", "This patient directory cannot keep program PDFs yet.")
	}
	return ps, nil
}

// storeScopedName is a keyring entry name in this directory's scope (see
// Settings.StoreID), like keyName for practitioners' keys.
func (d *Desk) storeScopedName(ctx context.Context, suffix string) (string, error) {
	d.storeIDMu.Lock()
	defer d.storeIDMu.Unlock()
	if d.storeID == "" {
		s, err := d.store.Settings(ctx)
		if err != nil {
			return "", fmt.Errorf("read store id: %w", err)
		}
		if s.StoreID == "" {
			return "", fmt.Errorf("read store id: the directory has none")
		}
		d.storeID = s.StoreID
	}
	return d.storeID + "/" + suffix, nil
}

// webhookSecretName is the keyring entry of the directory's webhook
// secret.
func (d *Desk) webhookSecretName(ctx context.Context) (string, error) {
	return d.storeScopedName(ctx, "webhook-secret")
}

// GenerateWebhookSecret makes a new webhook secret (like a practitioner's
// key), keeps it in the OS keyring, and returns it once, to give to
// Physitrack support with the webhook URL. It replaces any earlier
// secret: webhooks carrying that one are refused from now on.
func (d *Desk) GenerateWebhookSecret(ctx context.Context) (string, error) {
	s, err := keys.Generate()
	if err != nil {
		return "", err
	}
	if err := d.SetWebhookSecret(ctx, s); err != nil {
		return "", err
	}
	return s, nil
}

// SetWebhookSecret checks a secret typed in (the key rule: at least 30
// characters, upper- and lower-case letters and digits) and keeps it in
// the OS keyring.
func (d *Desk) SetWebhookSecret(ctx context.Context, secret string) error {
	if err := keys.Check(secret); err != nil {
		return core.Errorf(core.EINVALID, "webhook-secret", "Webhook secret: %s", core.ErrorMessage(err))
	}
	name, err := d.webhookSecretName(ctx)
	if err != nil {
		return err
	}
	if err := d.secrets.SetSecret(name, secret); err != nil {
		return err
	}
	d.audit(ctx, "webhook-secret-set", "", "")
	return nil
}

// WebhookSecretFingerprint tells whether this computer's keyring holds the
// webhook secret, by its fingerprint ("" when it does not), so the
// settings screen can show which secret is set without showing it.
func (d *Desk) WebhookSecretFingerprint(ctx context.Context) (string, error) {
	s, err := d.webhookSecret(ctx)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return keys.Fingerprint(s), nil
}

func (d *Desk) webhookSecret(ctx context.Context) (string, error) {
	name, err := d.webhookSecretName(ctx)
	if err != nil {
		return "", err
	}
	s, err := d.secrets.Secret(name)
	if err == nil && s == "" {
		err = core.Errorf(core.ENOTFOUND, "webhook-secret", "No webhook secret is set.")
	}
	return s, err
}

// ProgramsOptions say how to receive program webhooks.
type ProgramsOptions struct {
	// Addr is HOST:PORT to listen on; "" means 127.0.0.1:8765.
	Addr string
	// Path is the webhook's path; "" means /webhooks/physitrack.
	Path string
	// TLSCertFile and TLSKeyFile serve https directly (both or neither).
	TLSCertFile, TLSKeyFile string
	// SecretFile reads the webhook secret from a file only its owner can
	// read, for a server without a keyring; "" means the OS keyring.
	SecretFile string
	// Logger receives the listener's and worker's log (never a secret);
	// nil means the desk's.
	Logger *slog.Logger
	// Worker and Download tune the worker and the downloader (tests,
	// benchmarks); their zero values are the defaults.
	Worker   programs.WorkerOptions
	Download programs.DownloadOptions
}

// ProgramsServer is the listener and worker of this data directory,
// running in this process.
type ProgramsServer struct {
	run *programs.Running
}

// URL is where webhooks are received on this computer; Physitrack reaches
// it through the clinic's https address (see the README).
func (s *ProgramsServer) URL() string { return s.run.URL() }

// Wake makes the worker look at the queue now, after a Retry or Assign.
func (s *ProgramsServer) Wake() { s.run.Worker().Wake() }

// Close stops receiving, finishes the PDF being filed, and lets another
// process take over.
func (s *ProgramsServer) Close() error { return s.run.Close() }

// Wait blocks until the server stops (its context ended or Close).
func (s *ProgramsServer) Wait() error { return s.run.Wait() }

// StartPrograms receives program webhooks and files their PDFs in the
// background until ctx ends or the server is closed. One process serves a
// data directory: when `ptdeskctl serve` or the app already does, it
// returns an ECONFLICT *core.Error on field "serve" saying so, and the
// caller should leave it to that one; a port taken by anything else is
// ECONFLICT on "addr". Without a webhook secret it is EUNAUTHORIZED on
// "webhook-secret".
func (d *Desk) StartPrograms(ctx context.Context, o ProgramsOptions) (*ProgramsServer, error) {
	ps, err := d.programStore()
	if err != nil {
		return nil, err
	}
	if d.home == "" {
		return nil, core.Errorf(core.EINVALID, "home", "Receiving programs needs a data directory.")
	}
	var secret string
	if o.SecretFile != "" {
		secret, err = programs.ReadSecretFile(o.SecretFile)
	} else {
		secret, err = d.webhookSecret(ctx)
		if core.ErrorCode(err) == core.ENOTFOUND {
			err = programs.NoSecretError()
		}
	}
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = d.log
	}
	w := o.Worker
	if w.Now == nil {
		w.Now = d.now
	}
	// A desk's SQLite store keeps PDFs as files beside it; a shared
	// clinic store keeps them itself, so every desk can open them.
	_, local := d.store.(*sqlite.DB)
	run, err := programs.Start(ctx, programs.Config{
		Store: ps, Home: d.home, KeepPDFsInStore: !local, Secret: secret,
		Addr: o.Addr, Path: o.Path, TLSCertFile: o.TLSCertFile, TLSKeyFile: o.TLSKeyFile,
		Logger: log, Worker: w, Download: o.Download, Health: d.HealthHandler(),
	})
	if err != nil {
		return nil, err
	}
	return &ProgramsServer{run: run}, nil
}

// ProgramEntry is a filed program as the Programs tab and the command line
// show it.
type ProgramEntry struct {
	*core.Program
	PatientName      string `json:"patient_name,omitempty"`
	PractitionerName string `json:"practitioner_name,omitempty"`
}

// InboxEntry is a webhook event as the Inbox window shows it.
type InboxEntry struct {
	*core.WebhookEvent
	// PatientName is the name of the patient the event is (or will be)
	// filed with, "" when no patient has its id.
	PatientName      string `json:"patient_name,omitempty"`
	PractitionerName string `json:"practitioner_name,omitempty"`
}

// names resolves practitioner and patient names for lists, reading each
// once.
type names struct {
	d             *Desk
	practitioners map[string]string
	patients      map[string]string
}

func (d *Desk) names(ctx context.Context) (*names, error) {
	ps, err := d.store.Practitioners(ctx)
	if err != nil {
		return nil, fmt.Errorf("list practitioners: %w", err)
	}
	n := &names{d: d, practitioners: map[string]string{}, patients: map[string]string{}}
	for _, p := range ps {
		n.practitioners[p.ID] = p.Name
	}
	return n, nil
}

func (n *names) patient(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	if name, ok := n.patients[id]; ok {
		return name
	}
	name := ""
	if p, err := n.d.store.Patient(ctx, id); err == nil {
		name = p.FullName()
	}
	n.patients[id] = name
	return name
}

func (n *names) program(ctx context.Context, p *core.Program) *ProgramEntry {
	return &ProgramEntry{Program: p, PatientName: n.patient(ctx, p.PatientID), PractitionerName: n.practitioners[p.PractitionerID]}
}

// Programs lists a patient's programs, newest first ("" lists everyone's):
// the Programs tab.
func (d *Desk) Programs(ctx context.Context, patientID string) ([]*ProgramEntry, error) {
	ps, err := d.programStore()
	if err != nil {
		return nil, err
	}
	list, err := ps.Programs(ctx, patientID)
	if err != nil {
		return nil, fmt.Errorf("list programs: %w", err)
	}
	n, err := d.names(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*ProgramEntry, len(list))
	for i, p := range list {
		out[i] = n.program(ctx, p)
	}
	return out, nil
}

// ProgramInbox lists webhook events, newest first: by default everything
// not yet filed (waiting, unmatched, refused, expired); f.Statuses picks
// others, such as recent arrivals (filed).
func (d *Desk) ProgramInbox(ctx context.Context, f core.InboxFilter) ([]*InboxEntry, error) {
	ps, err := d.programStore()
	if err != nil {
		return nil, err
	}
	events, err := ps.Inbox(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("read the program inbox: %w", err)
	}
	n, err := d.names(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*InboxEntry, len(events))
	for i, e := range events {
		out[i] = n.event(ctx, e)
	}
	return out, nil
}

func (n *names) event(ctx context.Context, e *core.WebhookEvent) *InboxEntry {
	target := e.AssignedPatientID
	if target == "" {
		target = e.PatientID
	}
	return &InboxEntry{WebhookEvent: e, PatientName: n.patient(ctx, target), PractitionerName: n.practitioners[e.PractitionerID]}
}

// ProgramQueue counts the events waiting to be filed, for a health check.
func (d *Desk) ProgramQueue(ctx context.Context) (core.QueueStats, error) {
	ps, err := d.programStore()
	if err != nil {
		return core.QueueStats{}, err
	}
	return ps.QueueStats(ctx)
}

// RetryProgram asks the worker to try an event again now: one that was
// refused (after the allow-list was fixed), expired, unmatched (after the
// patient was added) or waiting for its next attempt. The worker picks it
// up within seconds, in whichever process runs it.
func (d *Desk) RetryProgram(ctx context.Context, eventID int64) (*core.WebhookEvent, error) {
	return d.requeue(ctx, eventID, "program-retry", func(*core.WebhookEvent) error { return nil })
}

// AssignProgram files an event with the patient: for an unmatched event
// (no patient with Physitrack's id, or a key PT Desk does not know), or
// one that went to the wrong patient before it was filed.
func (d *Desk) AssignProgram(ctx context.Context, eventID int64, patientID string) (*core.WebhookEvent, error) {
	patientID = strings.TrimSpace(patientID)
	if _, err := d.store.Patient(ctx, patientID); err != nil {
		if core.ErrorCode(err) == core.ENOTFOUND {
			return nil, core.Errorf(core.ENOTFOUND, "patient_id", "No patient has id %q; search for the patient and use their id.", patientID)
		}
		return nil, fmt.Errorf("assign program: %w", err)
	}
	return d.requeue(ctx, eventID, "program-assign", func(e *core.WebhookEvent) error {
		e.AssignedPatientID = patientID
		return nil
	})
}

func (d *Desk) requeue(ctx context.Context, eventID int64, action string, change func(*core.WebhookEvent) error) (*core.WebhookEvent, error) {
	ps, err := d.programStore()
	if err != nil {
		return nil, err
	}
	e, err := ps.Webhook(ctx, eventID)
	if err != nil {
		return nil, err
	}
	if e.Status == core.WebhookFiled {
		return nil, core.Errorf(core.ECONFLICT, "id", "Program %q (event %d) is already filed; there is nothing to retry.", e.Name, e.ID)
	}
	if err := change(e); err != nil {
		return nil, err
	}
	e.Status, e.NextAttemptAt = core.WebhookPending, d.now()
	if err := ps.UpdateWebhook(ctx, e); err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	target := e.AssignedPatientID
	if target == "" {
		target = e.PatientID
	}
	d.audit(ctx, action, e.PractitionerID, target)
	return e, nil
}

// ProgramFile is the PDF of a program as a file to open with the system's
// viewer (and its folder to show): the filed file itself, or, for a PDF
// kept in a shared store, a private copy under the data directory.
func (d *Desk) ProgramFile(ctx context.Context, programID int64) (string, error) {
	ps, err := d.programStore()
	if err != nil {
		return "", err
	}
	p, err := ps.Program(ctx, programID)
	if err != nil {
		return "", err
	}
	if d.home == "" {
		return "", core.Errorf(core.EINVALID, "home", "Opening a program needs a data directory.")
	}
	if p.Path != "" {
		root := filepath.Join(d.home, programs.ProgramsDir)
		path := filepath.Join(d.home, filepath.FromSlash(p.Path))
		if rel, err := filepath.Rel(root, path); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", core.Errorf(core.EINTERNAL, "path", "The program's file is recorded outside the programs folder; it is not opened.")
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return "", core.Errorf(core.ENOTFOUND, "path", "The PDF of %q is missing from %s; it was moved or deleted. Ask for it again in Physitrack.", p.Name, filepath.Dir(path))
		}
		return path, nil
	}
	pdf, err := ps.ProgramPDF(ctx, programID)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(d.home, "cache", "programs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("copy the program PDF: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%d_%s", p.ID, programs.FileName(p.Date, p.Name, p.Version)))
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, pdf) {
		return path, nil
	}
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		return "", fmt.Errorf("copy the program PDF: %w", err)
	}
	return path, nil
}

// OpenProgram opens the program's PDF with the system's viewer (the
// desk's opener: xdg-open, open or start); call it off the UI thread.
func (d *Desk) OpenProgram(ctx context.Context, programID int64) error {
	path, err := d.ProgramFile(ctx, programID)
	if err != nil {
		return err
	}
	if err := d.opener.Open(path); err != nil {
		return core.Errorf(core.EINTERNAL, "path", "Could not open %s with this computer's PDF viewer (%v); open it from its folder.", path, err)
	}
	return nil
}

// ShowProgramFolder opens the folder that holds the program's PDF in the
// system's file manager; call it off the UI thread.
func (d *Desk) ShowProgramFolder(ctx context.Context, programID int64) error {
	path, err := d.ProgramFile(ctx, programID)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := d.opener.Open(dir); err != nil {
		return core.Errorf(core.EINTERNAL, "path", "Could not show the folder %s (%v).", dir, err)
	}
	return nil
}

// ProgramNotice is news for the desk: a program filed ("Knee rehab program
// for Jane Smith"), or an event that needs someone (unmatched, refused,
// expired). Exactly one of Program and Event is set.
type ProgramNotice struct {
	Program *ProgramEntry
	Event   *InboxEntry
	Message string
}

// DefaultWatchInterval is how often WatchPrograms looks for news.
const DefaultWatchInterval = 2 * time.Second

// WatchPrograms calls fn with every program filed and every event that
// comes to need attention from now on, until ctx ends, whichever process
// files them (this app, or `ptdeskctl serve` on the same directory): it
// reads the store every interval (DefaultWatchInterval when 0). fn runs on
// WatchPrograms' goroutine; a desktop app hands the notice to its UI
// thread. It returns nil when ctx ends.
func (d *Desk) WatchPrograms(ctx context.Context, interval time.Duration, fn func(ProgramNotice)) error {
	ps, err := d.programStore()
	if err != nil {
		return err
	}
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	// Start from what exists: only news is told.
	var last int64
	for {
		batch, err := ps.ProgramsAfter(ctx, last, 500)
		if err != nil {
			return fmt.Errorf("watch programs: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		last = batch[len(batch)-1].ID
	}
	attention := []core.WebhookStatus{core.WebhookUnmatched, core.WebhookRefused, core.WebhookExpired}
	type seenKey struct {
		id     int64
		status core.WebhookStatus
		err    string
	}
	seen := map[seenKey]bool{}
	events, err := ps.Inbox(ctx, core.InboxFilter{Statuses: attention})
	if err != nil {
		return fmt.Errorf("watch programs: %w", err)
	}
	for _, e := range events {
		seen[seenKey{e.ID, e.Status, e.LastError}] = true
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		batch, err := ps.ProgramsAfter(ctx, last, 100)
		if err != nil {
			d.log.Warn("watch programs", "err", err)
			continue
		}
		events, err := ps.Inbox(ctx, core.InboxFilter{Statuses: attention})
		if err != nil {
			d.log.Warn("watch programs", "err", err)
			continue
		}
		if len(batch) == 0 && len(events) == 0 {
			continue
		}
		n, err := d.names(ctx)
		if err != nil {
			d.log.Warn("watch programs", "err", err)
			continue
		}
		for _, p := range batch {
			last = p.ID
			entry := n.program(ctx, p)
			fn(ProgramNotice{Program: entry, Message: FiledMessage(entry)})
		}
		for i := len(events) - 1; i >= 0; i-- {
			e := events[i]
			k := seenKey{e.ID, e.Status, e.LastError}
			if seen[k] {
				continue
			}
			seen[k] = true
			entry := n.event(ctx, e)
			fn(ProgramNotice{Event: entry, Message: AttentionMessage(entry)})
		}
	}
}

// FiledMessage is the notification for a filed program.
func FiledMessage(p *ProgramEntry) string {
	who := p.PatientName
	if who == "" {
		who = "patient " + p.PatientID
	}
	kind := "program"
	if p.Updated {
		kind = "program (updated)"
	}
	return fmt.Sprintf("%s %s for %s", p.Name, kind, who)
}

// AttentionMessage is the notification for an event that needs someone.
func AttentionMessage(e *InboxEntry) string {
	switch e.Status {
	case core.WebhookUnmatched:
		return fmt.Sprintf("Program %q matches no patient or practitioner: assign it in the Inbox.", e.Name)
	case core.WebhookExpired:
		return fmt.Sprintf("Program %q could not be downloaded before its link expired: fetch it from Physitrack.", e.Name)
	}
	return fmt.Sprintf("Program %q was refused: %s", e.Name, e.LastError)
}
