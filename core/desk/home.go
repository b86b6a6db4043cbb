package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
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
	// DB is a database connection string (the --db flag); "" means
	// $PTDESK_DB, else the database saved for this computer (SaveDatabase),
	// else the SQLite file in Home. See ChooseDatabase and ParseDatabase.
	DB string
	// Secrets replaces the OS keyring (tests).
	Secrets core.SecretStore
	Opener  ptsso.Opener
	Now     func() time.Time
	Logger  *slog.Logger
	// ReportKeys tells a shared store, once open, which practitioners'
	// keys this desk's keyring holds (ReportKeyPresence), as the app does
	// at start and the commands that use keys do. A failure is logged, not
	// returned: the desk works without it.
	ReportKeys bool
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
	sec := o.Secrets
	if sec == nil {
		sec = secrets.NewKeyring("")
	}
	choice, err := ChooseDatabase(home, o.DB, sec)
	if err != nil {
		return nil, err
	}
	store, err := OpenStore(ctx, choice.Setting, home, o.Logger)
	if err != nil {
		if choice.Source == SourceSaved {
			return nil, savedChoiceError(choice, err)
		}
		return nil, err
	}
	d := New(Options{Store: store, Secrets: sec, Opener: o.Opener, Now: o.Now, Logger: o.Logger, Home: home})
	if o.ReportKeys {
		d.reportKeys(ctx)
	}
	return d, nil
}

// savedChoiceError adds to a failure to open the database saved for this
// computer how to go back to the desk's own directory: without that, a
// desk whose clinic database is gone could not start at all.
func savedChoiceError(c DatabaseChoice, err error) error {
	reason := core.Errorf(core.ErrorCode(err), "db", "%s PT Desk uses this database because it was saved for this computer (in %s); to go back to this computer's own directory, run: ptdeskctl db use sqlite",
		strings.TrimSpace(core.ErrorMessage(err)), c.File)
	return &choiceError{reason: reason, cause: err}
}

// choiceError is the *core.Error that explains why a database choice
// failed to open or to save, with the original error kept in the chain.
type choiceError struct {
	reason *core.Error
	cause  error
}

func (e *choiceError) Error() string { return e.reason.Message }

func (e *choiceError) Unwrap() []error { return []error{e.reason, e.cause} }

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
	// A URL that could not be saved (SaveDatabase) fails here already.
	if db, err := ParseDatabase(setting, home); err == nil && db.Kind == "postgres" {
		if _, err := parsePostgresURL(db.URL); err != nil {
			return err
		}
	}
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

// DatabaseChoiceFile is the file in the data directory that keeps the
// database this computer's desk opens (ptdeskctl db use, or the app's
// Settings > Use this database). It never holds a password: a password of
// the connection string goes to the keyring, under the entry it names.
const DatabaseChoiceFile = "database.json"

// DatabaseSource says what chose the database a desk opens.
type DatabaseSource string

// The sources of a database choice, strongest first.
const (
	SourceFlag    DatabaseSource = "flag"    // the --db option
	SourceEnv     DatabaseSource = "env"     // the PTDESK_DB variable
	SourceSaved   DatabaseSource = "saved"   // DatabaseChoiceFile in the data directory
	SourceDefault DatabaseSource = "default" // none of those: the SQLite file in the data directory
)

// Describe says the source in a sentence's words.
func (s DatabaseSource) Describe() string {
	switch s {
	case SourceFlag:
		return "the --db option"
	case SourceEnv:
		return "the " + DatabaseEnv + " variable"
	case SourceSaved:
		return "the choice saved on this computer"
	}
	return "the default: this computer's own directory"
}

// DatabaseChoice is the database a desk opens and what chose it.
type DatabaseChoice struct {
	// Setting is the connection string (see ParseDatabase) with its
	// password, if it has one: give it to OpenStore, never show or log it
	// (Masked is for people). "" is the SQLite file in the data directory.
	Setting string
	Source  DatabaseSource
	// File is the file the choice was read from (SourceSaved).
	File string
}

// Masked is the setting with any password replaced, safe to print; the
// default reads "sqlite:".
func (c DatabaseChoice) Masked() string {
	if strings.TrimSpace(c.Setting) == "" {
		return "sqlite:"
	}
	return MaskDatabase(c.Setting)
}

// Shared reports whether the choice is a clinic's PostgreSQL database.
func (c DatabaseChoice) Shared() bool { return isPostgresURL(c.Setting) }

// ChooseDatabase says which database a desk on the data directory home
// opens, strongest first: flag (the --db option), $PTDESK_DB, the choice
// saved for this computer (with its password read back from sec), else the
// SQLite file in home.
func ChooseDatabase(home, flag string, sec core.SecretStore) (DatabaseChoice, error) {
	if s := strings.TrimSpace(flag); s != "" {
		return DatabaseChoice{Setting: s, Source: SourceFlag}, nil
	}
	if s := strings.TrimSpace(os.Getenv(DatabaseEnv)); s != "" {
		return DatabaseChoice{Setting: s, Source: SourceEnv}, nil
	}
	c, ok, err := SavedDatabase(home, sec)
	if err != nil {
		return DatabaseChoice{}, err
	}
	if !ok {
		return DatabaseChoice{Source: SourceDefault}, nil
	}
	return c, nil
}

