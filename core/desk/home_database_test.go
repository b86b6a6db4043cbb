package desk_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/secrets"
)

// chooseIn is ChooseDatabase on home without --db, failing the test on an
// error.
func chooseIn(t *testing.T, home string, sec core.SecretStore) desk.DatabaseChoice {
	t.Helper()
	c, err := desk.ChooseDatabase(home, "", sec)
	must(t, err)
	return c
}

// assertNotIn fails if secret appears in the file's bytes.
func assertNotIn(t *testing.T, path string, secrets ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("%s holds a password", filepath.Base(path))
		}
	}
}

func TestSaveDatabaseKeepsThePasswordInTheKeyring(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	cases := []struct {
		name, setting, password, entry, clean string
	}{
		{"in the user part", "postgres://clinic:s3cret%40P%3Ass@db.example:5433/ptdesk?sslmode=require", "s3cret@P:ss",
			"database/db.example:5433/ptdesk/clinic", "postgres://clinic@db.example:5433/ptdesk?sslmode=require"},
		{"as a parameter", "postgresql://clinic@db.example/ptdesk?password=s3cret-word&sslmode=verify-full", "s3cret-word",
			"database/db.example:5432/ptdesk/clinic", "postgresql://clinic@db.example/ptdesk?sslmode=verify-full"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home, sec := t.TempDir(), secrets.NewMemory()
			must(t, desk.SaveDatabase(home, tc.setting, sec))

			file := filepath.Join(home, desk.DatabaseChoiceFile)
			assertNotIn(t, file, tc.password, url.QueryEscape(tc.password), url.PathEscape(tc.password), "s3cret")
			b, err := os.ReadFile(file)
			must(t, err)
			if !strings.Contains(string(b), tc.clean) {
				t.Errorf("the file does not keep the URL without its password %q:\n%s", tc.clean, b)
			}
			if fi, err := os.Stat(file); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
				t.Errorf("mode of the choice file: %v, %v; want 0600", fi.Mode(), err)
			}
			if pw, err := sec.Secret(tc.entry); err != nil || pw != tc.password {
				t.Fatalf("keyring entry %s: %v; want the password", tc.entry, err)
			}
			if left, _ := filepath.Glob(filepath.Join(home, ".*.tmp")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}

			c := chooseIn(t, home, sec)
			if c.Source != desk.SourceSaved || c.File != file {
				t.Fatalf("choice = %+v; want the saved one from %s", c, file)
			}
			u, err := url.Parse(c.Setting)
			must(t, err)
			if pw, _ := u.User.Password(); pw != tc.password || u.User.Username() != "clinic" || u.Query().Has("password") {
				t.Errorf("the password was not merged back into the user part")
			}
			if !c.Shared() {
				t.Error("a PostgreSQL choice must be shared")
			}
			if m := c.Masked(); strings.Contains(m, "s3cret") || !strings.Contains(m, "xxxxx") || !strings.Contains(m, "db.example") {
				t.Errorf("masked: %q", m)
			}
		})
	}
}

func TestSaveDatabaseWithoutPassword(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	home, sec := t.TempDir(), secrets.NewMemory()
	const setting = "postgres://ptdesk@127.0.0.1:5432/ptdesk"
	must(t, desk.SaveDatabase(home, setting, sec))
	if c := chooseIn(t, home, sec); c.Setting != setting || c.Masked() != setting {
		t.Fatalf("choice = %q (shown %q); want %q as is", c.Setting, c.Masked(), setting)
	}
}

func TestDatabasePrecedence(t *testing.T) {
	home, sec := t.TempDir(), secrets.NewMemory()
	const (
		flag  = "postgres://flag@flag.example/ptdesk"
		env   = "postgres://env@env.example/ptdesk"
		saved = "postgres://saved@saved.example/ptdesk"
	)
	must(t, desk.SaveDatabase(home, saved, sec))
	cases := []struct {
		flag, env, want string
		source          desk.DatabaseSource
	}{
		{flag, env, flag, desk.SourceFlag},
		{"", env, env, desk.SourceEnv},
		{"", "", saved, desk.SourceSaved},
	}
	for _, tc := range cases {
		t.Setenv(desk.DatabaseEnv, tc.env)
		c, err := desk.ChooseDatabase(home, tc.flag, sec)
		must(t, err)
		if c.Setting != tc.want || c.Source != tc.source {
			t.Errorf("flag %q, env %q: %q from %s; want %q from %s", tc.flag, tc.env, c.Setting, c.Source, tc.want, tc.source)
		}
	}
	t.Setenv(desk.DatabaseEnv, "")
	must(t, desk.SaveDatabase(home, "sqlite", sec))
	if c := chooseIn(t, home, sec); c.Source != desk.SourceDefault || c.Setting != "" || c.Shared() || c.Masked() != "sqlite:" {
		t.Fatalf("after going back to SQLite: %+v", c)
	}
	if _, err := os.Stat(filepath.Join(home, desk.DatabaseChoiceFile)); !os.IsNotExist(err) {
		t.Errorf("going back to SQLite leaves the choice file: %v", err)
	}
}

