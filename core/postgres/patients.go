package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
	"ptdesk/core/search"
)

// patientColumns are the columns scanPatient reads, in its order.
const patientColumns = `id, first_name, last_name, birth_year, gender, email, phone,
	diagnosis_code, archived, created_at, updated_at, version`

func scanPatient(row pgx.Row) (*core.Patient, error) {
	var (
		p      core.Patient
		gender string
	)
	if err := row.Scan(&p.ID, &p.FirstName, &p.LastName, &p.BirthYear, &gender, &p.Email, &p.Phone,
		&p.DiagnosisCode, &p.Archived, &p.CreatedAt, &p.UpdatedAt, &p.Version); err != nil {
		return nil, err
	}
	p.Gender = core.Gender(gender)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// collectPatients scans every row and closes rows.
func collectPatients(rows pgx.Rows, err error) ([]*core.Patient, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*core.Patient, error) { return scanPatient(r) })
}

// derived is what the store keeps beside a patient's fields so that search
// can use indexes: see ptdesk/core/search.
type derived struct {
	firstKey, lastKey, idKey string
	// otherNumbers and otherWords are search.OtherTokens that start with a
	// digit and the rest, as search.TokenText.
	otherNumbers, otherWords string
	// tokens are search.OtherTokens, one row each in patient_tokens.
	tokens []string
}

func derive(p *core.Patient) derived {
	d := derived{
		firstKey: search.Key(p.FirstName),
		lastKey:  search.Key(p.LastName),
		idKey:    search.IDOrderKey(p.ID),
		tokens:   search.OtherTokens(p),
	}
	var numbers, words []string
	for _, t := range d.tokens {
		if search.IsNameTerm(t) {
			words = append(words, t)
		} else {
			numbers = append(numbers, t)
		}
	}
	d.otherNumbers, d.otherWords = search.TokenText(numbers), search.TokenText(words)
	return d
}

// sameIndex reports whether two derivations of one patient make the same
// rows of patient_tokens (the tokens, and the name keys they carry).
func sameIndex(a, b derived) bool {
	return a.otherNumbers == b.otherNumbers && a.otherWords == b.otherWords && a.firstKey == b.firstKey && a.lastKey == b.lastKey
}

// tokenColumns are the columns of patient_tokens, in tokenRows order.
var tokenColumns = []string{"token", "patient_id", "last_key", "first_key", "id_key"}

// tokenRows are the rows of patient_tokens of the patient with id.
func tokenRows(id string, d derived) [][]any {
	rows := make([][]any, len(d.tokens))
	for i, t := range d.tokens {
		rows[i] = []any{t, id, d.lastKey, d.firstKey, d.idKey}
	}
	return rows
}