// SavedDatabase reads the choice saved for the data directory home (see
// SaveDatabase), with its password read back from sec; ok is false when
// none is saved.
func SavedDatabase(home string, sec core.SecretStore) (c DatabaseChoice, ok bool, err error) {
	saved, ok, err := readSavedDatabase(home)
	if err != nil || !ok {
		return DatabaseChoice{}, false, err
	}
	file := filepath.Join(home, DatabaseChoiceFile)
	setting := saved.DB
	if saved.PasswordEntry != "" {
		pw, err := sec.Secret(saved.PasswordEntry)
		if core.ErrorCode(err) == core.ENOTFOUND || (err == nil && pw == "") {
			return DatabaseChoice{}, false, core.Errorf(core.ENOTFOUND, "db", "The password of the database saved for this computer (in %s) is not in this computer's keyring; save the database again with its password (ptdeskctl db use URL, or Settings > Use this database), or go back to this computer's own directory: ptdeskctl db use sqlite", file)
		}
		if err != nil {
			return DatabaseChoice{}, false, &choiceError{cause: err, reason: core.Errorf(core.ErrorCode(err), "keyring",
				"The password of the database saved for this computer is kept in the system keyring, which failed: %s To go back to this computer's own directory instead, run: ptdeskctl db use sqlite", strings.TrimSpace(core.ErrorMessage(err)))}
		}
		setting, err = withPassword(setting, pw)
		if err != nil {
			return DatabaseChoice{}, false, err
		}
	}
	return DatabaseChoice{Setting: setting, Source: SourceSaved, File: file}, true, nil
}

// savedDatabase is the contents of DatabaseChoiceFile.
type savedDatabase struct {
	// DB is the connection string without its password.
	DB string `json:"db"`
	// PasswordEntry names the keyring entry that holds the password; ""
	// when the connection string has none.
	PasswordEntry string `json:"password_keyring_entry,omitempty"`
}

// readSavedDatabase reads DatabaseChoiceFile; ok is false when there is
// none.
func readSavedDatabase(home string) (savedDatabase, bool, error) {
	var s savedDatabase
	file := filepath.Join(home, DatabaseChoiceFile)
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, core.Errorf(core.EINTERNAL, "db", "Could not read the database saved for this computer in %s (%v).", file, err)
	}
	if err := json.Unmarshal(b, &s); err != nil || strings.TrimSpace(s.DB) == "" {
		return s, false, core.Errorf(core.EINVALID, "db", "The database saved for this computer in %s is damaged; choose it again (ptdeskctl db use URL|sqlite) or delete the file.", file)
	}
	if _, err := ParseDatabase(s.DB, home); err != nil {
		return s, false, core.Errorf(core.EINVALID, "db", "The database saved for this computer in %s is not a database setting; choose it again (ptdeskctl db use URL|sqlite) or delete the file.", file)
	}
	return s, true, nil
}

// SaveDatabase makes setting the database that desks on the data directory
// home open from their next start, unless --db or $PTDESK_DB says
// otherwise. A PostgreSQL URL is saved without its password, which goes to
// sec (the keyring) instead; "sqlite" (or "sqlite:", or "") forgets the
// saved choice, back to the SQLite file in home. It does not connect: test
// the database first (TestDatabase).
func SaveDatabase(home, setting string, sec core.SecretStore) error {
	if home == "" {
		return core.Errorf(core.EINVALID, "home", "Saving a database choice needs a data directory.")
	}
	setting = strings.TrimSpace(setting)
	if setting == "" || setting == "sqlite" || setting == "sqlite:" {
		return ForgetDatabase(home, sec)
	}
	db, err := ParseDatabase(setting, home)
	if err != nil {
		return core.Errorf(core.EINVALID, "db", "The database must be sqlite (this computer's own directory), sqlite:PATH, or a PostgreSQL URL like postgres://user@host:5432/clinic.")
	}
	next := savedDatabase{DB: "sqlite:" + db.Path}
	var password string
	if db.Kind == "postgres" {
		next.DB, password, err = withoutPassword(db.URL)
		if err != nil {
			return err
		}
		if password != "" {
			next.PasswordEntry, err = passwordEntry(next.DB)
			if err != nil {
				return err
			}
		}
	}
	prev, hadPrev, err := readSavedDatabase(home)
	if err != nil && core.ErrorCode(err) != core.EINVALID {
		return err // a damaged file is replaced; an unreadable one is not
	}
	if password != "" {
		if err := sec.SetSecret(next.PasswordEntry, password); err != nil {
			return &choiceError{cause: err, reason: core.Errorf(core.ErrorCode(err), "keyring",
				"The database password is kept in the system keyring, which failed: %s Nothing was saved. Or leave the password out of the URL: PostgreSQL also reads it from a .pgpass file.",
				strings.TrimSpace(core.ErrorMessage(err)))}
		}
	}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return fmt.Errorf("save the database choice: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(home, DatabaseChoiceFile), append(b, '\n')); err != nil {
		return err
	}
	if hadPrev && prev.PasswordEntry != "" && prev.PasswordEntry != next.PasswordEntry {
		_ = sec.DeleteSecret(prev.PasswordEntry) // an orphan entry is harmless; the choice is saved
	}
	return nil
}

