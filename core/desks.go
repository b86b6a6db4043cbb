package core

import (
	"context"
	"time"
)

// This file is what desks sharing one store (a clinic's PostgreSQL
// database) tell each other: that something changed, and which desks hold
// which practitioner's key. A store for a single desk need not implement
// any of it; the desk falls back to what it can see by itself.

// The kinds of change a desk hears of.
const (
	ChangePatient      = "patient"      // a patient was added, edited or archived; ID is the patient ("" for an import)
	ChangePractitioner = "practitioner" // a practitioner or their key changed; ID is the practitioner
	ChangeRecent       = "recent"       // a patient was opened; ID is the practitioner whose recents changed
	ChangeProgram      = "program"      // a program PDF was filed; ID is the patient
	ChangeInbox        = "inbox"        // a program webhook arrived or changed state; ID is the event
	ChangeSettings     = "settings"     // the clinic settings changed
	// ChangeAll means changes may have been missed (the connection to the
	// store was lost and is back, or a listener fell behind): refresh
	// everything shown.
	ChangeAll = "all"
)

// Change is one notice that the store changed, small enough to travel as a
// database notification. It says what to refresh, not what the new values
// are: a desk reads those from the store.
type Change struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
}

// ChangeFeed is implemented by stores that several desks share, so that
// each desk hears of the others' writes (and its own) within a second.
type ChangeFeed interface {
	// Changes delivers changes until ctx ends, then closes the channel. A
	// receiver that falls behind loses changes but is sent ChangeAll.
	Changes(ctx context.Context) <-chan Change
}

// KeyPresence is one desk's report that its keyring holds a key of a
// practitioner: the key's fingerprint, never the key.
type KeyPresence struct {
	PractitionerID string `json:"practitioner_id"`
	// Desk names the keyring: the desk user and the computer, such as
	// "frontdesk@reception-1".
	Desk        string    `json:"desk"`
	Fingerprint string    `json:"fingerprint"`
	SeenAt      time.Time `json:"seen_at"`
}

// KeyPresenceStore is implemented by shared stores, so that an admin can see
// on which desks a practitioner's key is set up.
type KeyPresenceStore interface {
	// ReportKeyPresence replaces everything desk reported before with
	// keys: the practitioners' keys its keyring holds now.
	ReportKeyPresence(ctx context.Context, desk string, keys []KeyPresence) error
	// KeyPresence lists what the desks reported for the practitioner,
	// most recently seen first.
	KeyPresence(ctx context.Context, practitionerID string) ([]KeyPresence, error)
}
