// Package postgres is the shared store of a clinic: one PostgreSQL database
// that every desk and the clinic's webhook server use at once. It
// implements core.Store and core.ProgramStore and passes the same contract
// suite (ptdesk/core/storetest) as the SQLite store of a single desk, so
// that a desk behaves the same on either; what only a shared store needs
// comes on top:
//
//   - ids come from sequences, so that two desks never hand out the same
//     one, and an explicit id made of digits moves its sequence past it;
//   - an edit carries the version it started from, and one refused
//     because another desk changed the patient since says which fields
//     that desk changed;
//   - every write sends a notification (LISTEN/NOTIFY) that the other
//     desks turn into a refresh of what they show (see Changes);
//   - program PDFs are kept in the database, so every desk can open them;
//   - desks report which practitioners' keys their keyrings hold (by
//     fingerprint), so an admin sees where a key is set up.
//
// Search folds names in Go (ptdesk/core/search) and keeps the folded keys
// and tokens in columns compared as bytes (COLLATE "C"), read by B-tree
// ranges, with a built-in full-text index over the same tokens for terms
// that are each common: no extension is needed, and the answers are those
// of SQLite to the byte (see search.go).
//
// The schema is created and updated by embedded, numbered migrations, run
// under an advisory lock so that desks starting together do not collide.
// Everything lives in the connection's current schema (the first of its
// search_path), which lets several directories, or several test runs,
// share one database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"ptdesk/core"
)

// Compile-time checks that DB is a complete store for a clinic.
var (
	_ core.Store            = (*DB)(nil)
	_ core.ProgramStore     = (*DB)(nil)
	_ core.ChangeFeed       = (*DB)(nil)
	_ core.KeyPresenceStore = (*DB)(nil)
)

// DefaultApplicationName is how the store's connections name themselves to
// the server (pg_stat_activity) unless the connection string says
// otherwise.
const DefaultApplicationName = "ptdesk"

// exactSearchLimit is the number of candidate rows up to which a search
// puts them all in order (from their index rows alone, see search.go);
// above it, reading the name indexes in order, or intersecting the terms
// in the full-text index, finds the first page sooner.
const exactSearchLimit = 1000

//go:embed migrations/*.sql
var migrations embed.FS

// querier is what the store runs statements on: the pool, or one
// transaction (see Transfer), whose Begin makes a savepoint.
type querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// DB is a clinic's directory in a PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	pool *pgxpool.Pool
	q    querier
	now  func() time.Time
	log  *slog.Logger

	// schema is where the tables are; channel is the notification channel
	// of this schema's directory.
	schema, channel string

	// exactLimit is exactSearchLimit and probeBudget probeBudget; tests
	// lower them to exercise every way of answering a search.
	exactLimit, probeBudget int

	feed *feed
}

// Option changes how Open sets up a DB.
type Option func(*DB)

// WithNow sets the clock that stamps created, updated and opened times;
// the default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(db *DB) {
		if now != nil {
			db.now = now
		}
	}
}

// WithLogger receives what the store does on its own: losing and
// regaining the notification connection. Nothing it logs is secret. The
// default discards.
func WithLogger(l *slog.Logger) Option {
	return func(db *DB) {
		if l != nil {
			db.log = l
		}
	}
}

// Open connects to the database at url (postgres://user@host:5432/db...),
// and creates or updates the schema in the connection's current schema.
// The connection string may set any server setting as a parameter, such as
// search_path=clinic or application_name=reception. Errors never repeat
// the connection string, which may hold a password.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	db := &DB{now: time.Now, log: slog.New(slog.DiscardHandler), exactLimit: exactSearchLimit, probeBudget: probeBudget}
	for _, o := range opts {
		o(db)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, core.Errorf(core.EINVALID, "db", "The database address is not a PostgreSQL connection string like postgres://user@host:5432/clinic; check --db or PTDESK_DB.")
	}
	params := cfg.ConnConfig.RuntimeParams
	if params["application_name"] == "" {
		params["application_name"] = DefaultApplicationName
	}
	// A commit is on disk when it returns, whatever the server's default:
	// a webhook is answered 200 only after its event is committed.
	// (Waiting for a synchronous standby, or not, stays the server's or
	// the connection string's choice.)
	if sc := params["synchronous_commit"]; sc == "" || sc == "off" {
		params["synchronous_commit"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open db: %w", unreachable(cfg.ConnConfig, err))
	}
	db.pool, db.q = pool, retryingPool{pool: pool}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open db: %w", unreachable(cfg.ConnConfig, err))
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open db: %w", unreachable(cfg.ConnConfig, err))
	}
	db.channel = channelName(db.schema)
	db.feed = newFeed(db)
	return db, nil
}

