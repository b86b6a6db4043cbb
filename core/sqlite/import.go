package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"ptdesk/core"
	"ptdesk/core/search"
)

// BeginImport starts one write transaction for a whole import. Other
// writers wait for it (or give up after BusyTimeout); readers go on seeing
// the directory as it was until Commit.
//
// An import writes what it must at once and the rest in bulk:
//   - new rows are written in batches by prepared multi-row statements,
//     their ids and rowids counted in memory;
//   - a new row's id is looked up only when it may already be there: a
//     filter remembers the ids this import added, and a directory that was
//     empty holds no others;
//   - once an import has added more rows than the directory had (at once
//     when it was empty) it turns to bulk: the search indexes of patients
//     are dropped and built again at Commit by sorting, several times
//     cheaper than inserting rows into them in no particular order (a
//     duplicate check by name, FindByNameYear, builds them back at once);
//     and the token index gets the new rows tokenBatch at a time, each
//     batch one statement that writes one segment, merged into one at
//     Commit, instead of merging small segments again and again. The
//     token batches overlap with the caller reading and checking the
//     next rows.
func (db *DB) BeginImport(ctx context.Context) (core.PatientImport, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	// The indexes built at Commit sort in memory up to the page cache's
	// size and in temporary files beyond it: a moderate cache, and files
	// rather than memory, keep a large import's memory flat (the file is
	// read without a map, as on every connection: see mmapSize). The
	// indexes are sorted with the help of the other cores, idle by then
	// (see sortThreads). The connection is closed at the end (see
	// release).
	for _, pragma := range []string{`PRAGMA cache_size = ` + strconv.Itoa(importCacheSize), `PRAGMA temp_store = FILE`,
		`PRAGMA threads = ` + strconv.Itoa(sortThreads())} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			im := &patientImport{db: db, conn: conn}
			im.release()
			return nil, fmt.Errorf("begin import: %w", err)
		}
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
		im.closeStatements()
		im.release()
		return nil, fmt.Errorf("begin import: %w", err)
	}
	return im, nil
}

// release closes the import's connection rather than give it back to the
// pool: FTS5 keeps the hash table it gathered the import's tokens in at its
// largest, which every later prefix query on that connection would walk
// through, and the connection's settings are an import's.
func (im *patientImport) release() {
	im.conn.Raw(func(any) error { return driver.ErrBadConn })
	im.conn.Close()
}

// sortThreads is how many threads SQLite may add to sort the rows of an
// index being built (PRAGMA threads): by the time Commit builds them the
// rows have been checked and written, and the other cores are idle.
func sortThreads() int {
	return min(max(runtime.GOMAXPROCS(0)-1, 0), 4)
}

// importCacheSize is the page cache of an import's connection (in the
// negative KiB of PRAGMA cache_size), which also bounds the memory each
// sort of Commit uses before it spills to a temporary file. Rows are
// appended, so a small cache serves them, and the index builds are about
// as fast with 4 MiB as with 16 while the import's peak memory is a third
// lower (measured on a million rows).
const importCacheSize = -4 << 10

// importBatch is the number of new rows written by one statement.
const importBatch = 64

// bulkAfter is the least number of rows an import adds to a directory that
// is not empty before it turns to bulk.
const bulkAfter = 1024

// tokenBatch is the number of new rows an import in bulk adds to the token
// index at a time. FTS5 writes what it gathered as a segment at the end of
// each statement; large batches make few segments.
const tokenBatch = 16384

// tokenHashSize is the memory FTS5 gathers an import's token batch in (the
// default, 1 MB, would write each batch as several segments).
const tokenHashSize = 16 << 20

