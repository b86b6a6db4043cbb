package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
)

// programsQueue names the one queue the worker lease guards.
const programsQueue = "programs"

// defaultInboxLimit is the number of events Inbox returns when not told.
const defaultInboxLimit = 200

// Commits are on disk when they return: Open sets synchronous_commit on
// for every connection of the store.

// RecordWebhook durably records e as a pending or unmatched event, or finds
// the earlier delivery of the same event (see core.ProgramStore). It sets
// e.ID, and e.ReceivedAt when zero.
func (db *DB) RecordWebhook(ctx context.Context, e *core.WebhookEvent) (bool, error) {
	dups, err := db.RecordWebhooks(ctx, []*core.WebhookEvent{e})
	if err != nil {
		return false, err
	}
	return dups[0], nil
}

// RecordWebhooks records events as RecordWebhook does, in one transaction
// committed once.
func (db *DB) RecordWebhooks(ctx context.Context, es []*core.WebhookEvent) ([]bool, error) {
	rows, err := core.WebhookRecords(es, db.at)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(es))
	dups := make([]bool, len(es))
	// Each event is one statement, which also sends the notice when it
	// records the event; a single event needs no transaction around it
	// (a statement commits by itself), so that the webhook waits for one
	// round trip to the server and one commit.
	record := func(q querier) error {
		for i, e := range es {
			r := rows[i]
			err := q.QueryRow(ctx, `WITH ins AS (INSERT INTO webhook_events (received_at, token_hash, practitioner_id, patient_id,
				assigned_patient_id, file_url, name, date, date_iso, updated, status, attempts, next_attempt_at, last_error)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				ON CONFLICT DO NOTHING RETURNING id)
				SELECT id, `+db.notifySQL("$15")+` FROM ins`,
				r.ReceivedAt, e.TokenHash, e.PractitionerID, e.PatientID, e.AssignedPatientID, e.FileURL, e.Name, e.Date,
				r.DateISO, e.Updated, string(r.Status), e.Attempts, r.NextAttemptAt, e.LastError,
				encodeChange(core.Change{Kind: core.ChangeInbox})).Scan(&ids[i], nil)
			if err == nil {
				continue
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			dups[i] = true
			err = q.QueryRow(ctx, `SELECT id FROM webhook_events
				WHERE token_hash = $1 AND patient_id = $2 AND (file_url = $3 OR (name = $4 AND date_iso = $5 AND updated = $6))
				ORDER BY id LIMIT 1`, e.TokenHash, e.PatientID, e.FileURL, e.Name, r.DateISO, e.Updated).Scan(&ids[i])
			if err != nil {
				return fmt.Errorf("find the earlier delivery: %w", err)
			}
		}
		return nil
	}
	if len(es) == 1 {
		err = db.unreachable(record(db.q))
	} else {
		err = db.inTx(ctx, func(tx pgx.Tx) error { return record(tx) })
	}
	if err != nil {
		return nil, fmt.Errorf("record webhook: %w", err)
	}
	for i, e := range es {
		e.ID = ids[i]
		if !dups[i] {
			e.ReceivedAt, e.NextAttemptAt, e.DateISO, e.Status = rows[i].ReceivedAt, rows[i].NextAttemptAt, rows[i].DateISO, rows[i].Status
		}
	}
	return dups, nil
}

// AcquireWorkerLease takes or renews the queue's lease for owner until
// now+ttl, unless another owner holds one that has not expired at now.
func (db *DB) AcquireWorkerLease(ctx context.Context, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if owner == "" || ttl <= 0 {
		return false, core.Errorf(core.EINVALID, "owner", "A worker lease needs an owner and a positive duration.")
	}
	var got string
	err := db.q.QueryRow(ctx, `INSERT INTO worker_leases (queue, owner, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (queue) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE worker_leases.owner = excluded.owner OR worker_leases.expires_at <= $4
		RETURNING owner`, programsQueue, owner, now.Add(ttl), now).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire worker lease: %w", db.unreachable(err))
	}
	return got == owner, nil
}