// channelName is the notification channel of the directory in schema:
// notifications are per database, so each schema has its own.
func channelName(schema string) string {
	c := "ptdesk_changes"
	if schema != "public" {
		c += "." + schema
	}
	if len(c) > 63 { // the server's identifier limit
		c = c[:63]
	}
	return c
}

// Close stops the notification listener and closes every connection.
func (db *DB) Close() error {
	if db.feed != nil {
		db.feed.close()
	}
	if db.pool != nil {
		db.pool.Close()
	}
	return nil
}

// Schema is the schema that holds the directory's tables.
func (db *DB) Schema() string { return db.schema }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping db: %w", unreachable(db.pool.Config().ConnConfig, err))
	}
	return nil
}

// Vacuum brings the patient tables' statistics and visibility map up to
// date, as autovacuum does in time: after a large import or a migration,
// so that search reads its indexes alone straight away.
func (db *DB) Vacuum(ctx context.Context) error {
	if db.pool == nil {
		return errors.New("vacuum: not inside a transfer")
	}
	if _, err := db.pool.Exec(ctx, `VACUUM (ANALYZE) patients, patient_tokens`); err != nil {
		return fmt.Errorf("vacuum: %w", db.unreachable(err))
	}
	return nil
}

// migrationLock is the first half of the advisory lock key taken while
// migrating; the second is a hash of the schema's name, so that
// directories in different schemas migrate independently.
const migrationLock = 0x70746473 // "ptds"

// migrate applies the migrations the schema lacks, each in its own
// transaction, while holding an advisory lock: a second desk starting at
// the same moment waits, then finds nothing left to do.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := core.LoadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if schema == nil {
		return core.Errorf(core.EINVALID, "db", "The database has no schema to keep the directory in: the search_path of the connection names none that exists. Create the schema, or fix search_path in --db or PTDESK_DB.")
	}
	db.schema = *schema
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrationLock); err != nil {
		return fmt.Errorf("migrate: wait for another desk's migration: %w", err)
	}
	defer func() {
		// A failed unlock (a broken connection) ends with the session,
		// which the pool then discards.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrationLock)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	newest := 0
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
		newest = max(newest, v)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].Version {
		return core.Errorf(core.EINTERNAL, "db", "The clinic database was set up by a newer PT Desk (schema %d, this one knows %d); update PT Desk on this computer.", newest, ms[len(ms)-1].Version)
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, db.stamp())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

