package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"ptdesk/core"
)

// Compile-time check that DB keeps the webhook queue and the programs.
var _ core.ProgramStore = (*DB)(nil)

// programsQueue names the one queue the worker lease guards.
const programsQueue = "programs"

// defaultInboxLimit is the number of events Inbox returns when not told.
const defaultInboxLimit = 200

// inTx runs fn in a write transaction and commits it, synced to disk before
// inTx returns as every commit of the store is (see dsn): a webhook is
// answered 200 only after its event is recorded.
func (db *DB) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, db.busy(err))
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, db.busy(err))
	}
	return nil
}

func boolToDB(b bool) int {
	if b {
		return 1
	}
	return 0
}

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
// synced once.
func (db *DB) RecordWebhooks(ctx context.Context, es []*core.WebhookEvent) ([]bool, error) {
	rows, err := core.WebhookRecords(es, db.at)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(es))
	dups := make([]bool, len(es))
	err = db.inTx(ctx, "record webhook", func(tx *sql.Tx) error {
		for i, e := range es {
			r := rows[i]
			err := tx.QueryRowContext(ctx, `INSERT INTO webhook_events (received_at, token_hash, practitioner_id, patient_id,
				assigned_patient_id, file_url, name, date, date_iso, updated, status, attempts, next_attempt_at, last_error)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING RETURNING id`,
				toDB(r.ReceivedAt), e.TokenHash, e.PractitionerID, e.PatientID, e.AssignedPatientID, e.FileURL, e.Name, e.Date,
				toDB(r.DateISO), boolToDB(e.Updated), string(r.Status), e.Attempts, toDB(r.NextAttemptAt), e.LastError).Scan(&ids[i])
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("record webhook: %w", err)
			}
			dups[i] = true
			err = tx.QueryRowContext(ctx, `SELECT id FROM webhook_events
				WHERE token_hash = ? AND patient_id = ? AND (file_url = ? OR (name = ? AND date_iso = ? AND updated = ?))
				ORDER BY id LIMIT 1`, e.TokenHash, e.PatientID, e.FileURL, e.Name, toDB(r.DateISO), boolToDB(e.Updated)).Scan(&ids[i])
			if err != nil {
				return fmt.Errorf("record webhook: find the earlier delivery: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
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
	err := db.sql.QueryRowContext(ctx, `INSERT INTO worker_leases (queue, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (queue) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE worker_leases.owner = excluded.owner OR worker_leases.expires_at <= ?
		RETURNING owner`, programsQueue, owner, toDB(now.Add(ttl)), toDB(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire worker lease: %w", db.busy(err))
	}
	return got == owner, nil
}

// ReleaseWorkerLease ends owner's lease, if owner holds it.
func (db *DB) ReleaseWorkerLease(ctx context.Context, owner string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM worker_leases WHERE queue = ? AND owner = ?`, programsQueue, owner); err != nil {
		return fmt.Errorf("release worker lease: %w", db.busy(err))
	}
	return nil
}

const webhookColumns = `id, received_at, token_hash, practitioner_id, patient_id, assigned_patient_id, file_url,
	name, date, date_iso, updated, status, attempts, next_attempt_at, last_error, program_id`

func scanWebhook(s scanner) (*core.WebhookEvent, error) {
	var (
		e                         core.WebhookEvent
		received, dateISO, nextAt int64
		updated                   int
		status                    string
		programID                 sql.NullInt64
	)
	if err := s.Scan(&e.ID, &received, &e.TokenHash, &e.PractitionerID, &e.PatientID, &e.AssignedPatientID, &e.FileURL,
		&e.Name, &e.Date, &dateISO, &updated, &status, &e.Attempts, &nextAt, &e.LastError, &programID); err != nil {
		return nil, err
	}
	e.ReceivedAt, e.DateISO, e.NextAttemptAt = fromDB(received), fromDB(dateISO), fromDB(nextAt)
	e.Updated = updated != 0
	e.Status = core.WebhookStatus(status)
	e.ProgramID = programID.Int64
	return &e, nil
}

func collectWebhooks(rows *sql.Rows, err error) ([]*core.WebhookEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []*core.WebhookEvent
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// DueWebhooks lists up to limit pending events whose next attempt is at or
// before now, in the order they were received.
func (db *DB) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]*core.WebhookEvent, error) {
	if limit <= 0 {
		limit = defaultInboxLimit
	}
	stmt, err := db.stmt(ctx, `SELECT `+webhookColumns+` FROM webhook_events
		WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("due webhooks: %w", err)
	}
	es, err := collectWebhooks(stmt.QueryContext(ctx, toDB(now), limit))
	if err != nil {
		return nil, fmt.Errorf("due webhooks: %w", err)
	}
	return es, nil
}

func webhookNotFound(id int64) error {
	return core.Errorf(core.ENOTFOUND, "id", "No program webhook has id %d; reload the inbox.", id)
}

// Webhook returns the event with id.
func (db *DB) Webhook(ctx context.Context, id int64) (*core.WebhookEvent, error) {
	e, err := scanWebhook(db.sql.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhookNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook %d: %w", id, err)
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
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update webhook: %w", db.busy(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE webhook_events SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
		practitioner_id = ?, assigned_patient_id = ? WHERE id = ? AND status <> 'filed'`,
		string(e.Status), e.Attempts, toDB(next), e.LastError, e.PractitionerID, e.AssignedPatientID, e.ID)
	if err != nil {
		return fmt.Errorf("update webhook: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update webhook: %w", err)
	} else if n == 0 {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM webhook_events WHERE id = ?`, e.ID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return webhookNotFound(e.ID)
		}
		if err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		return core.Errorf(core.ECONFLICT, "status", "Program webhook %d is already filed; there is nothing left to do.", e.ID)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update webhook: %w", db.busy(err))
	}
	e.NextAttemptAt = next
	return nil
}

// NextProgramVersion is one more than the highest version of the patient's
// programs with this name, 1 for the first.
func (db *DB) NextProgramVersion(ctx context.Context, patientID, name string) (int, error) {
	var v int
	if err := db.sql.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM programs WHERE patient_id = ? AND name = ?`,
		patientID, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("next program version: %w", err)
	}
	return v, nil
}

// FileProgram records p, filed from event eventID, and marks the event
// filed, in one transaction synced to disk (see core.ProgramStore).
func (db *DB) FileProgram(ctx context.Context, eventID int64, p *core.Program, pdf []byte) error {
	if p.PatientID == "" || p.Name == "" || p.Version < 1 || p.SHA256 == "" {
		return core.Errorf(core.EINVALID, "program", "A filed program needs a patient, a name, a version from 1 and a SHA-256.")
	}
	if (pdf == nil) == (p.Path == "") {
		return core.Errorf(core.EINVALID, "path", "A filed program is either a file (a path) or kept in the store (the PDF), not both or neither.")
	}
	filedAt := db.at(p.FiledAt)
	created := p.CreatedAt.UTC().Truncate(time.Microsecond)
	var blob any
	if pdf != nil {
		blob = pdf
	}
	var id int64
	err := db.inTx(ctx, "file program", func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM webhook_events WHERE id = ?`, eventID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return webhookNotFound(eventID)
		}
		if err != nil {
			return fmt.Errorf("file program: %w", err)
		}
		if status == string(core.WebhookFiled) {
			return core.Errorf(core.ECONFLICT, "event_id", "Program webhook %d is already filed; it is not filed twice.", eventID)
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO programs (event_id, patient_id, practitioner_id, name, date, created_at,
			updated, version, path, sha256, size, filed_at, pdf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			eventID, p.PatientID, p.PractitionerID, p.Name, p.Date, toDB(created), boolToDB(p.Updated), p.Version, p.Path,
			p.SHA256, p.Size, toDB(filedAt), blob).Scan(&id)
		if isUnique(err) {
			return core.Errorf(core.ECONFLICT, "version", "Patient %s already has version %d of program %q; ask for the next version.", p.PatientID, p.Version, p.Name)
		}
		if err != nil {
			return fmt.Errorf("file program: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_events SET status = 'filed', program_id = ?, last_error = '',
			practitioner_id = CASE WHEN ? <> '' THEN ? ELSE practitioner_id END WHERE id = ?`,
			id, p.PractitionerID, p.PractitionerID, eventID); err != nil {
			return fmt.Errorf("file program: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.ID, p.EventID, p.FiledAt, p.CreatedAt = id, eventID, filedAt, created
	return nil
}

const programColumns = `id, event_id, patient_id, practitioner_id, name, date, created_at, updated, version, path, sha256, size, filed_at`

func scanProgram(s scanner) (*core.Program, error) {
	var (
		p                core.Program
		created, filedAt int64
		updated          int
	)
	if err := s.Scan(&p.ID, &p.EventID, &p.PatientID, &p.PractitionerID, &p.Name, &p.Date, &created, &updated,
		&p.Version, &p.Path, &p.SHA256, &p.Size, &filedAt); err != nil {
		return nil, err
	}
	p.CreatedAt, p.FiledAt, p.Updated = fromDB(created), fromDB(filedAt), updated != 0
	return &p, nil
}

func collectPrograms(rows *sql.Rows, err error) ([]*core.Program, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []*core.Program
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// Programs lists the patient's programs (everyone's for ""), newest
// creation first.
func (db *DB) Programs(ctx context.Context, patientID string) ([]*core.Program, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if patientID == "" {
		rows, err = db.sql.QueryContext(ctx, `SELECT `+programColumns+` FROM programs ORDER BY created_at DESC, id DESC`)
	} else {
		rows, err = db.sql.QueryContext(ctx, `SELECT `+programColumns+` FROM programs WHERE patient_id = ?
			ORDER BY created_at DESC, id DESC`, patientID)
	}
	ps, err := collectPrograms(rows, err)
	if err != nil {
		return nil, fmt.Errorf("programs: %w", err)
	}
	return ps, nil
}

// ProgramsAfter lists up to limit programs filed after the one with
// afterID, in filing order.
func (db *DB) ProgramsAfter(ctx context.Context, afterID int64, limit int) ([]*core.Program, error) {
	if limit <= 0 {
		limit = defaultInboxLimit
	}
	ps, err := collectPrograms(db.sql.QueryContext(ctx, `SELECT `+programColumns+` FROM programs WHERE id > ? ORDER BY id LIMIT ?`,
		afterID, limit))
	if err != nil {
		return nil, fmt.Errorf("programs after %d: %w", afterID, err)
	}
	return ps, nil
}

func programNotFound(id int64) error {
	return core.Errorf(core.ENOTFOUND, "id", "No program has id %d; reload the patient's programs.", id)
}

// Program returns the program with id.
func (db *DB) Program(ctx context.Context, id int64) (*core.Program, error) {
	p, err := scanProgram(db.sql.QueryRowContext(ctx, `SELECT `+programColumns+` FROM programs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, programNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("program %d: %w", id, err)
	}
	return p, nil
}

// ProgramPDF returns the PDF kept in the store for the program.
func (db *DB) ProgramPDF(ctx context.Context, programID int64) ([]byte, error) {
	var pdf []byte
	var isNull bool
	err := db.sql.QueryRowContext(ctx, `SELECT coalesce(pdf, x''), pdf IS NULL FROM programs WHERE id = ?`, programID).Scan(&pdf, &isNull)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, programNotFound(programID)
	}
	if err != nil {
		return nil, fmt.Errorf("program %d pdf: %w", programID, err)
	}
	if isNull {
		return nil, core.Errorf(core.ENOTFOUND, "pdf", "Program %d is kept as a file in the data directory, not in the store.", programID)
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
		where string
		args  []any
	)
	if len(f.Statuses) == 0 {
		where = `status <> 'filed'`
	} else {
		where = `status IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(f.Statuses)), ", ") + `)`
		for _, s := range f.Statuses {
			args = append(args, string(s))
		}
	}
	args = append(args, limit)
	es, err := collectWebhooks(db.sql.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhook_events WHERE `+where+`
		ORDER BY id DESC LIMIT ?`, args...))
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return es, nil
}

// QueueStats counts pending events and finds when the oldest arrived.
func (db *DB) QueueStats(ctx context.Context) (core.QueueStats, error) {
	var (
		st     core.QueueStats
		oldest sql.NullInt64
	)
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*), min(received_at) FROM webhook_events WHERE status = 'pending'`).
		Scan(&st.Pending, &oldest); err != nil {
		return st, fmt.Errorf("queue stats: %w", err)
	}
	if oldest.Valid {
		st.OldestPending = fromDB(oldest.Int64)
	}
	return st, nil
}
