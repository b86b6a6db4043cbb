// Package desk holds PT Desk's use cases — find, add and open patients, set
// up practitioners and their keys, import, audit — as the one API that the
// desktop app (ui/) and the command line (cmd/ptdeskctl) call. It is also
// where the adapters are wired together.
package desk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"ptdesk/core"
	"ptdesk/core/phone"
	"ptdesk/core/ptsso"
)

// Desk is one workstation's view of the clinic: a store, the keyring, and a
// launcher for Physitrack.
type Desk struct {
	store    core.Store
	secrets  core.SecretStore
	opener   ptsso.Opener
	now      func() time.Time
	deskUser string
	log      *slog.Logger
	home     string

	launchMu sync.Mutex
	launch   *ptsso.Server

	storeIDMu sync.Mutex
	storeID   string
}

// Options wires a Desk. Store and Secrets are required.
type Options struct {
	Store   core.Store
	Secrets core.SecretStore
	// Opener opens the launch URL in the browser; nil means the system's.
	Opener ptsso.Opener
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DeskUser names who is signed in to the computer, for the audit log;
	// empty means the operating system's user name.
	DeskUser string
	// Logger receives operational messages (never secrets); nil discards.
	Logger *slog.Logger
	// Home is the data directory, shown to users; optional.
	Home string
}

// New wires a Desk from opts.
func New(opts Options) *Desk {
	d := &Desk{
		store:    opts.Store,
		secrets:  opts.Secrets,
		opener:   opts.Opener,
		now:      opts.Now,
		deskUser: opts.DeskUser,
		log:      opts.Logger,
		home:     opts.Home,
	}
	if d.opener == nil {
		d.opener = ptsso.SystemOpener{}
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.deskUser == "" {
		d.deskUser = currentUser()
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// Close stops the launch server and closes the store.
func (d *Desk) Close() error {
	d.launchMu.Lock()
	if d.launch != nil {
		d.launch.Close()
		d.launch = nil
	}
	d.launchMu.Unlock()
	return d.store.Close()
}

// Store gives adapters wired by the caller (listener, importer) the store.
func (d *Desk) Store() core.Store { return d.store }

// Home is the data directory this desk works on ("" when not file based).
func (d *Desk) Home() string { return d.home }

// Now is the desk's clock.
func (d *Desk) Now() time.Time { return d.now() }

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "unknown"
}

// HomeDir resolves the data directory: the flag if given, else
// $PTDESK_HOME, else the user's configuration directory + "/ptdesk".
func HomeDir(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if env := os.Getenv("PTDESK_HOME"); env != "" {
		return filepath.Abs(env)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the data directory: %w (set PTDESK_HOME)", err)
	}
	return filepath.Join(dir, "ptdesk"), nil
}

// phoneNormalizer binds phone normalization to the clinic's region.
func (d *Desk) phoneNormalizer(ctx context.Context) (core.PhoneNormalizer, error) {
	s, err := d.store.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return phone.Normalizer(s.PhoneRegion), nil
}
