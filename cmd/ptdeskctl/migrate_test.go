package main

import (
	"strings"
	"testing"

	"ptdesk/core/postgres/pgtest"
)

func TestMigrateIntoAClinicDatabase(t *testing.T) {
	url := pgtest.URL(t)
	e := newEnv(t)
	ann := e.ok(t, "patients", "add", "--first-name", "Ann", "--last-name", "Archer", "--birth-year", "1970")
	e.ok(t, "patients", "add", "--id", "700", "--first-name", "José", "--last-name", "García")
	e.ok(t, "practitioners", "add", "--name", "Pia Move", "--server", "uk")

	r := e.run(t, "", "migrate", "--to", url)
	if r.code != 0 {
		t.Fatalf("migrate: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"patients\t2", "practitioners\t1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report %q lacks %q", r.stdout, want)
		}
	}
	if !strings.Contains(r.stderr, "checksum") || !strings.Contains(r.stderr, "verified") {
		t.Errorf("progress on stderr %q does not report the checks", r.stderr)
	}

	// The same commands now work on the clinic database.
	found := e.ok(t, "--db", url, "patients", "search", "garcia")
	if !strings.Contains(found, "700") {
		t.Fatalf("search on the clinic database = %q", found)
	}
	next := e.ok(t, "--db", url, "patients", "add", "--first-name", "New", "--last-name", "Desk")
	if next != "701" {
		t.Fatalf("next id on the clinic database = %q (Ann was %s), want 701", next, ann)
	}

	again := e.run(t, "", "migrate", "--to", url)
	if again.code != exitError || !strings.Contains(again.stderr, "--merge") {
		t.Fatalf("migrating into a used database: exit %d, %q; want 1 and advice about --merge", again.code, again.stderr)
	}
	usage := e.run(t, "", "migrate", "--to", url, "extra")
	if usage.code != exitUsage {
		t.Fatalf("migrate with an argument: exit %d, want %d", usage.code, exitUsage)
	}
}
