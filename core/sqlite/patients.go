package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"ptdesk/core"
	"ptdesk/core/search"
)

// patientColumns are the columns scanPatient reads, in its order.
const patientColumns = `id, first_name, last_name, birth_year, gender, email, phone,
	diagnosis_code, archived, created_at, updated_at, version`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// withSeq scans a row of seq followed by the patient columns, handing the
// patient columns to scanPatient.
func withSeq(row scanner, seq *int64) scanner {
	return scanFunc(func(dest ...any) error { return row.Scan(append([]any{seq}, dest...)...) })
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

func scanPatient(s scanner) (*core.Patient, error) {
	var (
		p                core.Patient
		gender           string
		archived         int
		created, updated int64
	)
	if err := s.Scan(&p.ID, &p.FirstName, &p.LastName, &p.BirthYear, &gender, &p.Email, &p.Phone,
		&p.DiagnosisCode, &archived, &created, &updated, &p.Version); err != nil {
		return nil, err
	}
	p.Gender = core.Gender(gender)
	p.Archived = archived != 0
	p.CreatedAt = fromDB(created)
	p.UpdatedAt = fromDB(updated)
	return &p, nil
}

// derived is what the store keeps beside a patient's fields so that search
// can use indexes: see ptdesk/core/search.
type derived struct {
	firstKey, lastKey, idKey string
	// otherNumbers and otherWords are search.OtherTokens that start with a
	// digit and the rest.
	otherNumbers, otherWords string
	// names and other are the token index's columns (see the migration).
	names, other string
}

func derive(p *core.Patient) derived {
	d := derived{
		firstKey: search.Key(p.FirstName),
		lastKey:  search.Key(p.LastName),
		idKey:    search.IDOrderKey(p.ID),
	}
	var numbers, words, other []string
	names := []string{d.firstKey, d.lastKey}
	for _, t := range search.OtherTokens(p) {
		if search.IsNameTerm(t) {
			words = append(words, t)
		} else {
			numbers = append(numbers, t)
		}
		if (d.firstKey != "" && strings.HasPrefix(t, d.firstKey)) || (d.lastKey != "" && strings.HasPrefix(t, d.lastKey)) {
			names = append(names, t)
		} else {
			other = append(other, t)
		}
	}
	d.otherNumbers, d.otherWords = search.TokenText(numbers), search.TokenText(words)
	d.names, d.other = strings.Join(names, " "), strings.Join(other, " ")
	return d
}

// insertColumns are the columns a new row sets, in insertArgs order.
const (
	insertColumns = `id, id_key, first_name, last_name, birth_year, gender, email, phone, diagnosis_code,
	archived, created_at, updated_at, version, first_key, last_key, other_numbers, other_words`
	insertedColumns = 18 // insertColumns and seq
)

const insertPatientSQL = `INSERT INTO patients (` + insertColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// The token index is kept in step by the store, in the transaction of each
// write (see the migration for why there are no triggers).
const (
	indexTokensSQL   = `INSERT INTO patient_tokens (rowid, names, other) VALUES (?, ?, ?)`
	unindexTokensSQL = `INSERT INTO patient_tokens (patient_tokens, rowid, names, other) VALUES ('delete', ?, ?, ?)`
)

func insertArgs(p *core.Patient, d derived, at int64) []any {
	return []any{p.ID, d.idKey, p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email,
		p.Phone, p.DiagnosisCode, boolInt(p.Archived), at, at, 1, d.firstKey, d.lastKey, d.otherNumbers, d.otherWords}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func patientExists(id string) error {
	return core.Errorf(core.ECONFLICT, "id", "A patient with id %q already exists; choose another id, or leave it empty to get the next number.", id)
}

func patientNotFound(id string) error {
	return core.Errorf(core.ENOTFOUND, "id", "No patient has id %q; it may have been typed wrong.", id)
}

// CreatePatient stores p with the next number as its id when p.ID is empty.
func (db *DB) CreatePatient(ctx context.Context, p *core.Patient) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create patient: %w", db.busy(err))
	}
	defer tx.Rollback()
	id := p.ID
	if id == "" {
		if id, err = nextID(ctx, tx, "patient", "patients"); err != nil {
			return fmt.Errorf("create patient: %w", err)
		}
	} else if err := skipID(ctx, tx, "patient", id); err != nil {
		return fmt.Errorf("create patient: %w", err)
	}
	q := *p
	q.ID = id
	now := db.stamp()
	d := derive(&q)
	res, err := tx.ExecContext(ctx, insertPatientSQL, insertArgs(&q, d, toDB(now))...)
	if err != nil {
		if isUnique(err) {
			return patientExists(id)
		}
		return fmt.Errorf("create patient: %w", err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create patient: %w", err)
	}
	if _, err := tx.ExecContext(ctx, indexTokensSQL, seq, d.names, d.other); err != nil {
		return fmt.Errorf("create patient: index: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create patient: %w", db.busy(err))
	}
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version = id, now, now, 1
	return nil
}

// UpdatePatient replaces every field of the stored patient, archived
// included, if nobody changed it since p was read.
func (db *DB) UpdatePatient(ctx context.Context, p *core.Patient) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update patient: %w", db.busy(err))
	}
	defer tx.Rollback()
	var seq int64
	stored, err := scanPatient(withSeq(tx.QueryRowContext(ctx, `SELECT seq, `+patientColumns+` FROM patients WHERE id = ?`, p.ID), &seq))
	if errors.Is(err, sql.ErrNoRows) {
		return patientNotFound(p.ID)
	}
	if err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	version, created := stored.Version, toDB(stored.CreatedAt)
	old := derive(stored)
	if version != p.Version {
		return core.Errorf(core.ECONFLICT, "version", "Patient %s was changed elsewhere since you opened it: reload it and make your change again.", p.ID)
	}
	d := derive(p)
	now := db.stamp()
	if _, err := tx.ExecContext(ctx, `UPDATE patients SET first_name = ?, last_name = ?, birth_year = ?,
		gender = ?, email = ?, phone = ?, diagnosis_code = ?, archived = ?, updated_at = ?,
		version = version + 1, first_key = ?, last_key = ?, other_numbers = ?, other_words = ? WHERE seq = ?`,
		p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email, p.Phone, p.DiagnosisCode,
		boolInt(p.Archived), toDB(now), d.firstKey, d.lastKey, d.otherNumbers, d.otherWords, seq); err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	if err := reindex(ctx, tx, seq, old, d); err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update patient: %w", db.busy(err))
	}
	p.CreatedAt, p.UpdatedAt, p.Version = fromDB(created), now, version+1
	return nil
}