// patientImport is an import in progress.
type patientImport struct {
	db   *DB
	conn *sql.Conn
	tx   *sql.Tx
	done bool

	// counter is the last patient number handed out, nextSeq the next
	// rowid: the transaction holds the write lock, so nobody else moves
	// them until Commit. Rows from firstSeq on are this import's.
	counter, counterAtStart, nextSeq, firstSeq int64
	// empty: the directory had no patient when the import began.
	empty bool
	// pending are new rows not written yet; a read of them flushes them
	// first.
	pending []pendingRow
	args    []any
	// ids and names hold the ids, and the name keys with birth year, of
	// the rows this import added: what is not in them is not among those
	// rows.
	ids, names bloom
	// bulk: the import has turned to bulk (see BeginImport). deferred
	// are the indexes of patients dropped until Commit, by name, with the
	// SQL that makes them; keepIndexes says never to drop them (a
	// duplicate check needs them). Rows from tokenized on are not in the
	// token index yet.
	bulk        bool
	deferred    [][2]string
	keepIndexes bool
	tokenized   int64
	// words are the name words of the rows written, for name_words at
	// Commit: as many as there are distinct names of several words.
	words map[nameWord]bool

	insertBatch, insert, index, unindex, load, update, byName *sql.Stmt
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
	var last int64
	if err := im.tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM patients`).Scan(&last); err != nil {
		return err
	}
	im.counterAtStart = im.counter
	im.nextSeq, im.firstSeq, im.tokenized, im.empty = last+1, last+1, last+1, last == 0
	for _, s := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&im.insertBatch, insertRowsSQL(importBatch)},
		{&im.insert, insertRowsSQL(1)},
		{&im.index, indexTokensSQL},
		{&im.unindex, unindexTokensSQL},
		{&im.load, `SELECT seq, tokens, ` + patientColumns + ` FROM patients WHERE id = ?`},
		{&im.update, `UPDATE patients SET first_name = ?, last_name = ?, birth_year = ?, gender = ?,
			email = ?, phone = ?, diagnosis_code = ?, archived = 0, updated_at = ?,
			version = version + 1, first_key = ?, last_key = ?, tokens = ?, other = ? WHERE seq = ?`},
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
	return nil
}

// insertRowsSQL inserts n patients with their seq.
func insertRowsSQL(n int) string {
	row := "(" + strings.Repeat("?, ", insertedColumns-1) + "?)"
	return `INSERT OR FAIL INTO patients (seq, ` + insertColumns + `) VALUES ` + strings.Repeat(row+", ", n-1) + row
}

func (im *patientImport) closeStatements() {
	for _, st := range []*sql.Stmt{im.insertBatch, im.insert, im.index, im.unindex, im.load, im.update, im.byName} {
		if st != nil {
			st.Close()
		}
	}
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
		// The counter is past every id made of digits (CreatePatient and
		// Upsert move it), so the next number is free; the UNIQUE index
		// stands guard all the same.
		im.counter++
		return true, im.create(ctx, p, strconv.FormatInt(im.counter, 10), now)
	}
	if im.ids.mayHold(p.ID) {
		if err := im.flush(ctx); err != nil {
			return false, err
		}
	} else if im.empty {
		return true, im.createWithID(ctx, p, now)
	}
	var (
		seq       int64
		oldTokens string
	)
	stored, err := scanPatient(withSeq(im.load.QueryRowContext(ctx, p.ID), &seq, &oldTokens))
	if errors.Is(err, sql.ErrNoRows) {
		return true, im.createWithID(ctx, p, now)
	}
	if err != nil {
		return false, fmt.Errorf("import patient %s: %w", p.ID, err)
	}
	if sameFields(stored, p) && !stored.Archived {
		p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = stored.CreatedAt, stored.UpdatedAt, stored.Version, false
		return false, nil
	}
	d := derive(p)
	im.addWords(d)
	if _, err := im.update.ExecContext(ctx, p.FirstName, p.LastName, p.BirthYear, string(p.Gender), p.Email,
		p.Phone, p.DiagnosisCode, toDB(now), d.firstKey, d.lastKey, d.tokens, d.other, seq); err != nil {
		return false, fmt.Errorf("import patient %s: %w", p.ID, err)
	}
	// This import's rows not yet in the token index go there later, as
	// they are then.
	if seq < im.tokenized && oldTokens != d.tokens {
		if oldTokens != "" {
			if _, err := im.unindex.ExecContext(ctx, seq, oldTokens); err != nil {
				return false, fmt.Errorf("import patient %s: unindex: %w", p.ID, err)
			}
		}
		if d.tokens != "" {
			if _, err := im.index.ExecContext(ctx, seq, d.tokens); err != nil {
				return false, fmt.Errorf("import patient %s: index: %w", p.ID, err)
			}
		}
	}
	p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = stored.CreatedAt, now, stored.Version+1, false
	return false, nil
}

// createWithID queues a new row with the id p has, moving the counter past
// it when it is a number.
func (im *patientImport) createWithID(ctx context.Context, p *core.Patient, now time.Time) error {
	if n, ok := numericID(p.ID); ok && n > im.counter {
		im.counter = n
	}
	return im.create(ctx, p, p.ID, now)
}

// create queues a new row with id and sets p's stored fields.
func (im *patientImport) create(ctx context.Context, p *core.Patient, id string, now time.Time) error {
	q := *p
	q.ID, q.Archived = id, false
	q.CreatedAt, q.UpdatedAt, q.Version = now, now, 1
	d := derive(&q)
	im.addWords(d)
	im.pending = append(im.pending, pendingRow{p: q, d: d, seq: im.nextSeq})
	im.nextSeq++
	im.ids.add(id)
	im.names.add(nameYear(d.lastKey, d.firstKey, q.BirthYear))
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version, p.Archived = id, now, now, 1, false
	if len(im.pending) == importBatch {
		return im.flush(ctx)
	}
	return nil
}

func (im *patientImport) addWords(d derived) {
	for _, w := range d.words {
		if im.words == nil {
			im.words = map[nameWord]bool{}
		}
		im.words[w] = true
	}
}

// nameYear is what FindByNameYear compares, as one string for the filter.
func nameYear(lastKey, firstKey string, year int) string {
	return lastKey + "\x00" + firstKey + "\x00" + strconv.Itoa(year)
}

// flush writes the pending rows.
func (im *patientImport) flush(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	if err := im.maybeBulk(ctx); err != nil {
		return err
	}
	for len(im.pending) > 0 {
		insert, n := im.insert, 1
		if len(im.pending) >= importBatch {
			insert, n = im.insertBatch, importBatch
		}
		args := im.args[:0]
		for i := range im.pending[:n] {
			r := &im.pending[i]
			at := toDB(r.p.CreatedAt)
			args = append(args, r.seq, r.p.ID, r.d.idKey, r.p.FirstName, r.p.LastName, r.p.BirthYear, string(r.p.Gender),
				r.p.Email, r.p.Phone, r.p.DiagnosisCode, 0, at, at, 1, r.d.firstKey, r.d.lastKey, r.d.tokens, r.d.other)
		}
		im.args = args
		if _, err := insert.ExecContext(ctx, args...); err != nil {
			if isUnique(err) {
				return fmt.Errorf("import patients: an id is already taken: %w", err)
			}
			return fmt.Errorf("import patients: %w", err)
		}
		clear(im.pending[:n])
		im.pending = im.pending[n:]
	}
	im.pending = im.pending[:0:cap(im.pending)]
	clear(im.args)
	if im.bulk && im.nextSeq-im.tokenized >= im.db.tokenBatch {
		return im.tokenize(ctx)
	}
	return nil
}

// tokenize adds the rows from tokenized on to the token index, in one
// statement.
func (im *patientImport) tokenize(ctx context.Context) error {
	if im.tokenized == im.nextSeq {
		return nil
	}
	if _, err := im.tx.ExecContext(ctx, `INSERT INTO patient_tokens (rowid, tokens)
		SELECT seq, tokens FROM patients WHERE seq >= ? AND tokens <> ''`, im.tokenized); err != nil {
		return fmt.Errorf("import patients: index tokens: %w", err)
	}
	im.tokenized = im.nextSeq
	return nil
}

// tokenSettings are the token index's merge settings during a bulk
// import and as usual (FTS5's defaults), in that order. They are stored in
// the index, so Commit puts them back.
var tokenSettings = [...]struct {
	name       string
	bulk, done int
}{
	{"automerge", 0, 4},
	{"crisismerge", 64, 16},
	{"hashsize", tokenHashSize, 1 << 20},
}

func (im *patientImport) setTokenSettings(ctx context.Context, bulk bool) error {
	for _, s := range tokenSettings {
		v := s.done
		if bulk {
			v = s.bulk
		}
		if _, err := im.tx.ExecContext(ctx, `INSERT INTO patient_tokens (patient_tokens, rank) VALUES (?, ?)`, s.name, v); err != nil {
			return fmt.Errorf("token index setting %s: %w", s.name, err)
		}
	}
	return nil
}

// maybeBulk turns the import to bulk once it has added more rows than the
// directory had at its start (and bulkAfter), or at once into an empty
// directory: building the indexes again at Commit then costs less than
// keeping them up to date row by row.
func (im *patientImport) maybeBulk(ctx context.Context) error {
	added := im.nextSeq - im.firstSeq
	if im.bulk || (!im.empty && (added < bulkAfter || added < im.firstSeq-1)) {
		return nil
	}
	im.bulk = true
	if err := im.setTokenSettings(ctx, true); err != nil {
		return fmt.Errorf("import patients: %w", err)
	}
	if im.keepIndexes {
		return nil
	}
	rows, err := im.tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND tbl_name = 'patients' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		return fmt.Errorf("import patients: defer indexes: %w", err)
	}
	var deferred [][2]string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("import patients: defer indexes: %w", err)
		}
		deferred = append(deferred, [2]string{name, def})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("import patients: defer indexes: %w", err)
	}
	for _, ix := range deferred {
		if _, err := im.tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(ix[0], `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("import patients: defer index %s: %w", ix[0], err)
		}
	}
	im.deferred = deferred
	return nil
}

