package core

import "time"

// This file is what moving a directory from one store to another (a desk's
// SQLite file into a clinic's PostgreSQL database) needs of a store beyond
// the Store interface: the history that no screen shows but that a move
// must keep.

// KeyRecord is one key a practitioner has or had: what identifies it
// (never the key), and since when it is retired (zero for the current
// one). Retired keys are kept because late program webhooks still carry
// them.
type KeyRecord struct {
	PractitionerID string
	KeyInfo
	RetiredAt time.Time
}

// Recent is one practitioner's latest open of a patient, with the fields
// that open sent to Physitrack (so that the next open shows what changed).
type Recent struct {
	PractitionerID string
	PatientID      string
	OpenedAt       time.Time
	LastSent       map[string]string
}
