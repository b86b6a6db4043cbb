package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var practitioner, patient bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM practitioners WHERE id = $1),
			EXISTS (SELECT 1 FROM patients WHERE id = $2)`, r.PractitionerID, r.PatientID).Scan(&practitioner, &patient); err != nil {
			return err
		}
		if !practitioner {
			return core.Errorf(core.ENOTFOUND, "practitioner_id", "No practitioner has id %q; reload the list of practitioners.", r.PractitionerID)
		}
		if !patient {
			return core.Errorf(core.ENOTFOUND, "patient_id", "No patient has id %q; search for the patient again.", r.PatientID)
		}
		_, err := tx.Exec(ctx, `INSERT INTO recents (practitioner_id, patient_id, opened_at, last_sent)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (practitioner_id, patient_id) DO UPDATE
			SET opened_at = excluded.opened_at, last_sent = excluded.last_sent, seq = nextval('recent_opens')`,
			r.PractitionerID, r.PatientID, at, sentJSON)
		if isForeignKey(err) {
			// Removed by another desk since the check above.
			return core.Errorf(core.ENOTFOUND, "practitioner_id", "The practitioner or the patient was just removed at another desk; reload and try again.")
		}
		if err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, core.AuditEntry{At: at, Action: "open", PractitionerID: r.PractitionerID,
			PatientID: r.PatientID, DeskUser: r.DeskUser}); err != nil {
			return err
		}
		return db.notify(ctx, tx, core.ChangeRecent, r.PractitionerID)
	})
	if err != nil {
		return fmt.Errorf("record open: %w", err)
	}
	return nil
}

// RecentPatients lists the practitioner's last n opened patients, newest
// first, leaving archived ones out.
func (db *DB) RecentPatients(ctx context.Context, practitionerID string, n int) ([]*core.Patient, error) {
	if n <= 0 {
		return nil, nil
	}
	ps, err := collectPatients(db.q.Query(ctx, `SELECT `+prefixed("p.", patientColumns)+`
		FROM recents r JOIN patients p ON p.id = r.patient_id
		WHERE r.practitioner_id = $1 AND NOT p.archived
		ORDER BY r.opened_at DESC, r.seq DESC LIMIT $2`, practitionerID, n))
	if err != nil {
		return nil, fmt.Errorf("recent patients: %w", db.unreachable(err))
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
	var raw []byte
	err := db.q.QueryRow(ctx, `SELECT last_sent FROM recents WHERE practitioner_id = $1 AND patient_id = $2`,
		practitionerID, patientID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last sent: %w", db.unreachable(err))
	}
	sent := map[string]string{}
	if err := json.Unmarshal(raw, &sent); err != nil {
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
	if err := appendAudit(ctx, db.q, e); err != nil {
		return fmt.Errorf("append audit: %w", db.unreachable(err))
	}
	return nil
}

func appendAudit(ctx context.Context, q querier, e core.AuditEntry) error {
	_, err := q.Exec(ctx, `INSERT INTO audit (at, action, practitioner_id, patient_id, desk_user) VALUES ($1, $2, $3, $4, $5)`,
		e.At, e.Action, e.PractitionerID, e.PatientID, e.DeskUser)
	return err
}

// Audit returns the whole audit log, oldest first.
func (db *DB) Audit(ctx context.Context) ([]core.AuditEntry, error) {
	rows, err := db.q.Query(ctx, `SELECT at, action, practitioner_id, patient_id, desk_user FROM audit ORDER BY at, seq`)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", db.unreachable(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.AuditEntry, error) {
		var e core.AuditEntry
		err := r.Scan(&e.At, &e.Action, &e.PractitionerID, &e.PatientID, &e.DeskUser)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: %w", db.unreachable(err))
	}
	return out, nil
}

// Settings returns core.DefaultSettings with every stored value in place
// of the default, and the directory's id.
func (db *DB) Settings(ctx context.Context) (core.Settings, error) {
	s := core.DefaultSettings()
	rows, err := db.q.Query(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return s, fmt.Errorf("settings: %w", db.unreachable(err))
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
		return s, fmt.Errorf("settings: %w", db.unreachable(err))
	}
	return s, nil
}

// SaveSettings stores every field of s but StoreID, so that Settings
// returns s.
func (db *DB) SaveSettings(ctx context.Context, s core.Settings) error {
	rows, err := s.SettingRows()
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		for _, kv := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, kv[0], kv[1]); err != nil {
				return err
			}
		}
		return db.notify(ctx, tx, core.ChangeSettings, "")
	})
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}