// buildIndexes makes the deferred indexes again.
func (im *patientImport) buildIndexes(ctx context.Context) error {
	for _, ix := range im.deferred {
		if _, err := im.tx.ExecContext(ctx, ix[1]); err != nil {
			return fmt.Errorf("build index %s: %w", ix[0], err)
		}
	}
	im.deferred = nil
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
	lastKey, firstKey := search.Key(last), search.Key(first)
	if im.names.mayHold(nameYear(lastKey, firstKey, birthYear)) {
		if err := im.flush(ctx); err != nil {
			return "", err
		}
	} else if im.empty {
		return "", nil
	}
	// The question needs the index on names from now on.
	im.keepIndexes = true
	if err := im.buildIndexes(ctx); err != nil {
		return "", fmt.Errorf("find patient by name and birth year: %w", err)
	}
	var id string
	err := im.byName.QueryRowContext(ctx, lastKey, firstKey, birthYear).Scan(&id)
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
	im.truncateLog()
	im.release()
	return nil
}

// truncateLog empties the write-ahead log the import filled. Its pages are
// in the database file by now (the commit's checkpoint copied them), but
// until the next write every read would still look them up in the log
// and read them from there, at the log's size on disk, instead of from
// the mapped database file. A reader in the middle of a read can keep the
// log from being truncated: then it stays as it is, which is only slower,
// rather than hold up the import's end waiting for the reader.
func (im *patientImport) truncateLog() {
	ctx := context.Background()
	if _, err := im.conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return
	}
	var busy, log, done int
	im.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done)
}

