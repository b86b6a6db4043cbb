// Package sqlite is the embedded store of one desk: the whole directory in
// one SQLite file in the data directory, with an FTS5 token index for search
// as you type. It implements core.Store and passes the shared contract suite
// in ptdesk/core/storetest, like every other backend.
//
// The file is opened in WAL mode with a busy timeout, and every write
// transaction begins IMMEDIATE, so that the desktop app and the command line
// can use the same data directory at the same time: readers never wait and
// writers queue instead of failing.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"ptdesk/core"
)

// Compile-time check that DB is a complete store.
var _ core.Store = (*DB)(nil)

// cacheSize is each connection's page cache, in the negative KiB of PRAGMA
// cache_size: the upper levels of every index of a large directory and the
// pages that the last searches read, which is what search as you type reads
// again. A page beyond it is read from the operating system's cache. The
// desktop app keeps it all day, per connection (see maxIdleConns), so it is
// kept small.
const cacheSize = -8 << 10

// mmapSize is how much of the file each connection maps into memory (PRAGMA
// mmap_size): none. A map saves copying pages out of the operating system's
// cache, which search as you type, reading few pages and most of them from
// the page cache, does not measurably gain from. But every page read through
// a map stays mapped, and counted in the program's resident memory, for as
// long as the connection lives, together with the neighbouring pages that
// Linux maps with it (16 at a time): in the desktop app, which runs all day,
// the map grows towards the whole file once per connection, where the page
// cache stays within cacheSize.
const mmapSize = 0

// maxIdleConns is how many connections stay open between queries: one for
// the window's searches and one for the work done beside them (the check
// whether the selected patient can be opened, the program listener). Each
// has its own page cache and prepared statements, which search as you type
// relies on; a connection idle for connMaxIdleTime is closed, which gives its
// page cache back while the desktop app waits in the tray.
const (
	maxIdleConns    = 2
	connMaxIdleTime = 5 * time.Minute
)

// BusyTimeout is how long a write waits for another connection's write (the
// other program, or an import in progress) before it gives up.
const BusyTimeout = 5 * time.Second

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the directory in one SQLite file. It is safe for concurrent use.
type DB struct {
	sql  *sql.DB
	path string
	now  func() time.Time

	// way is how tier 3 of a search is read: wayAuto, or one way always
	// for tests that check both.
	way int
	// tokenBatch is an import's tokenBatch; tests lower it.
	tokenBatch int64

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// Option changes how Open sets up a DB.
type Option func(*DB)

// WithNow sets the clock that stamps created, updated and opened times; the
// default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(db *DB) {
		if now != nil {
			db.now = now
		}
	}
}

// Open opens the SQLite file at path, creating it (readable by its owner
// only) and its directory if needed, and brings its schema up to date. Two
// processes may open the same file at once.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	db := &DB{path: path, now: time.Now, tokenBatch: tokenBatch, stmts: map[string]*sql.Stmt{}}
	for _, o := range opts {
		o(db)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open db: create directory: %w", err)
	}
	// Create the file ourselves so that it, and the -wal and -shm files
	// SQLite gives the same mode, are private to the user.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	sqldb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	sqldb.SetMaxIdleConns(maxIdleConns)
	sqldb.SetConnMaxIdleTime(connMaxIdleTime)
	db.sql = sqldb
	if err := db.migrateWhenFree(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open db %s: %w", filepath.Base(path), err)
	}
	return db, nil
}

// migrateWhenFree migrates, retrying for up to BusyTimeout while another
// process holds the file. SQLite does not wait by itself in one case: while
// another connection turns a new file to WAL, switching the journal mode
// fails at once with SQLITE_BUSY.
func (db *DB) migrateWhenFree(ctx context.Context) error {
	deadline := time.Now().Add(BusyTimeout)
	for {
		err := db.migrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// dsn is the connection string: every connection gets the busy timeout
// first, then WAL, foreign keys and FULL sync: a commit is in the log on
// disk when it returns, so that what PT Desk has said is saved (a patient,
// a key's record, an import, a webhook answered 200) survives a power cut,
// not only a crash of the program, for the price of one sync per commit.
// Write transactions take the write lock when they begin, so two writers
// never deadlock upgrading read locks.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", cacheSize))
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", mmapSize))
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the prepared statements and the connections.
func (db *DB) Close() error {
	db.mu.Lock()
	for k, s := range db.stmts {
		s.Close()
		delete(db.stmts, k)
	}
	db.mu.Unlock()
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close db: %w", err)
	}
	return nil
}

// stmt returns the prepared statement for query, preparing it once. The
// statements are few and fixed (search builds at most a handful of shapes
// per number of terms), so the cache needs no eviction.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if s, ok := db.stmts[query]; ok {
		return s, nil
	}
	s, err := db.sql.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.stmts[query] = s
	return s, nil
}

// migrate applies the migrations the file lacks, all in one write
// transaction: a second process opening the file at the same moment waits
// for it and then finds nothing left to do.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := core.LoadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", db.busy(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	newest := 0
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
		newest = max(newest, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].Version {
		return core.Errorf(core.EINTERNAL, "", "The data directory was written by a newer PT Desk (schema %d, this one knows %d); update PT Desk.", newest, ms[len(ms)-1].Version)
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, toDB(db.now())); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", db.busy(err))
	}
	return nil
}

// SchemaVersion is the number of the newest migration applied to the file.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.sql.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// stamp is the current time as the store keeps it: UTC, to the microsecond
// (what every backend can store exactly).
func (db *DB) stamp() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

func toDB(t time.Time) int64 { return t.UnixMicro() }

func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }

// busy turns SQLite's "database is locked" after the busy timeout into a
// sentence a person can act on; other errors pass through.
func (db *DB) busy(err error) error {
	if isBusy(err) {
		return &busyError{
			reason: core.Errorf(core.ECONFLICT, "", "The patient directory is busy: another program or an import is writing to it. Try again in a moment."),
			cause:  err,
		}
	}
	return err
}

// isBusy reports SQLITE_BUSY (any extended code) anywhere in err's chain.
func isBusy(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3lib.SQLITE_BUSY
}

// busyError is the *core.Error that explains a timed-out lock, with the
// driver's error kept in the chain.
type busyError struct {
	reason *core.Error
	cause  error
}

func (b *busyError) Error() string { return b.reason.Message }

func (b *busyError) Unwrap() []error { return []error{b.reason, b.cause} }

// isUnique reports a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	var se *sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY
}

// nextID takes the next number of counter name that no row of table uses.
func nextID(ctx context.Context, tx *sql.Tx, counter, table string) (string, error) {
	for {
		var n int64
		if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value`, counter).Scan(&n); err != nil {
			return "", fmt.Errorf("next %s id: %w", counter, err)
		}
		id := strconv.FormatInt(n, 10)
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		}
		if err != nil {
			return "", fmt.Errorf("next %s id: %w", counter, err)
		}
	}
}

// skipID moves counter name past an explicit id made of digits, so that a
// later assigned id never equals it.
func skipID(ctx context.Context, tx *sql.Tx, counter, id string) error {
	n, ok := numericID(id)
	if !ok {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE counters SET value = max(value, ?) WHERE name = ?`, n, counter); err != nil {
		return fmt.Errorf("advance %s counter: %w", counter, err)
	}
	return nil
}

// numericID parses an id made only of digits that fits in an int64.
func numericID(id string) (int64, bool) {
	if id == "" {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}