// indexTokens writes the patient's rows of patient_tokens.
func indexTokens(ctx context.Context, q querier, id string, d derived) error {
	if len(d.tokens) == 0 {
		return nil
	}
	if _, err := q.Exec(ctx, `INSERT INTO patient_tokens (token, patient_id, last_key, first_key, id_key)
		SELECT unnest($1::text[]), $2, $3, $4, $5`, d.tokens, id, d.lastKey, d.firstKey, d.idKey); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// insertColumns are the columns a new row sets, in insertArgs order.
var insertColumns = []string{"id", "id_key", "first_name", "last_name", "birth_year", "gender", "email", "phone",
	"diagnosis_code", "archived", "created_at", "updated_at", "version", "field_versions", "first_key", "last_key",
	"other_numbers", "other_words"}

func insertArgs(p *core.Patient, d derived, fieldVersions []byte) []any {
	return []any{p.ID, d.idKey, p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email,
		p.Phone, p.DiagnosisCode, p.Archived, p.CreatedAt, p.UpdatedAt, p.Version, fieldVersions,
		d.firstKey, d.lastKey, d.otherNumbers, d.otherWords}
}

var insertPatientSQL = `INSERT INTO patients (` + strings.Join(insertColumns, ", ") + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
	ON CONFLICT (id) DO NOTHING`

// emptyFieldVersions is field_versions of a new patient: no field changed
// since version 1.
var emptyFieldVersions = []byte("{}")

func patientExists(id string) error {
	return core.Errorf(core.ECONFLICT, "id", "A patient with id %q already exists; choose another id, or leave it empty to get the next number.", id)
}

func patientNotFound(id string) error {
	return core.Errorf(core.ENOTFOUND, "id", "No patient has id %q; it may have been typed wrong.", id)
}

// CreatePatient stores p with the next number as its id when p.ID is
// empty. The number comes from a sequence, so desks adding patients at the
// same time never get the same one.
func (db *DB) CreatePatient(ctx context.Context, p *core.Patient) error {
	now := db.stamp()
	q := *p
	q.CreatedAt, q.UpdatedAt, q.Version = now, now, 1
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if q.ID != "" {
			if err := advancePast(ctx, tx, patientIDs, q.ID); err != nil {
				return err
			}
			inserted, err := insertPatient(ctx, tx, &q)
			if err != nil {
				return err
			}
			if !inserted {
				return patientExists(q.ID)
			}
		} else {
			// A number may already be an explicit id (or, after a race
			// with an advance, someone's): take the next one.
			for {
				id, err := nextID(ctx, tx, patientIDs)
				if err != nil {
					return err
				}
				q.ID = id
				inserted, err := insertPatient(ctx, tx, &q)
				if err != nil {
					return err
				}
				if inserted {
					break
				}
			}
		}
		return db.notify(ctx, tx, core.ChangePatient, q.ID)
	})
	if err != nil {
		return fmt.Errorf("create patient: %w", err)
	}
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version = q.ID, now, now, 1
	return nil
}

// insertPatient inserts p and its tokens, reporting false when its id is
// taken.
func insertPatient(ctx context.Context, q querier, p *core.Patient) (bool, error) {
	d := derive(p)
	tag, err := q.Exec(ctx, insertPatientSQL, insertArgs(p, d, emptyFieldVersions)...)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, indexTokens(ctx, q, p.ID, d)
}

// patientFields names the fields an edit can change, as field_versions
// and conflict messages name them.
var patientFields = []struct {
	key, label string
	get        func(p *core.Patient) any
}{
	{"first_name", "first name", func(p *core.Patient) any { return p.FirstName }},
	{"last_name", "last name", func(p *core.Patient) any { return p.LastName }},
	{"birth_year", "birth year", func(p *core.Patient) any { return p.BirthYear }},
	{"gender", "gender", func(p *core.Patient) any { return p.Gender }},
	{"email", "email", func(p *core.Patient) any { return p.Email }},
	{"mobile_phone", "mobile phone", func(p *core.Patient) any { return p.Phone }},
	{"diagnosis_code", "diagnosis code", func(p *core.Patient) any { return p.DiagnosisCode }},
	{"archived", "archived", func(p *core.Patient) any { return p.Archived }},
}

// changedFields lists the keys of the fields that differ between a and b.
func changedFields(a, b *core.Patient) []string {
	var out []string
	for _, f := range patientFields {
		if f.get(a) != f.get(b) {
			out = append(out, f.key)
		}
	}
	return out
}

// staleEdit is the refusal of an edit that started from version, when
// fieldVersions (field → version that last changed it) says what changed
// since.
func staleEdit(id string, version int64, fieldVersions map[string]int64) error {
	var changed []string
	for _, f := range patientFields {
		if fieldVersions[f.key] > version {
			changed = append(changed, f.label)
		}
	}
	what := ""
	if len(changed) > 0 {
		what = " (changed: " + strings.Join(changed, ", ") + ")"
	}
	return core.Errorf(core.ECONFLICT, "version", "Patient %s was changed at another desk since you opened it%s: reload the patient to see the change, then make yours again.", id, what)
}

// UpdatePatient replaces every field of the stored patient, archived
// included, if nobody changed it since p was read; otherwise it is
// ECONFLICT on "version", saying which fields changed.
func (db *DB) UpdatePatient(ctx context.Context, p *core.Patient) error {
	now := db.stamp()
	var stored *core.Patient
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var raw []byte
		var err error
		stored, raw, err = lockPatient(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		fieldVersions := map[string]int64{}
		if err := json.Unmarshal(raw, &fieldVersions); err != nil {
			return fmt.Errorf("field versions: %w", err)
		}
		if stored.Version != p.Version {
			return staleEdit(p.ID, p.Version, fieldVersions)
		}
		return updatePatient(ctx, tx, stored, p, fieldVersions, now, db)
	})
	if err != nil {
		return fmt.Errorf("update patient: %w", err)
	}
	p.CreatedAt, p.UpdatedAt, p.Version = stored.CreatedAt, now, stored.Version+1
	return nil
}

// lockPatient reads a patient and its field versions, locking the row
// until the transaction ends.
func lockPatient(ctx context.Context, tx pgx.Tx, id string) (*core.Patient, []byte, error) {
	var raw []byte
	var p core.Patient
	var gender string
	err := tx.QueryRow(ctx, `SELECT `+patientColumns+`, field_versions FROM patients WHERE id = $1 FOR UPDATE`, id).Scan(
		&p.ID, &p.FirstName, &p.LastName, &p.BirthYear, &gender, &p.Email, &p.Phone,
		&p.DiagnosisCode, &p.Archived, &p.CreatedAt, &p.UpdatedAt, &p.Version, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, patientNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	p.Gender = core.Gender(gender)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, raw, nil
}

// updatePatient writes p's fields over the locked stored row as version
// stored.Version+1, recording which fields changed.
func updatePatient(ctx context.Context, tx pgx.Tx, stored, p *core.Patient, fieldVersions map[string]int64, now time.Time, db *DB) error {
	next := stored.Version + 1
	for _, f := range changedFields(stored, p) {
		fieldVersions[f] = next
	}
	fv, err := json.Marshal(fieldVersions)
	if err != nil {
		return err
	}
	d := derive(p)
	if _, err := tx.Exec(ctx, `UPDATE patients SET first_name = $1, last_name = $2, birth_year = $3,
		gender = $4, email = $5, phone = $6, diagnosis_code = $7, archived = $8, updated_at = $9,
		version = $10, field_versions = $11, first_key = $12, last_key = $13, other_numbers = $14, other_words = $15
		WHERE id = $16`,
		p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email, p.Phone, p.DiagnosisCode,
		p.Archived, now, next, fv, d.firstKey, d.lastKey, d.otherNumbers, d.otherWords, p.ID); err != nil {
		return err
	}
	if old := derive(stored); !sameIndex(old, d) {
		if _, err := tx.Exec(ctx, `DELETE FROM patient_tokens WHERE patient_id = $1`, p.ID); err != nil {
			return fmt.Errorf("unindex: %w", err)
		}
		if err := indexTokens(ctx, tx, p.ID, d); err != nil {
			return err
		}
	}
	return db.notify(ctx, tx, core.ChangePatient, p.ID)
}

// Patient returns the patient with id, archived or not.
func (db *DB) Patient(ctx context.Context, id string) (*core.Patient, error) {
	p, err := scanPatient(db.q.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, patientNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("patient %s: %w", id, db.unreachable(err))
	}
	return p, nil
}

// ArchivePatient hides the patient from default searches. It counts as an
// edit (the version goes up) so that a desk holding the old version cannot
// bring the patient back by saving; archiving twice is not an error.
func (db *DB) ArchivePatient(ctx context.Context, id string) error {
	found := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE patients SET archived = true, updated_at = $1, version = version + 1,
			field_versions = field_versions || jsonb_build_object('archived', version + 1)
			WHERE id = $2 AND NOT archived`, db.stamp(), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return tx.QueryRow(ctx, `SELECT true FROM patients WHERE id = $1`, id).Scan(&found)
		}
		found = true
		return db.notify(ctx, tx, core.ChangePatient, id)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return patientNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("archive patient: %w", err)
	}
	return nil
}

// CountPatients counts every patient, archived included.
func (db *DB) CountPatients(ctx context.Context) (int, error) {
	var n int
	if err := db.q.QueryRow(ctx, `SELECT count(*) FROM patients`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count patients: %w", db.unreachable(err))
	}
	return n, nil
}

// EachPatient streams every patient in id order (search.IDOrderKey): ids
// of digits by number, then the others by text. fn must not use the store
// while a Transfer is the one streaming (its one connection is busy).
func (db *DB) EachPatient(ctx context.Context, fn func(*core.Patient) error) error {
	rows, err := db.q.Query(ctx, `SELECT `+patientColumns+` FROM patients ORDER BY id_key`)
	if err != nil {
		return fmt.Errorf("each patient: %w", db.unreachable(err))
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
		return fmt.Errorf("each patient: %w", db.unreachable(err))
	}
	return nil
}