// ReleaseWorkerLease ends owner's lease, if owner holds it.
func (db *DB) ReleaseWorkerLease(ctx context.Context, owner string) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM worker_leases WHERE queue = $1 AND owner = $2`, programsQueue, owner); err != nil {
		return fmt.Errorf("release worker lease: %w", db.unreachable(err))
	}
	return nil
}

const webhookColumns = `id, received_at, token_hash, practitioner_id, patient_id, assigned_patient_id, file_url,
	name, date, date_iso, updated, status, attempts, next_attempt_at, last_error, program_id`

func scanWebhook(row pgx.Row) (*core.WebhookEvent, error) {
	var (
		e         core.WebhookEvent
		status    string
		programID *int64
	)
	if err := row.Scan(&e.ID, &e.ReceivedAt, &e.TokenHash, &e.PractitionerID, &e.PatientID, &e.AssignedPatientID, &e.FileURL,
		&e.Name, &e.Date, &e.DateISO, &e.Updated, &status, &e.Attempts, &e.NextAttemptAt, &e.LastError, &programID); err != nil {
		return nil, err
	}
	e.ReceivedAt, e.DateISO, e.NextAttemptAt = e.ReceivedAt.UTC(), e.DateISO.UTC(), e.NextAttemptAt.UTC()
	e.Status = core.WebhookStatus(status)
	if programID != nil {
		e.ProgramID = *programID
	}
	return &e, nil
}

func collectWebhooks(rows pgx.Rows, err error) ([]*core.WebhookEvent, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*core.WebhookEvent, error) { return scanWebhook(r) })
}

// DueWebhooks lists up to limit pending events whose next attempt is at or
// before now, in the order they were received.
func (db *DB) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]*core.WebhookEvent, error) {
	if limit <= 0 {
		limit = defaultInboxLimit
	}
	es, err := collectWebhooks(db.q.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_events
		WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2`, now, limit))
	if err != nil {
		return nil, fmt.Errorf("due webhooks: %w", db.unreachable(err))
	}
	return es, nil
}

func webhookNotFound(id int64) error {
	return core.Errorf(core.ENOTFOUND, "id", "No program webhook has id %d; reload the inbox.", id)
}

// Webhook returns the event with id.
func (db *DB) Webhook(ctx context.Context, id int64) (*core.WebhookEvent, error) {
	e, err := scanWebhook(db.q.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, webhookNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook %d: %w", id, db.unreachable(err))
	}
	return e, nil
}

// UpdateWebhook stores what became of the event (see core.ProgramStore).
func (db *DB) UpdateWebhook(ctx context.Context, e *core.WebhookEvent) error {
	switch e.Status {
	case core.WebhookPending, core.WebhookUnmatched, core.WebhookRefused, core.WebhookExpired:
	case core.WebhookFiled:
		return core.Errorf(core.EINVALID, "status", "An event is marked filed only by filing its program.")
	default:
		return core.Errorf(core.EINVALID, "status", "Webhook status %q is not pending, unmatched, refused or expired.", e.Status)
	}
	next := e.NextAttemptAt.UTC().Truncate(time.Microsecond)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_events SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4,
			practitioner_id = $5, assigned_patient_id = $6 WHERE id = $7 AND status <> 'filed'`,
			string(e.Status), e.Attempts, next, e.LastError, e.PractitionerID, e.AssignedPatientID, e.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var status string
			err := tx.QueryRow(ctx, `SELECT status FROM webhook_events WHERE id = $1`, e.ID).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) {
				return webhookNotFound(e.ID)
			}
			if err != nil {
				return err
			}
			return core.Errorf(core.ECONFLICT, "status", "Program webhook %d is already filed; there is nothing left to do.", e.ID)
		}
		return db.notify(ctx, tx, core.ChangeInbox, strconv.FormatInt(e.ID, 10))
	})
	if err != nil {
		return fmt.Errorf("update webhook: %w", err)
	}
	e.NextAttemptAt = next
	return nil
}

// NextProgramVersion is one more than the highest version of the patient's
// programs with this name, 1 for the first.
func (db *DB) NextProgramVersion(ctx context.Context, patientID, name string) (int, error) {
	var v int
	if err := db.q.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM programs WHERE patient_id = $1 AND name = $2`,
		patientID, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("next program version: %w", db.unreachable(err))
	}
	return v, nil
}

