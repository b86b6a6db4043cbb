package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptdesk/core/desk"
	"ptdesk/core/postgres/pgtest"
)

// withPassword is the test server's URL with a password in it: the server
// trusts local connections, so any password does, and it must be kept out
// of every file and every line printed all the same.
func withPassword(t *testing.T, raw, password string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

func TestDBShowsTheDefault(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	e := newEnv(t)
	out := e.ok(t, "db", "show")
	if !strings.Contains(out, "sqlite:"+filepath.Join(e.home, desk.DatabaseFile)) || !strings.Contains(out, "the default") {
		t.Fatalf("db show on a new data directory:\n%s", out)
	}
	var shown dbShown
	if err := json.Unmarshal([]byte(e.ok(t, "db", "show", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Source != "default" || shown.Kind != "sqlite" || shown.Home != e.home {
		t.Fatalf("db show --json = %+v", shown)
	}
	// --db outranks everything, and says so.
	other := t.TempDir()
	if out := e.ok(t, "--db", "sqlite:"+other, "db", "show"); !strings.Contains(out, other) || !strings.Contains(out, "--db") {
		t.Fatalf("db show with --db:\n%s", out)
	}
}

func TestDBUseRefusesWithoutSaving(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	e := newEnv(t)
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"no URL", "", []string{"db", "use"}, exitUsage},
		{"URL and --stdin", "", []string{"db", "use", "sqlite", "--stdin"}, exitUsage},
		{"not a database", "", []string{"db", "use", "mysql://root:hunter2@db/clinic"}, exitError},
		{"bad port", "", []string{"db", "use", "postgres://clinic:hunter2@db.example:port/clinic"}, exitError},
		{"nobody listening", "", []string{"db", "use", "postgres://clinic:hunter2@127.0.0.1:1/clinic?connect_timeout=5"}, exitError},
		{"nothing on stdin", "", []string{"db", "use", "--stdin"}, exitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2") {
				t.Fatalf("the password was printed: %s", r.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.home, desk.DatabaseChoiceFile)); !os.IsNotExist(err) {
		t.Fatalf("a refused database was saved: %v", err)
	}
}

func TestDBUseAClinicDatabase(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	const password = "clinic-pass-7731"
	clinic := withPassword(t, pgtest.URL(t), password)
	e := newEnv(t)
	e.ok(t, "practitioners", "add", "--name", "Sol Solo", "--server", "uk") // in the desk's own directory

	r := e.run(t, "", "db", "use", clinic)
	if r.code != 0 {
		t.Fatalf("db use: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(e.home, desk.DatabaseChoiceFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), password) {
		t.Fatal("the choice file holds the password")
	}
	const entry = "database/127.0.0.1:5432/test/postgres"
	if pw, err := e.secrets.Secret(entry); err != nil || pw != password {
		t.Fatalf("the password is not in the keyring entry %s: %v", entry, err)
	}
	if strings.Contains(r.stdout+r.stderr, password) || !strings.Contains(r.stderr, "restart") {
		t.Fatalf("db use printed the password, or no word about restarting: %s", r.stderr)
	}

	out := e.ok(t, "db", "show")
	if strings.Contains(out, password) || !strings.Contains(out, "xxxxx") || !strings.Contains(out, "saved on this computer") {
		t.Fatalf("db show after db use:\n%s", out)
	}

	// Every command now works on the clinic database, where the desk's
	// own practitioner is not.
	if list := e.ok(t, "practitioners", "list", "--json"); list != "[]" {
		t.Fatalf("practitioners on the clinic database: %s", list)
	}
	e.ok(t, "practitioners", "add", "--name", "Cleo Clinic", "--server", "uk")
	if r := e.run(t, "", "keys", "set", "Cleo Clinic", "--generate"); r.code != 0 {
		t.Fatalf("keys set: exit %d\n%s", r.code, r.stderr)
	}

	// The key set from the command line shows as held by this desk.
	d, err := desk.OpenHome(context.Background(), desk.HomeOptions{Home: e.home, Secrets: e.secrets})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := d.FindPractitioner(context.Background(), "Cleo Clinic")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := d.KeyDesks(context.Background(), p.ID)
	if err != nil || len(ds) != 1 || !ds[0].ThisDesk || !ds[0].Current {
		t.Fatalf("desks holding the key set with ptdeskctl: %+v, %v", ds, err)
	}

	// PTDESK_DB outranks the saved choice, and db show says both.
	t.Setenv(desk.DatabaseEnv, "sqlite:")
	out = e.ok(t, "db", "show")
	if !strings.Contains(out, desk.DatabaseEnv) || !strings.Contains(out, "saved (unused)") || strings.Contains(out, password) {
		t.Fatalf("db show with %s set:\n%s", desk.DatabaseEnv, out)
	}
	if r := e.run(t, "", "db", "use", "sqlite"); r.code != 0 || !strings.Contains(r.stderr, desk.DatabaseEnv) {
		t.Fatalf("db use sqlite with %s set: exit %d, %s", desk.DatabaseEnv, r.code, r.stderr)
	}
	t.Setenv(desk.DatabaseEnv, "")

	// Back to the desk's own directory.
	if list := e.ok(t, "practitioners", "list"); !strings.Contains(list, "Sol Solo") {
		t.Fatalf("after db use sqlite: %s", list)
	}
	if _, err := e.secrets.Secret(entry); err == nil {
		t.Error("going back to SQLite left the database password in the keyring")
	}

	// --stdin keeps the password off the command line.
	if r := e.run(t, clinic+"\n", "db", "use", "--stdin"); r.code != 0 {
		t.Fatalf("db use --stdin: exit %d\n%s", r.code, r.stderr)
	}
	if list := e.ok(t, "practitioners", "list"); !strings.Contains(list, "Cleo Clinic") {
		t.Fatalf("after db use --stdin: %s", list)
	}
}
