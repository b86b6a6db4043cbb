package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
	"ptdesk/core/search"
)

// BeginImport starts one transaction for a whole import. New rows are
// written in batches with COPY, their ids taken from the patient sequence a
// block at a time; numbers of a block left unused are given back at the end
// when no desk took a number since. Other desks go on working while it
// runs and see its rows at Commit; one editing a patient the import
// updates waits for it.
func (db *DB) BeginImport(ctx context.Context) (core.PatientImport, error) {
	tx, err := db.q.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", db.unreachable(err))
	}
	return &patientImport{db: db, tx: tx, pendingIDs: map[string]bool{}}, nil
}

// importBatch is the number of new rows written by one COPY.
const importBatch = 1000

// Block sizes of the ids an import takes from the sequence at once: small
// first, so that a small import takes no more than it needs.
const (
	firstIDBlock = 16
	maxIDBlock   = 1024
)

// patientImport is an import in progress.
type patientImport struct {
	db   *DB
	tx   pgx.Tx
	done bool

	// pending are new rows not written yet, pendingIDs their ids.
	pending    []pendingRow
	pendingIDs map[string]bool

	// block holds numbers taken from the sequence and not handed out yet,
	// ascending; blockEnd is the last number taken; blockSize the size of
	// the next block.
	block     []int64
	blockEnd  int64
	blockSize int
	// maxExplicit is the highest id made of digits this import created:
	// assigned ids must pass it.
	maxExplicit int64
	wrote       bool
}

// pendingRow is a new row waiting for its batch.
type pendingRow struct {
	p core.Patient
	d derived
}

var errImportDone = errors.New("the import was already committed or rolled back")

// Upsert creates p, or updates the patient with p.ID and restores it if it
// was archived. A stored patient that already holds p's values is left as
// it is (same version), so that importing a file again changes nothing.
func (im *patientImport) Upsert(ctx context.Context, p *core.Patient) (bool, error) {
	if im.done {
		return false, fmt.Errorf("import patient: %w", errImportDone)
	}
	now := im.db.stamp()
	if p.ID == "" {
		id, err := im.nextID(ctx)
		if err != nil {
			return false, fmt.Errorf("import patient: %w", im.db.unreachable(err))
		}
		return true, im.create(ctx, p, strconv.FormatInt(id, 10), now)
	}
	if im.pendingIDs[p.ID] {
		if err := im.flush(ctx); err != nil {
			return false, err
		}
	}
	stored, raw, err := lockPatient(ctx, im.tx, p.ID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		if n, ok := numericID(p.ID); ok {
			im.maxExplicit = max(im.maxExplicit, n)
			// Numbers taken already but not past the new id are dropped.
			im.block = slices.DeleteFunc(im.block, func(v int64) bool { return v <= n })
		}
		return true, im.create(ctx, p, p.ID, now)
	}
	if err != nil {
		return false, fmt.Errorf("import patient %s: %w", p.ID, im.db.unreachable(err))
	}
	if sameFields(stored, p) && !stored.Archived {
		p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = stored.CreatedAt, stored.UpdatedAt, stored.Version, false
		return false, nil
	}
	fieldVersions := map[string]int64{}
	if err := json.Unmarshal(raw, &fieldVersions); err != nil {
		return false, fmt.Errorf("import patient %s: field versions: %w", p.ID, err)
	}
	q := *p
	q.Archived = false
	if err := updatePatient(ctx, im.tx, stored, &q, fieldVersions, now, im.db); err != nil {
		return false, fmt.Errorf("import patient %s: %w", p.ID, im.db.unreachable(err))
	}
	im.wrote = true
	p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = stored.CreatedAt, now, stored.Version+1, false
	return false, nil
}

// nextID hands out the next number of the import's block, taking a new
// block from the sequence (past every explicit id so far) when it is
// empty.
func (im *patientImport) nextID(ctx context.Context) (int64, error) {
	for len(im.block) == 0 {
		if im.maxExplicit > 0 {
			if err := advance(ctx, im.tx, patientIDs, im.maxExplicit); err != nil {
				return 0, err
			}
		}
		if im.blockSize == 0 {
			im.blockSize = firstIDBlock
		}
		rows, err := im.tx.Query(ctx, `SELECT nextval('`+patientIDs+`') FROM generate_series(1, $1)`, im.blockSize)
		if err != nil {
			return 0, err
		}
		block, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		slices.Sort(block)
		im.blockEnd = block[len(block)-1]
		im.block = slices.DeleteFunc(block, func(v int64) bool { return v <= im.maxExplicit })
		im.blockSize = min(2*im.blockSize, maxIDBlock)
	}
	id := im.block[0]
	im.block = im.block[1:]
	return id, nil
}