// FileProgram records p, filed from event eventID, and marks the event
// filed, in one transaction on disk when it returns (see
// core.ProgramStore). The PDF is kept in the row when pdf is non-nil.
func (db *DB) FileProgram(ctx context.Context, eventID int64, p *core.Program, pdf []byte) error {
	if p.PatientID == "" || p.Name == "" || p.Version < 1 || p.SHA256 == "" {
		return core.Errorf(core.EINVALID, "program", "A filed program needs a patient, a name, a version from 1 and a SHA-256.")
	}
	if (pdf == nil) == (p.Path == "") {
		return core.Errorf(core.EINVALID, "path", "A filed program is either a file (a path) or kept in the store (the PDF), not both or neither.")
	}
	filedAt := db.at(p.FiledAt)
	created := p.CreatedAt.UTC().Truncate(time.Microsecond)
	var id int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM webhook_events WHERE id = $1 FOR UPDATE`, eventID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return webhookNotFound(eventID)
		}
		if err != nil {
			return err
		}
		if status == string(core.WebhookFiled) {
			return core.Errorf(core.ECONFLICT, "event_id", "Program webhook %d is already filed; it is not filed twice.", eventID)
		}
		// The program, the event marked filed and the notices, in one
		// statement.
		err = tx.QueryRow(ctx, `WITH p AS (INSERT INTO programs (event_id, patient_id, practitioner_id, name, date, created_at,
				updated, version, path, sha256, size, filed_at, pdf) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				RETURNING id),
			e AS (UPDATE webhook_events SET status = 'filed', program_id = (SELECT id FROM p), last_error = '',
				practitioner_id = CASE WHEN $3 <> '' THEN $3 ELSE practitioner_id END WHERE id = $1)
			SELECT id, `+db.notifySQL("$14")+`, `+db.notifySQL("$15")+` FROM p`,
			eventID, p.PatientID, p.PractitionerID, p.Name, p.Date, created, p.Updated, p.Version, p.Path,
			p.SHA256, p.Size, filedAt, pdf,
			encodeChange(core.Change{Kind: core.ChangeInbox, ID: strconv.FormatInt(eventID, 10)}),
			encodeChange(core.Change{Kind: core.ChangeProgram, ID: p.PatientID})).Scan(&id, nil, nil)
		if isUnique(err, "programs_patient_id_name_version_key") {
			return core.Errorf(core.ECONFLICT, "version", "Patient %s already has version %d of program %q; ask for the next version.", p.PatientID, p.Version, p.Name)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("file program: %w", err)
	}
	p.ID, p.EventID, p.FiledAt, p.CreatedAt = id, eventID, filedAt, created
	return nil
}

const programColumns = `id, event_id, patient_id, practitioner_id, name, date, created_at, updated, version, path, sha256, size, filed_at`

func scanProgram(row pgx.Row) (*core.Program, error) {
	var p core.Program
	if err := row.Scan(&p.ID, &p.EventID, &p.PatientID, &p.PractitionerID, &p.Name, &p.Date, &p.CreatedAt, &p.Updated,
		&p.Version, &p.Path, &p.SHA256, &p.Size, &p.FiledAt); err != nil {
		return nil, err
	}
	p.CreatedAt, p.FiledAt = p.CreatedAt.UTC(), p.FiledAt.UTC()
	return &p, nil
}

func collectPrograms(rows pgx.Rows, err error) ([]*core.Program, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*core.Program, error) { return scanProgram(r) })
}

// Programs lists the patient's programs (everyone's for ""), newest
// creation first.
func (db *DB) Programs(ctx context.Context, patientID string) ([]*core.Program, error) {
	var (
		ps  []*core.Program
		err error
	)
	if patientID == "" {
		ps, err = collectPrograms(db.q.Query(ctx, `SELECT `+programColumns+` FROM programs ORDER BY created_at DESC, id DESC`))
	} else {
		ps, err = collectPrograms(db.q.Query(ctx, `SELECT `+programColumns+` FROM programs WHERE patient_id = $1
			ORDER BY created_at DESC, id DESC`, patientID))
	}
	if err != nil {
		return nil, fmt.Errorf("programs: %w", db.unreachable(err))
	}
	return ps, nil
}

// ProgramsAfter lists up to limit programs filed after the one with
// afterID, in filing order.
func (db *DB) ProgramsAfter(ctx context.Context, afterID int64, limit int) ([]*core.Program, error) {
	if limit <= 0 {
		limit = defaultInboxLimit
	}
	ps, err := collectPrograms(db.q.Query(ctx, `SELECT `+programColumns+` FROM programs WHERE id > $1 ORDER BY id LIMIT $2`,
		afterID, limit))
	if err != nil {
		return nil, fmt.Errorf("programs after %d: %w", afterID, db.unreachable(err))
	}
	return ps, nil
}

func programNotFound(id int64) error {
	return core.Errorf(core.ENOTFOUND, "id", "No program has id %d; reload the patient's programs.", id)
}

// Program returns the program with id.
func (db *DB) Program(ctx context.Context, id int64) (*core.Program, error) {
	p, err := scanProgram(db.q.QueryRow(ctx, `SELECT `+programColumns+` FROM programs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, programNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("program %d: %w", id, db.unreachable(err))
	}
	return p, nil
}