// ForgetDatabase removes the database saved for the data directory home,
// and its password from sec: desks open the SQLite file in home again (or
// what --db or $PTDESK_DB says).
func ForgetDatabase(home string, sec core.SecretStore) error {
	prev, hadPrev, _ := readSavedDatabase(home)
	file := filepath.Join(home, DatabaseChoiceFile)
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return core.Errorf(core.EINTERNAL, "db", "Could not remove the database choice %s (%v); check the data directory's permissions.", file, err)
	}
	if hadPrev && prev.PasswordEntry != "" {
		// The choice is gone already; a password left behind stays in the
		// keyring, where it was safe all along.
		_ = sec.DeleteSecret(prev.PasswordEntry)
	}
	return nil
}

// UseDatabase saves setting as the database this desk opens from its next
// start (see SaveDatabase); the running desk keeps its store.
func (d *Desk) UseDatabase(setting string) error { return SaveDatabase(d.home, setting, d.secrets) }

// NextDatabase says which database this desk opens at its next start, and
// what chooses it. A --db option given to ptdeskctl is not known here.
func (d *Desk) NextDatabase() (DatabaseChoice, error) {
	if d.home == "" {
		return DatabaseChoice{}, core.Errorf(core.EINVALID, "home", "This desk has no data directory.")
	}
	return ChooseDatabase(d.home, "", d.secrets)
}

// writeFileAtomic replaces path with b readable by its owner only: a crash
// leaves the old file or the new one, never half of either.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	fail := func(err error) error {
		return core.Errorf(core.EINTERNAL, "db", "Could not save the database choice in %s (%v); check the data directory's permissions and free space.", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fail(err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	// The rename is durable once the directory is; not every system can
	// sync one (Windows cannot), and the file is whole either way.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func isPostgresURL(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// passwordParams are the query parameters of a PostgreSQL URL that carry
// a password (libpq's and pgx's spelling).
var passwordParams = []string{"password"}

// parsePostgresURL parses a PostgreSQL URL; its error never repeats the
// URL, which may hold a password.
func parsePostgresURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		return nil, core.Errorf(core.EINVALID, "db", "The database URL is not a valid URL like postgres://user:password@host:5432/clinic; write the characters @ : / ? # %% in the user name or password as %%40 %%3A %%2F %%3F %%23 %%25.")
	}
	if u.Query().Get("sslpassword") != "" {
		return nil, core.Errorf(core.EINVALID, "db", "PT Desk cannot keep the sslpassword of the database URL; use a client key without a passphrase, or set %s on this computer instead.", DatabaseEnv)
	}
	return u, nil
}

// withoutPassword splits a PostgreSQL URL into the URL without its
// password (in the user part or a password parameter) and the password.
func withoutPassword(s string) (clean, password string, err error) {
	u, err := parsePostgresURL(s)
	if err != nil {
		return "", "", err
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			password = pw
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	for _, name := range passwordParams {
		if q.Has(name) {
			if password == "" {
				password = q.Get(name)
			}
			q.Del(name)
			u.RawQuery = q.Encode()
		}
	}
	return u.String(), password, nil
}

// withPassword puts the password back into the user part of the URL.
func withPassword(s, password string) (string, error) {
	u, err := parsePostgresURL(s)
	if err != nil {
		return "", err
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, password)
	return u.String(), nil
}

// passwordEntry is the keyring entry of the password of a database: by
// server, database and user, so that two clinics' databases on one
// computer never share an entry, as practitioners' keys are kept by
// directory (core.PractitionerKeyName).
func passwordEntry(s string) (string, error) {
	u, err := parsePostgresURL(s)
	if err != nil {
		return "", err
	}
	host := u.Host
	if host != "" && u.Port() == "" && !strings.Contains(host, ",") {
		host += ":5432"
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
	}
	return "database/" + host + "/" + strings.TrimPrefix(u.Path, "/") + "/" + user, nil
}

// MaskDatabase is a database setting safe to print: a PostgreSQL URL's
// password is replaced (in the user part and a password parameter), and a
// URL that cannot be read is not shown at all.
func MaskDatabase(setting string) string {
	setting = strings.TrimSpace(setting)
	if !isPostgresURL(setting) {
		return setting
	}
	u, err := url.Parse(setting)
	if err != nil {
		return "postgres://(not shown: not a valid URL)"
	}
	q := u.Query()
	masked := false
	for _, name := range append(passwordParams, "sslpassword") {
		if q.Has(name) {
			q.Set(name, "xxxxx")
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
