package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ptdesk/core"
)

// RecordOpen makes the patient the practitioner's most recent one, keeps
// the fields sent, and appends an "open" line to the audit log, all in one
// transaction. A zero r.At means now.
func (db *DB) RecordOpen(ctx context.Context, r core.OpenRecord) error {
	at := db.at(r.At)
	sent := r.Sent
	if sent == nil {
		sent = map[string]string{}
	}
	sentJSON, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("record open: %w", err)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record open: %w", db.busy(err))
	}
	defer tx.Rollback()
	if err := practitionerExists(ctx, tx, r.PractitionerID); err != nil {
		if core.ErrorCode(err) == core.ENOTFOUND {
			return core.Errorf(core.ENOTFOUND, "practitioner_id", "No practitioner has id %q; reload the list of practitioners.", r.PractitionerID)
		}
		return err
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM patients WHERE id = ?`, r.PatientID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return core.Errorf(core.ENOTFOUND, "patient_id", "No patient has id %q; search for the patient again.", r.PatientID)
	} else if err != nil {
		return fmt.Errorf("record open: %w", err)
	}
	// REPLACE gives the row a new rowid, which orders opens made in the
	// same microsecond.
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO recents (practitioner_id, patient_id, opened_at, last_sent)
		VALUES (?, ?, ?, ?)`, r.PractitionerID, r.PatientID, toDB(at), string(sentJSON)); err != nil {
		return fmt.Errorf("record open: %w", err)
	}
	if err := appendAudit(ctx, tx, core.AuditEntry{At: at, Action: "open", PractitionerID: r.PractitionerID,
		PatientID: r.PatientID, DeskUser: r.DeskUser}); err != nil {
		return fmt.Errorf("record open: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record open: %w", db.busy(err))
	}
	return nil
}

// at is t as stored, or now when t is zero.
func (db *DB) at(t time.Time) time.Time {
	if t.IsZero() {
		return db.stamp()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// RecentPatients lists the practitioner's last n opened patients, newest
// first, leaving archived ones out.
func (db *DB) RecentPatients(ctx context.Context, practitionerID string, n int) ([]*core.Patient, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT `+prefixed("p.", patientColumns)+`
		FROM recents r JOIN patients p ON p.id = r.patient_id
		WHERE r.practitioner_id = ? AND p.archived = 0
		ORDER BY r.opened_at DESC, r.rowid DESC LIMIT ?`, practitionerID, n)
	ps, err := collect(rows, err)
	if err != nil {
		return nil, fmt.Errorf("recent patients: %w", err)
	}
	return ps, nil
}

// prefixed qualifies every column of a comma-separated list.
func prefixed(prefix, columns string) string {
	var b []byte
	start := true
	for i := 0; i < len(columns); i++ {
		c := columns[i]
		if start && c != ' ' && c != '\n' && c != '\t' {
			b = append(b, prefix...)
			start = false
		}
		if c == ',' {
			start = true
		}
		b = append(b, c)
	}
	return string(b)
}

// LastSent returns the fields last sent to Physitrack for the pair, nil if
// the practitioner never opened the patient.
func (db *DB) LastSent(ctx context.Context, practitionerID, patientID string) (map[string]string, error) {
	var raw string
	err := db.sql.QueryRowContext(ctx, `SELECT last_sent FROM recents WHERE practitioner_id = ? AND patient_id = ?`,
		practitionerID, patientID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last sent: %w", err)
	}
	sent := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &sent); err != nil {
		return nil, fmt.Errorf("last sent: %w", err)
	}
	return sent, nil
}

// AppendAudit adds a line to the audit log; a zero e.At means now.
func (db *DB) AppendAudit(ctx context.Context, e core.AuditEntry) error {
	if e.Action == "" {
		return core.Errorf(core.EINVALID, "action", "An audit entry needs an action.")
	}
	e.At = db.at(e.At)
	if err := appendAudit(ctx, db.sql, e); err != nil {
		return fmt.Errorf("append audit: %w", db.busy(err))
	}
	return nil
}

func appendAudit(ctx context.Context, x execer, e core.AuditEntry) error {
	_, err := x.ExecContext(ctx, `INSERT INTO audit (at, action, practitioner_id, patient_id, desk_user) VALUES (?, ?, ?, ?, ?)`,
		toDB(e.At), e.Action, e.PractitionerID, e.PatientID, e.DeskUser)
	return err
}

// Audit returns the whole audit log, oldest first.
func (db *DB) Audit(ctx context.Context) ([]core.AuditEntry, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT at, action, practitioner_id, patient_id, desk_user FROM audit ORDER BY at, seq`)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []core.AuditEntry
	for rows.Next() {
		var e core.AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Action, &e.PractitionerID, &e.PatientID, &e.DeskUser); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		e.At = fromDB(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}

// Settings returns core.DefaultSettings with every stored value in place
// of the default.
func (db *DB) Settings(ctx context.Context) (core.Settings, error) {
	s := core.DefaultSettings()
	rows, err := db.sql.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return s, fmt.Errorf("settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return s, fmt.Errorf("settings: %w", err)
		}
		if err := s.ApplySettingRow(k, v); err != nil {
			return s, fmt.Errorf("settings: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("settings: %w", err)
	}
	return s, nil
}

// SaveSettings stores every field of s, so that Settings returns s.
func (db *DB) SaveSettings(ctx context.Context, s core.Settings) error {
	rows, err := s.SettingRows()
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save settings: %w", db.busy(err))
	}
	defer tx.Rollback()
	for _, kv := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, kv[0], kv[1]); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save settings: %w", db.busy(err))
	}
	return nil
}