// finish writes what waits: the rows, the id counter, the deferred
// indexes, and the new rows' tokens.
func (im *patientImport) finish(ctx context.Context) error {
	if err := im.flush(ctx); err != nil {
		return err
	}
	if im.counter != im.counterAtStart {
		if _, err := im.tx.ExecContext(ctx, `UPDATE counters SET value = max(value, ?) WHERE name = 'patient'`, im.counter); err != nil {
			return err
		}
	}
	if err := im.buildIndexes(ctx); err != nil {
		return err
	}
	if err := im.tokenize(ctx); err != nil {
		return err
	}
	words := slices.SortedFunc(maps.Keys(im.words), func(a, b nameWord) int {
		return cmp.Or(strings.Compare(a.word, b.word), strings.Compare(a.kind, b.kind), strings.Compare(a.key, b.key))
	})
	for _, w := range words {
		if _, err := im.tx.ExecContext(ctx, addWordsSQL, w.word, w.kind, w.key); err != nil {
			return fmt.Errorf("name words: %w", err)
		}
	}
	if !im.bulk {
		return nil
	}
	// The import is most of the directory: one segment makes each search
	// of the token index visit one B-tree.
	if _, err := im.tx.ExecContext(ctx, `INSERT INTO patient_tokens (patient_tokens) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("merge the token index: %w", err)
	}
	return im.setTokenSettings(ctx, false)
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

// bloom is a Bloom filter of strings: mayHold is false for a string never
// added, and true for an added one (and, rarely, for another). It takes
// memory only once something is added.
type bloom struct {
	bits []uint64
}

// bloomBits is the size of a filter: 16 Mbit (2 MB) answer wrongly for
// about 0.2% of the strings not added after a million were.
const bloomBits = 1 << 24

// positions are the two hashes the filter's four bits are derived from:
// 64-bit FNV-1a, then a finalizer that spreads its bits.
func positions(s string) (h1, h2 uint64) {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h, h>>32 | h<<32 | 1
}

func (b *bloom) add(s string) {
	if b.bits == nil {
		b.bits = make([]uint64, bloomBits/64)
	}
	h1, h2 := positions(s)
	for i := range uint64(4) {
		bit := (h1 + i*h2) % bloomBits
		b.bits[bit/64] |= 1 << (bit % 64)
	}
}

func (b *bloom) mayHold(s string) bool {
	if b.bits == nil {
		return false
	}
	h1, h2 := positions(s)
	for i := range uint64(4) {
		bit := (h1 + i*h2) % bloomBits
		if b.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