func TestSaveDatabaseForgetsOldPasswords(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	home, sec := t.TempDir(), secrets.NewMemory()
	must(t, desk.SaveDatabase(home, "postgres://a:first@one.example/ptdesk", sec))
	const first = "database/one.example:5432/ptdesk/a"
	if _, err := sec.Secret(first); err != nil {
		t.Fatal(err)
	}
	// Another server: the first one's password goes.
	must(t, desk.SaveDatabase(home, "postgres://b:second@two.example:6432/clinic", sec))
	if _, err := sec.Secret(first); core.ErrorCode(err) != core.ENOTFOUND {
		t.Errorf("the replaced database's password is still in the keyring: %v", err)
	}
	const second = "database/two.example:6432/clinic/b"
	if pw, err := sec.Secret(second); err != nil || pw != "second" {
		t.Fatalf("new password: %v", err)
	}
	// Back to this computer's directory: no password stays behind.
	must(t, desk.SaveDatabase(home, "sqlite:", sec))
	if _, err := sec.Secret(second); core.ErrorCode(err) != core.ENOTFOUND {
		t.Errorf("going back to SQLite leaves the password in the keyring: %v", err)
	}
}

func TestSaveDatabaseRefusesBadSettings(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	home, sec := t.TempDir(), secrets.NewMemory()
	for _, setting := range []string{
		"mysql://root:hunter2@db/clinic",
		"postgres://clinic:hunter2@db.example:notaport/clinic",
		"postgres://clinic@db.example/clinic?sslpassword=hunter2",
		"db.example:5432",
	} {
		err := desk.SaveDatabase(home, setting, sec)
		if core.ErrorCode(err) != core.EINVALID || core.ErrorField(err) != "db" {
			t.Errorf("%s: %v; want invalid db", desk.MaskDatabase(setting), err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, desk.DatabaseChoiceFile)); !os.IsNotExist(err) {
		t.Errorf("a refused setting was saved: %v", err)
	}
	if c := chooseIn(t, home, sec); c.Source != desk.SourceDefault {
		t.Errorf("choice after refusals: %+v", c)
	}
}

func TestSavedDatabaseProblemsAreExplained(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	home := t.TempDir()
	file := filepath.Join(home, desk.DatabaseChoiceFile)

	// The password is in another keyring (another user, a new computer).
	must(t, desk.SaveDatabase(home, "postgres://clinic:pw@db.example/ptdesk", secrets.NewMemory()))
	_, err := desk.ChooseDatabase(home, "", secrets.NewMemory())
	if core.ErrorCode(err) != core.ENOTFOUND || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "db use") {
		t.Errorf("password missing from the keyring: %v", err)
	}

	must(t, os.WriteFile(file, []byte("{not json"), 0o600))
	_, err = desk.ChooseDatabase(home, "", secrets.NewMemory())
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), file) {
		t.Errorf("damaged file: %v", err)
	}
	// --db and PTDESK_DB still work around a damaged file...
	if c, err := desk.ChooseDatabase(home, "sqlite:", secrets.NewMemory()); err != nil || c.Source != desk.SourceFlag {
		t.Errorf("--db with a damaged choice file: %+v, %v", c, err)
	}
	// ...and saving replaces it.
	must(t, desk.SaveDatabase(home, "postgres://clinic@db.example/ptdesk", secrets.NewMemory()))
	if c := chooseIn(t, home, secrets.NewMemory()); c.Source != desk.SourceSaved {
		t.Errorf("after saving over a damaged file: %+v", c)
	}
}

func TestMaskDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db":                    "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db?password=pw&sslmode=x":      "postgres://u@h/db?password=xxxxx&sslmode=x",
		"postgres://u@h/db":                            "postgres://u@h/db",
		"postgres://u:pw@h:notaport/db":                "postgres://(not shown: not a valid URL)",
		"sqlite:/var/lib/ptdesk/ptdesk.db":             "sqlite:/var/lib/ptdesk/ptdesk.db",
		"postgresql://u:p%40w@h/db?application_name=a": "postgresql://u:xxxxx@h/db?application_name=a",
	} {
		if got := desk.MaskDatabase(in); got != want {
			t.Errorf("MaskDatabase(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestOpenHomeOpensTheSavedDatabase(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	ctx := context.Background()
	home, elsewhere, sec := t.TempDir(), t.TempDir(), secrets.NewMemory()
	must(t, desk.SaveDatabase(home, "sqlite:"+elsewhere, sec))
	d, err := desk.OpenHome(ctx, desk.HomeOptions{Home: home, Secrets: sec})
	must(t, err)
	_, _, err = d.AddPatient(ctx, core.Patient{FirstName: "Sal", LastName: "Saved"})
	must(t, err)
	must(t, d.Close())
	if _, err := os.Stat(filepath.Join(elsewhere, desk.DatabaseFile)); err != nil {
		t.Fatalf("the saved SQLite file was not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, desk.DatabaseFile)); !os.IsNotExist(err) {
		t.Fatalf("the data directory's own file was used: %v", err)
	}

	// --db still wins over the saved choice.
	d, err = desk.OpenHome(ctx, desk.HomeOptions{Home: home, DB: "sqlite:", Secrets: sec})
	must(t, err)
	must(t, d.Close())
	if _, err := os.Stat(filepath.Join(home, desk.DatabaseFile)); err != nil {
		t.Fatalf("--db sqlite: did not open the data directory's file: %v", err)
	}
}

func TestOpenHomeExplainsAnUnreachableSavedDatabase(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	home, sec := t.TempDir(), secrets.NewMemory()
	// Nothing listens on port 1: the connection is refused at once.
	must(t, desk.SaveDatabase(home, "postgres://clinic:topsecret@127.0.0.1:1/ptdesk?connect_timeout=5", sec))
	_, err := desk.OpenHome(context.Background(), desk.HomeOptions{Home: home, Secrets: sec})
	if err == nil {
		t.Fatal("opened a database that is not there")
	}
	msg := core.ErrorMessage(err)
	if core.ErrorField(err) != "db" || !strings.Contains(msg, "ptdeskctl db use sqlite") || !strings.Contains(msg, desk.DatabaseChoiceFile) {
		t.Errorf("the error does not say how to go back: %s", msg)
	}
	if strings.Contains(err.Error(), "topsecret") || strings.Contains(msg, "topsecret") {
		t.Error("the error repeats the password")
	}
}

func TestOpenHomeOpensASavedClinicDatabase(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	schema := pgtest.NewSchema(t)
	// The test server trusts local connections, so any password does; it
	// is saved and read back all the same.
	u, err := url.Parse(schema.URL)
	must(t, err)
	u.User = url.UserPassword(u.User.Username(), "clinic-password")
	home, sec := t.TempDir(), secrets.NewMemory()
	must(t, desk.TestDatabase(context.Background(), u.String(), home))
	must(t, desk.SaveDatabase(home, u.String(), sec))
	assertNotIn(t, filepath.Join(home, desk.DatabaseChoiceFile), "clinic-password")

	d, err := desk.OpenHome(context.Background(), desk.HomeOptions{Home: home, Secrets: sec})
	must(t, err)
	defer d.Close()
	if _, shared := d.Store().(core.KeyPresenceStore); !shared {
		t.Fatalf("the desk opened %T, not the saved clinic database", d.Store())
	}
	next, err := d.NextDatabase()
	must(t, err)
	if next.Source != desk.SourceSaved || !next.Shared() || strings.Contains(next.Masked(), "clinic-password") {
		t.Fatalf("next database: %s from %s", next.Masked(), next.Source)
	}
	must(t, d.UseDatabase("sqlite"))
	if next, err := d.NextDatabase(); err != nil || next.Source != desk.SourceDefault {
		t.Fatalf("after going back: %+v, %v", next, err)
	}
}

// lockedKeyring refuses to store, as a keyring that is not running does.
type lockedKeyring struct{ core.SecretStore }

func (lockedKeyring) SetSecret(string, string) error {
	return core.Errorf(core.EINTERNAL, "keyring", "Could not store the key in the system keyring (no Secret Service).")
}

func TestSaveDatabaseWithoutAKeyringSavesNothing(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	home := t.TempDir()
	err := desk.SaveDatabase(home, "postgres://clinic:pw-9931@db.example/ptdesk", lockedKeyring{secrets.NewMemory()})
	if core.ErrorField(err) != "keyring" || !strings.Contains(core.ErrorMessage(err), "Nothing was saved") || strings.Contains(err.Error(), "pw-9931") {
		t.Fatalf("saving without a keyring: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, desk.DatabaseChoiceFile)); !os.IsNotExist(err) {
		t.Fatalf("the choice was saved without its password: %v", err)
	}
}
