package desk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ptdesk/core"
	"ptdesk/core/postgres"
	"ptdesk/core/ptsso"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

// DatabaseFile is the SQLite file inside the data directory.
const DatabaseFile = "ptdesk.db"

// DatabaseEnv names the variable that chooses the store when HomeOptions.DB
// is empty.
const DatabaseEnv = "PTDESK_DB"

// HomeOptions says where a desk keeps its data.
type HomeOptions struct {
	// Home is the data directory; "" resolves as HomeDir does.
	Home string
	// DB is a database connection string; "" means $PTDESK_DB, else the
	// SQLite file in Home. See ParseDatabase for the forms.
	DB string
	// Secrets replaces the OS keyring (tests).
	Secrets core.SecretStore
	Opener  ptsso.Opener
	Now     func() time.Time
	Logger  *slog.Logger
}

// OpenHome opens (creating if needed) the data directory and its store, and
// wires a Desk to it and the OS keyring.
func OpenHome(ctx context.Context, o HomeOptions) (*Desk, error) {
	home, err := HomeDir(o.Home)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, core.Errorf(core.EINTERNAL, "home", "Could not create the data directory %s (%v); choose another with --home or PTDESK_HOME.", home, err)
	}
	dbSetting := o.DB
	if dbSetting == "" {
		dbSetting = os.Getenv(DatabaseEnv)
	}
	store, err := OpenStore(ctx, dbSetting, home, o.Logger)
	if err != nil {
		return nil, err
	}
	sec := o.Secrets
	if sec == nil {
		sec = secrets.NewKeyring("")
	}
	return New(Options{Store: store, Secrets: sec, Opener: o.Opener, Now: o.Now, Logger: o.Logger, Home: home}), nil
}

// Database is a parsed store setting.
type Database struct {
	// Kind is "sqlite" or "postgres".
	Kind string
	// Path is the SQLite file; URL the PostgreSQL connection string.
	Path, URL string
}

// ParseDatabase reads a store setting: "" or "sqlite:" for the SQLite file
// in home, "sqlite:PATH" for another SQLite file (or the one in the data
// directory PATH), and a postgres:// or postgresql:// URL for a clinic's
// PostgreSQL database. Errors never repeat the setting, which may hold a
// password.
func ParseDatabase(s, home string) (Database, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://"):
		return Database{Kind: "postgres", URL: s}, nil
	case s == "" || s == "sqlite:":
		return Database{Kind: "sqlite", Path: filepath.Join(home, DatabaseFile)}, nil
	case strings.HasPrefix(s, "sqlite:"):
		p, err := filepath.Abs(strings.TrimPrefix(s, "sqlite:"))
		if err != nil {
			return Database{}, core.Errorf(core.EINVALID, "db", "The SQLite path in the database setting is not usable (%v).", err)
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, DatabaseFile)
		}
		return Database{Kind: "sqlite", Path: p}, nil
	}
	return Database{}, core.Errorf(core.EINVALID, "db", "The database setting must be sqlite:PATH or a PostgreSQL URL like postgres://user@host:5432/clinic (from --db or %s).", DatabaseEnv)
}

// OpenStore opens the store a setting names (see ParseDatabase), with the
// SQLite file in home as the default. log receives what a shared store
// does on its own (losing and regaining its connection); nil discards.
func OpenStore(ctx context.Context, setting, home string, log *slog.Logger) (core.Store, error) {
	db, err := ParseDatabase(setting, home)
	if err != nil {
		return nil, err
	}
	switch db.Kind {
	case "postgres":
		var opts []postgres.Option
		if log != nil {
			opts = append(opts, postgres.WithLogger(log))
		}
		store, err := postgres.Open(ctx, db.URL, opts...)
		if err != nil {
			return nil, fmt.Errorf("open the clinic database: %w", err)
		}
		return store, nil
	default:
		store, err := sqlite.Open(ctx, db.Path)
		if err != nil {
			return nil, fmt.Errorf("open the directory in %s: %w", filepath.Dir(db.Path), err)
		}
		return store, nil
	}
}

// TestDatabase connects to the database a setting names and opens its
// directory (creating or updating the schema, as any desk would), for the
// settings screen's "Test connection". It keeps nothing open.
func TestDatabase(ctx context.Context, setting, home string) error {
	store, err := OpenStore(ctx, setting, home, nil)
	if err != nil {
		return err
	}
	if _, err := store.CountPatients(ctx); err != nil {
		store.Close()
		return err
	}
	return store.Close()
}
