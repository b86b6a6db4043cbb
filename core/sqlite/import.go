package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ptdesk/core"
	"ptdesk/core/search"
)

// BeginImport starts one write transaction for a whole import. New rows
// are written in batches by prepared multi-row statements, their ids and
// rowids counted in memory, so an import of 100,000 patients (search index
// included) takes seconds and its memory does not grow with its size. Other
// writers wait for it (or give up after BusyTimeout); readers go on seeing
// the directory as it was until Commit.
func (db *DB) BeginImport(ctx context.Context) (core.PatientImport, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	// Rows arrive in no index's order: a page cache that holds the indexes
	// being built saves rereading and rewriting their pages. The usual size
	// is set back before the connection returns to the pool.
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = `+strconv.Itoa(importCacheSize)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin import: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		im := &patientImport{db: db, conn: conn}
		im.release()
		return nil, fmt.Errorf("begin import: %w", db.busy(err))
	}
	im := &patientImport{db: db, conn: conn, tx: tx}
	if err := im.prepare(ctx); err != nil {
		tx.Rollback()
		im.release()
		return nil, fmt.Errorf("begin import: %w", err)
	}
	return im, nil
}

// release gives the connection back to the pool with the usual page cache.
func (im *patientImport) release() {
	im.conn.ExecContext(context.Background(), `PRAGMA cache_size = `+strconv.Itoa(cacheSize))
	im.conn.Close()
}

// importCacheSize is the page cache of an import's connection (in the
// negative KiB of PRAGMA cache_size).
const importCacheSize = -512 << 10

// importBatch is the number of new rows written by one statement.
const importBatch = 64

// patientImport is an import in progress.
type patientImport struct {
	db   *DB
	conn *sql.Conn
	tx   *sql.Tx
	done bool

	// counter is the last patient number handed out, nextSeq the next
	// rowid: the transaction holds the write lock, so nobody else moves
	// them until Commit.
	counter, counterAtStart, nextSeq int64
	// pending are new rows not written yet; every read flushes them first.
	pending []pendingRow
	// tokens are token index rows not written yet.
	tokens []tokenRow
	// indexed counts the rows written to the token index.
	indexed int

	insertBatch, indexBatch, insert, index, unindex, load, update, byName *sql.Stmt
}

// pendingRow is a new row waiting for its batch.
type pendingRow struct {
	p   core.Patient
	d   derived
	seq int64
}

func (im *patientImport) prepare(ctx context.Context) error {
	if err := im.tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'patient'`).Scan(&im.counter); err != nil {
		return err
	}
	if err := im.tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM patients`).Scan(&im.nextSeq); err != nil {
		return err
	}
	im.counterAtStart = im.counter
	for _, s := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&im.insertBatch, insertRowsSQL(importBatch)},
		{&im.insert, insertRowsSQL(1)},
		{&im.indexBatch, `INSERT OR FAIL INTO patient_tokens (rowid, names, other) VALUES ` +
			strings.Repeat("(?, ?, ?), ", tokenBatch-1) + "(?, ?, ?)"},
		{&im.index, indexTokensSQL},
		{&im.unindex, unindexTokensSQL},
		{&im.load, `SELECT seq, ` + patientColumns + ` FROM patients WHERE id = ?`},
		{&im.update, `UPDATE patients SET first_name = ?, last_name = ?, birth_year = ?, gender = ?,
			email = ?, phone = ?, diagnosis_code = ?, archived = 0, updated_at = ?,
			version = version + 1, first_key = ?, last_key = ?, other_numbers = ?, other_words = ? WHERE seq = ?`},
		// Active patients before archived ones, then the oldest.
		{&im.byName, `SELECT id FROM patients WHERE last_key = ? AND first_key = ? AND birth_year = ?
			ORDER BY archived, seq LIMIT 1`},
	} {
		st, err := im.tx.PrepareContext(ctx, s.sql)
		if err != nil {
			return err
		}
		*s.st = st
	}
	im.pending = make([]pendingRow, 0, importBatch)
	// Merging the token index's segments while rows pour in would merge the
	// same data again and again; Commit merges everything once instead.
	// These settings are stored in the index, so Commit and Rollback put
	// them back (a rollback undoes them anyway).
	for _, setting := range []string{
		`INSERT INTO patient_tokens (patient_tokens, rank) VALUES ('automerge', 0)`,
		`INSERT INTO patient_tokens (patient_tokens, rank) VALUES ('crisismerge', 1000)`,
	} {
		if _, err := im.tx.ExecContext(ctx, setting); err != nil {
			return err
		}
	}
	return nil
}

// insertRowsSQL inserts n patients with their seq.
func insertRowsSQL(n int) string {
	row := "(" + strings.Repeat("?, ", insertedColumns-1) + "?)"
	return `INSERT OR FAIL INTO patients (seq, ` + insertColumns + `) VALUES ` + strings.Repeat(row+", ", n-1) + row
}

func (im *patientImport) closeStatements() {
	for _, st := range []*sql.Stmt{im.insertBatch, im.indexBatch, im.insert, im.index, im.unindex, im.load, im.update, im.byName} {
		if st != nil {
			st.Close()
		}
	}
}

// optimizeAfter is the least number of rows an import writes to the token
// index for Commit to rewrite the index as one segment.
const optimizeAfter = 1000

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
		// The counter is past every id made of digits (CreatePatient and
		// Upsert move it), so the next number is free; the UNIQUE index
		// stands guard all the same.
		im.counter++
		return true, im.create(ctx, p, strconv.FormatInt(im.counter, 10), now)
	}
	if err := im.flush(ctx); err != nil {
		return false, err
	}
	var seq int64
	stored, err := scanPatient(withSeq(im.load.QueryRowContext(ctx, p.ID), &seq))
	if errors.Is(err, sql.ErrNoRows) {
		if n, ok := numericID(p.ID); ok && n > im.counter {
			im.counter = n
		}
		return true, im.create(ctx, p, p.ID, now)
	}
	if err != nil {
		return false, fmt.Errorf("import patient %s: %w", p.ID, err)
	}
	if sameFields(stored, p) && !stored.Archived {
		p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = stored.CreatedAt, stored.UpdatedAt, stored.Version, false
		return false, nil
	}
	d := derive(p)
	if _, err := im.update.ExecContext(ctx, p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email,
		p.Phone, p.DiagnosisCode, toDB(now), d.firstKey, d.lastKey, d.otherNumbers, d.otherWords, seq); err != nil {
		return false, fmt.Errorf("import patient %s: %w", p.ID, err)
	}
	if old := derive(stored); old.names != d.names || old.other != d.other {
		if _, err := im.unindex.ExecContext(ctx, seq, old.names, old.other); err != nil {
			return false, fmt.Errorf("import patient %s: unindex: %w", p.ID, err)
		}
		if _, err := im.index.ExecContext(ctx, seq, d.names, d.other); err != nil {
			return false, fmt.Errorf("import patient %s: index: %w", p.ID, err)
		}
		im.indexed++
	}
	p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = stored.CreatedAt, now, stored.Version+1, false
	return false, nil
}

// create queues a new row with id and sets p's stored fields.
func (im *patientImport) create(ctx context.Context, p *core.Patient, id string, now time.Time) error {
	q := *p
	q.ID, q.Archived = id, false
	q.CreatedAt, q.UpdatedAt, q.Version = now, now, 1
	im.pending = append(im.pending, pendingRow{p: q, d: derive(&q), seq: im.nextSeq})
	im.nextSeq++
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = id, now, now, 1, false
	if len(im.pending) == importBatch {
		return im.flush(ctx)
	}
	return nil
}

// flush writes the pending rows, and their tokens once enough of them
// wait (see tokens).
func (im *patientImport) flush(ctx context.Context) error {
	for len(im.pending) > 0 {
		insert, n := im.insert, 1
		if len(im.pending) >= importBatch {
			insert, n = im.insertBatch, importBatch
		}
		var args []any
		for _, r := range im.pending[:n] {
			args = append(args, r.seq)
			args = append(args, insertArgs(&r.p, r.d, toDB(r.p.CreatedAt))...)
			im.tokens = append(im.tokens, tokenRow{r.seq, r.d.names, r.d.other})
		}
		if _, err := insert.ExecContext(ctx, args...); err != nil {
			if isUnique(err) {
				return fmt.Errorf("import patients: an id is already taken: %w", err)
			}
			return fmt.Errorf("import patients: %w", err)
		}
		im.pending = im.pending[n:]
	}
	im.pending = im.pending[:0:cap(im.pending)]
	if len(im.tokens) >= tokenBatch {
		return im.flushTokens(ctx)
	}
	return nil
}

// tokenBatch is the number of rows whose tokens are written together, by
// one statement. FTS5 writes out what it holds in memory at every statement
// savepoint, and each multi-row insert is one: rare, large token batches
// make few, large index segments.
const tokenBatch = 1024

// tokenRow is a token index row waiting to be written.
type tokenRow struct {
	seq          int64
	names, other string
}

func (im *patientImport) flushTokens(ctx context.Context) error {
	for len(im.tokens) > 0 {
		st, n := im.index, 1
		if len(im.tokens) >= tokenBatch {
			st, n = im.indexBatch, tokenBatch
		}
		args := make([]any, 0, 3*n)
		for _, t := range im.tokens[:n] {
			args = append(args, t.seq, t.names, t.other)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("import patients: index: %w", err)
		}
		im.indexed += n
		im.tokens = im.tokens[n:]
	}
	im.tokens = im.tokens[:0:cap(im.tokens)]
	return nil
}

// sameFields reports whether a and b hold the same patient fields.
func sameFields(a, b *core.Patient) bool {
	return a.FirstName == b.FirstName && a.LastName == b.LastName && a.BirthYear == b.BirthYear &&
		a.Gender == b.Gender && a.Email == b.Email && a.Phone == b.Phone && a.DiagnosisCode == b.DiagnosisCode
}

// FindByNameYear finds a patient with the same folded first and last name
// keys (search.Key) and birth year; an active one before an archived one,
// else the one created first.
func (im *patientImport) FindByNameYear(ctx context.Context, first, last string, birthYear int) (string, error) {
	if im.done {
		return "", fmt.Errorf("find patient: %w", errImportDone)
	}
	if err := im.flush(ctx); err != nil {
		return "", err
	}
	var id string
	err := im.byName.QueryRowContext(ctx, search.Key(last), search.Key(first), birthYear).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find patient by name and birth year: %w", err)
	}
	return id, nil
}

// Commit makes every row of the import visible at once.
func (im *patientImport) Commit() error {
	if im.done {
		return fmt.Errorf("commit import: %w", errImportDone)
	}
	err := im.finish(context.Background())
	im.done = true
	im.closeStatements()
	if err == nil {
		err = im.db.busy(im.tx.Commit())
	}
	if err != nil {
		im.tx.Rollback()
		im.release()
		return fmt.Errorf("commit import: %w", err)
	}
	im.release()
	return nil
}

// finish writes what waits, the id counter, and brings the token index
// back to its usual merging.
func (im *patientImport) finish(ctx context.Context) error {
	if err := im.flush(ctx); err != nil {
		return err
	}
	if err := im.flushTokens(ctx); err != nil {
		return err
	}
	if im.counter != im.counterAtStart {
		if _, err := im.tx.ExecContext(ctx, `UPDATE counters SET value = max(value, ?) WHERE name = 'patient'`, im.counter); err != nil {
			return err
		}
	}
	// An import that is a large part of the directory leaves the index
	// worth rewriting as one segment, so that a search visits one B-tree; a
	// small one only merges a bounded amount, as single writes do.
	merge := `INSERT INTO patient_tokens (patient_tokens, rank) VALUES ('merge', 500)`
	if im.indexed >= optimizeAfter && int64(im.indexed)*4 >= im.nextSeq {
		merge = `INSERT INTO patient_tokens (patient_tokens) VALUES ('optimize')`
	}
	for _, st := range []string{
		`INSERT INTO patient_tokens (patient_tokens, rank) VALUES ('automerge', 4)`,
		`INSERT INTO patient_tokens (patient_tokens, rank) VALUES ('crisismerge', 16)`,
		merge,
	} {
		if _, err := im.tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("merge the search index: %w", err)
		}
	}
	return nil
}

// Rollback abandons the import; after Commit or Rollback it does nothing.
func (im *patientImport) Rollback() error {
	if im.done {
		return nil
	}
	im.done = true
	im.closeStatements()
	err := im.tx.Rollback()
	im.release()
	if err != nil {
		return fmt.Errorf("roll back import: %w", err)
	}
	return nil
}
