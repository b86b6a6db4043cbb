package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"ptdesk/core"
	"ptdesk/core/search"
)

// patientColumns are the columns scanPatient reads, in its order.
const patientColumns = `id, first_name, last_name, birth_year, gender, email, phone,
	diagnosis_code, archived, created_at, updated_at, version`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// withSeq scans a row of seq and tokens followed by the patient columns,
// handing the patient columns to scanPatient.
func withSeq(row scanner, seq *int64, tokens *string) scanner {
	return scanFunc(func(dest ...any) error { return row.Scan(append([]any{seq, tokens}, dest...)...) })
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
// can use indexes: see ptdesk/core/search and the migration.
type derived struct {
	firstKey, lastKey, idKey string
	// tokens and other are search.OtherTokens but the birth year, split
	// as the migration says, each as search.TokenText; tokens also holds
	// the keyed tokens of other as keyedToken.
	tokens, other string
	// words are the name words in other, for name_words.
	words []nameWord
}

// nameWord is a row of name_words.
type nameWord struct{ word, kind, key string }

func derive(p *core.Patient) derived {
	// The birth year is searched in its own column (see the migration).
	q := *p
	q.BirthYear = 0
	first, last, others := search.Split(&q)
	d := derived{firstKey: first, lastKey: last, idKey: search.IDOrderKey(p.ID)}
	// Only a name of several words has words that are not prefixes of
	// its key.
	var firstWords, lastWords, rest []string
	if first != "" {
		if firstWords = search.Words(p.FirstName); len(firstWords) < 2 {
			firstWords = nil
		}
	}
	if last != "" {
		if lastWords = search.Words(p.LastName); len(lastWords) < 2 {
			lastWords = nil
		}
	}
	if firstWords != nil || lastWords != nil {
		rest = search.PatientTokens(&core.Patient{ID: p.ID, Email: p.Email, Phone: p.Phone})
	}
	var tokens, other strings.Builder
	for _, t := range others {
		b := &tokens
		key := ""
		if first != "" && strings.HasPrefix(t, first) {
			key = first
		}
		if last != "" && strings.HasPrefix(t, last) && len(last) > len(key) {
			key = last
		}
		switch {
		case key != "":
			// The token index has it as _key_rest (see keyedToken).
			tokens.WriteString(" " + keyedToken(key, t))
			b = &other
		case !slices.Contains(rest, t) && (slices.Contains(firstWords, t) || slices.Contains(lastWords, t)):
			b = &other
			if slices.Contains(firstWords, t) {
				d.words = append(d.words, nameWord{t, "first", first})
			}
			if slices.Contains(lastWords, t) {
				d.words = append(d.words, nameWord{t, "last", last})
			}
		}
		b.WriteByte(' ')
		b.WriteString(t)
	}
	d.tokens, d.other = tokens.String(), other.String()
	return d
}

// keyedToken is how the token index holds a token that begins with a name
// key (the longest that it begins with): an underscore, the key, another
// underscore and the rest ("_jo_nowak" for Jo Nowak's "jonowak"). A term
// longer than a key it begins with is then found as _key_rest* for each
// such key, among the rows with that key only; the token as it is would be
// found by every term that starts the key, which the key already answers.
func keyedToken(key, token string) string { return "_" + key + "_" + token[len(key):] }

// addWordsSQL records name words; they are only ever added (see the
// migration).
const addWordsSQL = `INSERT OR IGNORE INTO name_words (word, kind, key) VALUES (?, ?, ?)`

// addWords records d's name words in the transaction of the write.
func addWords(ctx context.Context, x execer, d derived) error {
	for _, w := range d.words {
		if _, err := x.ExecContext(ctx, addWordsSQL, w.word, w.kind, w.key); err != nil {
			return fmt.Errorf("name words: %w", err)
		}
	}
	return nil
}

// insertColumns are the columns a new row sets, in insertArgs order.
const (
	insertColumns = `id, id_key, first_name, last_name, birth_year, gender, email, phone, diagnosis_code,
	archived, created_at, updated_at, version, first_key, last_key, tokens, other`
	insertedColumns = 18 // insertColumns and seq
)

const insertPatientSQL = `INSERT INTO patients (` + insertColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// The token index is kept in step by the store, in the transaction of each
// write (see the migration for why there are no triggers). A row without
// such tokens has no entry.
const (
	indexTokensSQL   = `INSERT INTO patient_tokens (rowid, tokens) VALUES (?, ?)`
	unindexTokensSQL = `INSERT INTO patient_tokens (patient_tokens, rowid, tokens) VALUES ('delete', ?, ?)`
)

func insertArgs(p *core.Patient, d derived, at int64) []any {
	return []any{p.ID, d.idKey, p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email,
		p.Phone, p.DiagnosisCode, boolInt(p.Archived), at, at, 1, d.firstKey, d.lastKey, d.tokens, d.other}
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
	if err := index(ctx, tx, seq, d.tokens); err != nil {
		return fmt.Errorf("create patient: %w", err)
	}
	if err := addWords(ctx, tx, d); err != nil {
		return fmt.Errorf("create patient: %w", err)
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
	var (
		seq       int64
		oldTokens string
	)
	stored, err := scanPatient(withSeq(tx.QueryRowContext(ctx, `SELECT seq, tokens, `+patientColumns+` FROM patients WHERE id = ?`, p.ID), &seq, &oldTokens))
	if errors.Is(err, sql.ErrNoRows) {
		return patientNotFound(p.ID)
	}
	if err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	version, created := stored.Version, toDB(stored.CreatedAt)
	if version != p.Version {
		return core.Errorf(core.ECONFLICT, "version", "Patient %s was changed elsewhere since you opened it: reload it and make your change again.", p.ID)
	}
	d := derive(p)
	now := db.stamp()
	if _, err := tx.ExecContext(ctx, `UPDATE patients SET first_name = ?, last_name = ?, birth_year = ?,
		gender = ?, email = ?, phone = ?, diagnosis_code = ?, archived = ?, updated_at = ?,
		version = version + 1, first_key = ?, last_key = ?, tokens = ?, other = ? WHERE seq = ?`,
		p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email, p.Phone, p.DiagnosisCode,
		boolInt(p.Archived), toDB(now), d.firstKey, d.lastKey, d.tokens, d.other, seq); err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	if err := addWords(ctx, tx, d); err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	if err := reindex(ctx, tx, seq, oldTokens, d.tokens); err != nil {
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

// index adds a row's tokens to the token index.
func index(ctx context.Context, x execer, seq int64, tokens string) error {
	if tokens == "" {
		return nil
	}
	if _, err := x.ExecContext(ctx, indexTokensSQL, seq, tokens); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// reindex replaces a row's entry in the token index when it changed.
func reindex(ctx context.Context, x execer, seq int64, old, tokens string) error {
	if old == tokens {
		return nil
	}
	if old != "" {
		if _, err := x.ExecContext(ctx, unindexTokensSQL, seq, old); err != nil {
			return fmt.Errorf("unindex: %w", err)
		}
	}
	return index(ctx, x, seq, tokens)
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
