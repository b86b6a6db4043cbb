package desk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"ptdesk/core"
	"ptdesk/core/ptsso"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

// DatabaseFile is the SQLite file inside the data directory.
const DatabaseFile = "ptdesk.db"

// HomeOptions says where a desk keeps its data.
type HomeOptions struct {
	// Home is the data directory; "" resolves as HomeDir does.
	Home string
	// DB is a database connection string; "" means $PTDESK_DB, else the
	// SQLite file in Home.
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
	store, err := sqlite.Open(ctx, filepath.Join(home, DatabaseFile))
	if err != nil {
		return nil, fmt.Errorf("open the directory in %s: %w", home, err)
	}
	sec := o.Secrets
	if sec == nil {
		sec = secrets.NewKeyring("")
	}
	return New(Options{Store: store, Secrets: sec, Opener: o.Opener, Now: o.Now, Logger: o.Logger, Home: home}), nil
}