// ProgramPDF returns the PDF kept in the store for the program.
func (db *DB) ProgramPDF(ctx context.Context, programID int64) ([]byte, error) {
	var pdf []byte
	err := db.q.QueryRow(ctx, `SELECT pdf FROM programs WHERE id = $1`, programID).Scan(&pdf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, programNotFound(programID)
	}
	if err != nil {
		return nil, fmt.Errorf("program %d pdf: %w", programID, db.unreachable(err))
	}
	if pdf == nil {
		return nil, core.Errorf(core.ENOTFOUND, "pdf", "Program %d is kept as a file in a desk's data directory, not in the clinic database.", programID)
	}
	return pdf, nil
}

// Inbox lists events in the filter's states (all but filed by default),
// newest first.
func (db *DB) Inbox(ctx context.Context, f core.InboxFilter) ([]*core.WebhookEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultInboxLimit
	}
	var (
		es  []*core.WebhookEvent
		err error
	)
	if len(f.Statuses) == 0 {
		es, err = collectWebhooks(db.q.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE status <> 'filed'
			ORDER BY id DESC LIMIT $1`, limit))
	} else {
		statuses := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			statuses[i] = string(s)
		}
		es, err = collectWebhooks(db.q.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE status = ANY($1)
			ORDER BY id DESC LIMIT $2`, statuses, limit))
	}
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", db.unreachable(err))
	}
	return es, nil
}

// QueueStats counts pending events and finds when the oldest arrived.
func (db *DB) QueueStats(ctx context.Context) (core.QueueStats, error) {
	var (
		st     core.QueueStats
		oldest *time.Time
	)
	if err := db.q.QueryRow(ctx, `SELECT count(*), min(received_at) FROM webhook_events WHERE status = 'pending'`).
		Scan(&st.Pending, &oldest); err != nil {
		return st, fmt.Errorf("queue stats: %w", db.unreachable(err))
	}
	if oldest != nil {
		st.OldestPending = oldest.UTC()
	}
	return st, nil
}
