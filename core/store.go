package core

import (
	"context"
	"time"
)

// PatientQuery asks the directory for patients matching free text.
type PatientQuery struct {
	// Text is what was typed; its terms AND together, each a prefix.
	Text            string
	IncludeArchived bool
	Limit           int // 0 means DefaultSearchLimit
}

// DefaultSearchLimit caps a search: a practitioner reads the top of the list.
const DefaultSearchLimit = 50

// OpenRecord is one "open in Physitrack": it makes the patient recent for
// the practitioner and appends to the audit log, in one step.
type OpenRecord struct {
	At             time.Time
	PractitionerID string
	PatientID      string
	DeskUser       string
	// Sent is the patient fields sent to Physitrack, to show later which
	// fields a next open will update. Never includes the key.
	Sent map[string]string
}

// AuditEntry is one line of the audit log a clinic can export.
type AuditEntry struct {
	At             time.Time `json:"at"`
	Action         string    `json:"action"`
	PractitionerID string    `json:"practitioner_id"`
	PatientID      string    `json:"patient_id"`
	DeskUser       string    `json:"desk_user"`
}

// PatientStore is the patient directory.
type PatientStore interface {
	// CreatePatient stores a normalized patient. An empty ID gets the next
	// number from the store; an explicit ID that exists is ECONFLICT. It sets
	// ID, CreatedAt, UpdatedAt and Version on p.
	CreatePatient(ctx context.Context, p *Patient) error
	// UpdatePatient replaces the patient's fields if p.Version is the stored
	// version (else ECONFLICT), and increments p.Version.
	UpdatePatient(ctx context.Context, p *Patient) error
	// Patient finds one patient by id, archived or not (ENOTFOUND if none).
	Patient(ctx context.Context, id string) (*Patient, error)
	// ArchivePatient hides the patient from default searches; the id stays.
	ArchivePatient(ctx context.Context, id string) error
	// SearchPatients answers search-as-you-type, best matches first.
	SearchPatients(ctx context.Context, q PatientQuery) ([]*Patient, error)
	// CountPatients counts patients, archived included.
	CountPatients(ctx context.Context) (int, error)
	// EachPatient calls fn for every patient, archived included, in id
	// order, without holding them all in memory (export).
	EachPatient(ctx context.Context, fn func(*Patient) error) error
	// BeginImport starts an import: everything it writes lands together on
	// Commit, or not at all.
	BeginImport(ctx context.Context) (PatientImport, error)
}

// PatientImport is an import in progress (see PatientStore.BeginImport).
// Rows are normalized by the caller. The search index is up to date at
// Commit.
type PatientImport interface {
	// Upsert creates p (the next id when p.ID is empty) or, when a patient
	// with p.ID exists, updates its fields (archived ones are restored);
	// created reports which. It sets ID, CreatedAt, UpdatedAt, Version.
	Upsert(ctx context.Context, p *Patient) (created bool, err error)
	// FindByNameYear returns the id of a patient with the same first and
	// last name (case- and accent-insensitive) and birth year, or "".
	FindByNameYear(ctx context.Context, first, last string, birthYear int) (string, error)
	Commit() error
	// Rollback abandons the import; after Commit it does nothing.
	Rollback() error
}

// PractitionerStore keeps practitioners and what identifies their keys.
type PractitionerStore interface {
	CreatePractitioner(ctx context.Context, p *Practitioner) error
	UpdatePractitioner(ctx context.Context, p *Practitioner) error
	DeletePractitioner(ctx context.Context, id string) error
	Practitioner(ctx context.Context, id string) (*Practitioner, error)
	Practitioners(ctx context.Context) ([]*Practitioner, error)
	// SetKeyInfo records a new current key; the previous one, if any, is
	// kept as retired so late webhooks with it still match.
	SetKeyInfo(ctx context.Context, practitionerID string, k KeyInfo) error
	// ClearKeyInfo retires the current key.
	ClearKeyInfo(ctx context.Context, practitionerID string) error
	// PractitionerByKeyHash finds whose key (current or retired) has the
	// hash; retired reports which.
	PractitionerByKeyHash(ctx context.Context, hash string) (p *Practitioner, retired bool, err error)
}

// ActivityStore keeps recents, the audit log, and the settings.
type ActivityStore interface {
	RecordOpen(ctx context.Context, r OpenRecord) error
	// RecentPatients lists the practitioner's last opened patients, newest
	// first, archived ones left out.
	RecentPatients(ctx context.Context, practitionerID string, n int) ([]*Patient, error)
	// LastSent is the fields last sent to Physitrack for the pair, nil if
	// never opened.
	LastSent(ctx context.Context, practitionerID, patientID string) (map[string]string, error)
	AppendAudit(ctx context.Context, e AuditEntry) error
	Audit(ctx context.Context) ([]AuditEntry, error)
	Settings(ctx context.Context) (Settings, error)
	SaveSettings(ctx context.Context, s Settings) error
}

// Store is everything PT Desk keeps, behind one interface so that SQLite (one
// desk) and PostgreSQL (a clinic) are interchangeable.
type Store interface {
	PatientStore
	PractitionerStore
	ActivityStore
	ProgramStore
	Close() error
}