// giveBack returns the numbers of the block not handed out to the
// sequence, if they are its last and no desk has taken one since.
func (im *patientImport) giveBack(ctx context.Context) error {
	if len(im.block) == 0 || im.block[len(im.block)-1] != im.blockEnd ||
		im.block[len(im.block)-1]-im.block[0] != int64(len(im.block)-1) {
		return nil
	}
	_, err := im.tx.Exec(ctx, `SELECT setval('`+patientIDs+`', $1, false) FROM `+patientIDs+`
		WHERE last_value = $2 AND is_called`, im.block[0], im.blockEnd)
	im.block = nil
	return err
}

// create queues a new row with id and sets p's stored fields.
func (im *patientImport) create(ctx context.Context, p *core.Patient, id string, now time.Time) error {
	q := *p
	q.ID, q.Archived = id, false
	q.CreatedAt, q.UpdatedAt, q.Version = now, now, 1
	im.pending = append(im.pending, pendingRow{p: q, d: derive(&q)})
	im.pendingIDs[id] = true
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = id, now, now, 1, false
	if len(im.pending) >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

// flush writes the pending rows and their tokens with COPY.
func (im *patientImport) flush(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	rows := make([][]any, len(im.pending))
	var tokens [][]any
	for i, r := range im.pending {
		rows[i] = insertArgs(&r.p, r.d, emptyFieldVersions)
		tokens = append(tokens, tokenRows(r.p.ID, r.d)...)
	}
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"patients"}, insertColumns, pgx.CopyFromRows(rows)); err != nil {
		if isUnique(err, "") {
			return core.Errorf(core.ECONFLICT, "id", "Another desk added a patient with an id this import was adding, while it ran; import the file again.")
		}
		return fmt.Errorf("import patients: %w", im.db.unreachable(err))
	}
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"patient_tokens"}, tokenColumns, pgx.CopyFromRows(tokens)); err != nil {
		return fmt.Errorf("import patients: index: %w", im.db.unreachable(err))
	}
	im.pending = im.pending[:0]
	clear(im.pendingIDs)
	im.wrote = true
	return nil
}

// sameFields reports whether a and b hold the same patient fields.
func sameFields(a, b *core.Patient) bool {
	return a.FirstName == b.FirstName && a.LastName == b.LastName && a.BirthYear == b.BirthYear &&
		a.Gender == b.Gender && a.Email == b.Email && a.Phone == b.Phone && a.DiagnosisCode == b.DiagnosisCode
}

// FindByNameYear finds a patient with the same folded first and last name
// keys (search.Key) and birth year; an active one before an archived one,
// else the one added first. Rows of this import not written yet are looked
// at in memory.
func (im *patientImport) FindByNameYear(ctx context.Context, first, last string, birthYear int) (string, error) {
	if im.done {
		return "", fmt.Errorf("find patient: %w", errImportDone)
	}
	firstKey, lastKey := search.Key(first), search.Key(last)
	var id string
	var archived bool
	err := im.tx.QueryRow(ctx, `SELECT id, archived FROM patients WHERE last_key = $1 AND first_key = $2 AND birth_year = $3
		ORDER BY archived, seq LIMIT 1`, lastKey, firstKey, birthYear).Scan(&id, &archived)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("find patient by name and birth year: %w", im.db.unreachable(err))
	}
	if id != "" && !archived {
		return id, nil
	}
	for _, r := range im.pending {
		if r.d.firstKey == firstKey && r.d.lastKey == lastKey && r.p.BirthYear == birthYear {
			return r.p.ID, nil
		}
	}
	return id, nil
}

// Commit writes what waits, moves the sequence past the explicit ids,
// gives back unused numbers, and makes every row visible at once.
func (im *patientImport) Commit() error {
	if im.done {
		return fmt.Errorf("commit import: %w", errImportDone)
	}
	im.done = true
	ctx := context.Background()
	err := im.flush(ctx)
	if err == nil && im.maxExplicit > 0 {
		err = advance(ctx, im.tx, patientIDs, im.maxExplicit)
	}
	if err == nil {
		err = im.giveBack(ctx)
	}
	if err == nil && im.wrote {
		err = im.db.notify(ctx, im.tx, core.ChangePatient, "")
	}
	if err == nil {
		err = im.tx.Commit(ctx)
	}
	if err != nil {
		_ = im.tx.Rollback(ctx)
		return fmt.Errorf("commit import: %w", im.db.unreachable(err))
	}
	return nil
}

// Rollback abandons the import; after Commit or Rollback it does nothing.
func (im *patientImport) Rollback() error {
	if im.done {
		return nil
	}
	im.done = true
	ctx := context.Background()
	_ = im.giveBack(ctx)
	if err := im.tx.Rollback(ctx); err != nil {
		return fmt.Errorf("roll back import: %w", im.db.unreachable(err))
	}
	return nil
}
