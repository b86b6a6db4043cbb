package core

import (
	"context"
	"time"
)

// WebhookStatus is where a received program webhook is in its life.
type WebhookStatus string

// The states of a webhook event. Pending events are worked on; the others
// are final until an admin acts (Retry, Assign).
const (
	WebhookPending   WebhookStatus = "pending"   // recorded, to download (again)
	WebhookFiled     WebhookStatus = "filed"     // the PDF is with the patient
	WebhookUnmatched WebhookStatus = "unmatched" // token or patient matched nothing
	WebhookRefused   WebhookStatus = "refused"   // the URL or file broke a rule
	WebhookExpired   WebhookStatus = "expired"   // retried until the PDF was gone
)

// WebhookEvent is one program webhook from Physitrack as recorded: what it
// carried (the token only as its lookup hash — it is a password) and what
// became of it.
type WebhookEvent struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	// TokenHash is the lookup hash of the practitioner key the event carried.
	TokenHash string `json:"-"`
	// PractitionerID is the practitioner whose key (current or retired)
	// matched; "" when none did.
	PractitionerID string `json:"practitioner_id,omitempty"`
	// PatientID is the id as Physitrack sent it (it may match nothing).
	PatientID string `json:"patient_id"`
	// AssignedPatientID is the patient an admin assigned an unmatched event
	// to; when set, the program is filed with this patient instead.
	AssignedPatientID string    `json:"assigned_patient_id,omitempty"`
	FileURL           string    `json:"file_url"`
	Name              string    `json:"name"`
	Date              string    `json:"date"`
	DateISO           time.Time `json:"date_iso"`
	Updated           bool      `json:"updated"`

	Status        WebhookStatus `json:"status"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt time.Time     `json:"next_attempt_at"`
	// LastError is the reason of the last failure or refusal, for people.
	LastError string `json:"last_error,omitempty"`
	ProgramID int64  `json:"program_id,omitempty"`
}

// Program is a program PDF filed with a patient.
type Program struct {
	ID             int64     `json:"id"`
	EventID        int64     `json:"event_id"`
	PatientID      string    `json:"patient_id"`
	PractitionerID string    `json:"practitioner_id,omitempty"`
	Name           string    `json:"name"`
	Date           string    `json:"date"`
	CreatedAt      time.Time `json:"created_at"` // date_iso of the event
	Updated        bool      `json:"updated"`
	// Version counts the files of the same program name for the patient:
	// an update adds a version and keeps the earlier ones.
	Version int `json:"version"`
	// Path is relative to the data directory; "" when the PDF is kept in
	// the database (the shared store).
	Path    string    `json:"path,omitempty"`
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	FiledAt time.Time `json:"filed_at"`
}

// InboxFilter selects events for the Inbox.
type InboxFilter struct {
	Statuses []WebhookStatus // empty means every status but filed
	Limit    int             // 0 means 200
}

// QueueStats summarises the queue for health checks.
type QueueStats struct {
	Pending       int       `json:"pending"`
	OldestPending time.Time `json:"oldest_pending,omitzero"`
}

// ProgramStore is the durable webhook queue and the programs filed from it.
type ProgramStore interface {
	// RecordWebhook durably records a received event (committed and synced
	// before it returns: only then may the webhook be answered 200). A
	// repeated delivery — same token, patient and file URL, or same token,
	// patient, name, date_iso and updated — is not recorded again:
	// duplicate is true and e.ID is the earlier event's. (An update sent
	// with the creation time of the program it updates is not taken for a
	// repeat of the assignment.)
	RecordWebhook(ctx context.Context, e *WebhookEvent) (duplicate bool, err error)
	// RecordWebhooks records several events as RecordWebhook does, with one
	// commit and one sync for all of them (group commit: the receiver
	// answers webhooks arriving together after one sync); duplicates[i] is
	// es[i]'s. On error none of them is recorded.
	RecordWebhooks(ctx context.Context, es []*WebhookEvent) (duplicates []bool, err error)
	// AcquireWorkerLease makes owner the only worker of this queue until
	// now+ttl, renewing its own lease; false when another owner holds an
	// unexpired one.
	AcquireWorkerLease(ctx context.Context, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseWorkerLease gives the lease up if owner holds it.
	ReleaseWorkerLease(ctx context.Context, owner string) error
	// DueWebhooks lists pending events whose next attempt is due, oldest
	// first.
	DueWebhooks(ctx context.Context, now time.Time, limit int) ([]*WebhookEvent, error)
	// Webhook returns one event.
	Webhook(ctx context.Context, id int64) (*WebhookEvent, error)
	// UpdateWebhook stores a new status, attempt count, next attempt,
	// reason, matched practitioner and assigned patient for the event (a
	// retry, a refusal, expiry, unmatched, an admin's Retry or Assign).
	// What the event carried never changes. A filed event cannot be
	// updated (ECONFLICT); a missing one is ENOTFOUND.
	UpdateWebhook(ctx context.Context, e *WebhookEvent) error
	// NextProgramVersion is the version the next file of the patient's
	// program with this name gets (1 for the first). Only the lease holder
	// files programs, so it stays right until FileProgram.
	NextProgramVersion(ctx context.Context, patientID, name string) (int, error)
	// FileProgram records the program filed from event eventID and marks the
	// event filed (matched to p.PractitionerID when that is set), in one
	// transaction synced to disk; pdf is stored in the database when
	// non-nil (shared mode), else p.Path names the file. It sets p.ID.
	// Filing an event twice is ECONFLICT.
	FileProgram(ctx context.Context, eventID int64, p *Program, pdf []byte) error
	// Programs lists a patient's programs, newest first; "" lists all.
	Programs(ctx context.Context, patientID string) ([]*Program, error)
	// ProgramsAfter lists up to limit programs whose ID is greater than
	// afterID, in ID (filing) order: how a desk learns of new arrivals
	// without reading every program.
	ProgramsAfter(ctx context.Context, afterID int64, limit int) ([]*Program, error)
	// Program returns one program (ENOTFOUND when none has the id).
	Program(ctx context.Context, id int64) (*Program, error)
	// ProgramPDF returns the PDF kept in the database for a program
	// (ENOTFOUND when the program has a file instead).
	ProgramPDF(ctx context.Context, programID int64) ([]byte, error)
	// Inbox lists events for people to see, newest first.
	Inbox(ctx context.Context, f InboxFilter) ([]*WebhookEvent, error)
	// QueueStats counts pending events.
	QueueStats(ctx context.Context) (QueueStats, error)
}

// WebhookRecord is what a store writes for an event besides the event's
// own fields: its times in the store's precision and its status.
type WebhookRecord struct {
	ReceivedAt, NextAttemptAt, DateISO time.Time
	Status                             WebhookStatus
}

// WebhookRecords checks events before a store records them (see
// ProgramStore.RecordWebhook) and says what to write for each: the time
// received (now when zero) and the next attempt (that time when zero), both
// through at, the store's clock and precision; date_iso in UTC to the
// microsecond; the status, pending when empty.
func WebhookRecords(es []*WebhookEvent, at func(time.Time) time.Time) ([]WebhookRecord, error) {
	rs := make([]WebhookRecord, len(es))
	for i, e := range es {
		if e.TokenHash == "" || e.PatientID == "" || e.FileURL == "" || e.Name == "" {
			return nil, Errorf(EINVALID, "webhook", "A webhook event needs a token hash, a patient id, a file URL and a name.")
		}
		r := WebhookRecord{ReceivedAt: at(e.ReceivedAt), DateISO: e.DateISO.UTC().Truncate(time.Microsecond), Status: e.Status}
		r.NextAttemptAt = r.ReceivedAt
		if !e.NextAttemptAt.IsZero() {
			r.NextAttemptAt = at(e.NextAttemptAt)
		}
		if r.Status == "" {
			r.Status = WebhookPending
		}
		rs[i] = r
	}
	return rs, nil
}