// execer is a *sql.DB, *sql.Tx or *sql.Stmt-like target of a statement.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// reindex replaces a row's entry in the token index when it changed.
func reindex(ctx context.Context, x execer, seq int64, old, d derived) error {
	if old.names == d.names && old.other == d.other {
		return nil
	}
	if _, err := x.ExecContext(ctx, unindexTokensSQL, seq, old.names, old.other); err != nil {
		return fmt.Errorf("unindex: %w", err)
	}
	if _, err := x.ExecContext(ctx, indexTokensSQL, seq, d.names, d.other); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// Patient returns the patient with id, archived or not.
func (db *DB) Patient(ctx context.Context, id string) (*core.Patient, error) {
	p, err := scanPatient(db.sql.QueryRowContext(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, patientNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("patient %s: %w", id, err)
	}
	return p, nil
}

// ArchivePatient hides the patient from default searches. It counts as an
// edit (the version goes up) so that a desk holding the old version cannot
// bring the patient back by saving; archiving twice is not an error.
func (db *DB) ArchivePatient(ctx context.Context, id string) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE patients SET archived = 1, updated_at = ?, version = version + 1
		WHERE id = ? AND archived = 0`, toDB(db.stamp()), id)
	if err != nil {
		return fmt.Errorf("archive patient: %w", db.busy(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("archive patient: %w", err)
	} else if n == 1 {
		return nil
	}
	if _, err := db.Patient(ctx, id); err != nil {
		return err
	}
	return nil
}

// CountPatients counts every patient, archived included.
func (db *DB) CountPatients(ctx context.Context) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM patients`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count patients: %w", err)
	}
	return n, nil
}

// EachPatient streams every patient in id order (search.IDOrderKey): ids of
// digits by number, then the others by text.
func (db *DB) EachPatient(ctx context.Context, fn func(*core.Patient) error) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+patientColumns+` FROM patients ORDER BY id_key`)
	if err != nil {
		return fmt.Errorf("each patient: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPatient(rows)
		if err != nil {
			return fmt.Errorf("each patient: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("each patient: %w", err)
	}
	return nil
}