// SchemaVersion is the number of the newest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// stamp is the current time as the store keeps it: UTC, to the microsecond
// (what timestamptz holds).
func (db *DB) stamp() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// at is t as stored, or now when t is zero.
func (db *DB) at(t time.Time) time.Time {
	if t.IsZero() {
		return db.stamp()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// inTx runs fn in a transaction (a savepoint inside a Transfer), committing
// when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.q.Begin(ctx)
	if err != nil {
		return db.unreachable(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return db.unreachable(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return db.unreachable(err)
	}
	return nil
}

// retryingPool runs statements on the pool, and runs a statement again,
// once, on a new connection when the one it got turned out to be lost
// before the statement ran: after the server restarted (or an
// administrator ended the store's sessions), every idle connection of the
// pool is dead, and the first use of each would otherwise fail. Only a
// transaction's first statement (BEGIN) and statements outside a
// transaction are run again; a transaction that loses its connection
// midway fails, and nothing of it was committed.
type retryingPool struct{ pool *pgxpool.Pool }

// again runs fn, and once more after discarding the pool's connections
// when it failed for a lost connection.
func (r retryingPool) again(ctx context.Context, fn func() error) error {
	err := fn()
	if err != nil && lostConnection(err) && ctx.Err() == nil {
		r.pool.Reset()
		err = fn()
	}
	return err
}

func (r retryingPool) Begin(ctx context.Context) (tx pgx.Tx, err error) {
	err = r.again(ctx, func() error { tx, err = r.pool.Begin(ctx); return err })
	return tx, err
}

func (r retryingPool) Exec(ctx context.Context, sql string, args ...any) (tag pgconn.CommandTag, err error) {
	err = r.again(ctx, func() error { tag, err = r.pool.Exec(ctx, sql, args...); return err })
	return tag, err
}

func (r retryingPool) Query(ctx context.Context, sql string, args ...any) (rows pgx.Rows, err error) {
	err = r.again(ctx, func() error { rows, err = r.pool.Query(ctx, sql, args...); return err })
	return rows, err
}

func (r retryingPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return retryingRow{r: r, ctx: ctx, sql: sql, args: args}
}

func (r retryingPool) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	// A source cannot be read twice: no second try.
	return r.pool.CopyFrom(ctx, table, columns, src)
}

// retryingRow is QueryRow's row, run when scanned.
type retryingRow struct {
	r    retryingPool
	ctx  context.Context
	sql  string
	args []any
}

func (row retryingRow) Scan(dest ...any) error {
	return row.r.again(row.ctx, func() error { return row.r.pool.QueryRow(row.ctx, row.sql, row.args...).Scan(dest...) })
}

// lostConnection reports an error that says the connection was gone or
// ended by the server, rather than refused (authentication, a missing
// database), which trying again would not change.
func lostConnection(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	return isConnectionError(err)
}

// notify queues a change notice, sent when tx commits.
func (db *DB) notify(ctx context.Context, q querier, kind, id string) error {
	if _, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, db.channel, encodeChange(core.Change{Kind: kind, ID: id})); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// notifySQL is the SQL expression that sends c from within a statement
// (c's payload as parameter p).
func (db *DB) notifySQL(p string) string {
	return `pg_notify('` + strings.ReplaceAll(db.channel, `'`, `''`) + `', ` + p + `)`
}

// isUnique reports a unique or primary key violation, of constraint when
// it is not "".
func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// isForeignKey reports a foreign key violation.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// unreachable turns a failure to reach the server into a sentence a person
// can act on, naming the server but never the connection string; other
// errors pass through.
func (db *DB) unreachable(err error) error {
	if db.pool == nil {
		return unreachable(nil, err)
	}
	return unreachable(db.pool.Config().ConnConfig, err)
}

func unreachable(cfg *pgx.ConnConfig, err error) error {
	if err == nil || !isConnectionError(err) {
		return err
	}
	where := "the clinic database"
	if cfg != nil {
		where = fmt.Sprintf("the clinic database %s on %s", cfg.Database, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	}
	return &unreachableError{
		reason: core.Errorf(core.EINTERNAL, "db", "Could not reach %s: %s. Check that the server is running and reachable from this computer, then try again.", where, reasonOf(err)),
		cause:  err,
	}
}

// isConnectionError reports errors of the connection rather than of the
// statement: the server down, restarted, unreachable or refusing us.
func isConnectionError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08 is connection exceptions; 57P01-57P03 the server
		// shutting down or starting; 28 refused authentication.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "28") || pe.Code == "3D000"
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.Is(err, net.ErrClosed)
}

// reasonOf is a short reason for a connection failure, without the
// connection string.
func reasonOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		if u := errors.Unwrap(ce); u != nil {
			return reasonOf(u)
		}
	}
	return "the connection failed"
}

// unreachableError is the *core.Error that explains an unreachable server,
// with the driver's error kept in the chain.
type unreachableError struct {
	reason *core.Error
	cause  error
}

func (u *unreachableError) Error() string { return u.reason.Message }

func (u *unreachableError) Unwrap() []error { return []error{u.reason, u.cause} }
