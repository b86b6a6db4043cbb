package desk_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

// waitChange reads changes until want arrives, failing after a generous
// while (a change arrives within a second).
func waitChange(t *testing.T, changes <-chan core.Change, want core.Change) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case c, ok := <-changes:
			if !ok {
				t.Fatalf("changes closed while waiting for %+v", want)
			}
			if c == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %+v within 10 s", want)
		}
	}
}

func TestChangesOnADesksSQLiteFile(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	changes := f.desk.Changes(ctx)
	all := core.Change{Kind: core.ChangeAll}
	waitChange(t, changes, all)

	// The desk's own write...
	f.mustPatient(t, core.Patient{FirstName: "Ann", LastName: "Archer"})
	waitChange(t, changes, all)

	// ...and another program's (the command line) on the same file.
	other, err := sqlite.Open(ctx, filepath.Join(f.home, desk.DatabaseFile))
	must(t, err)
	defer other.Close()
	must(t, other.CreatePatient(ctx, &core.Patient{FirstName: "Cli", LastName: "Written"}))
	waitChange(t, changes, all)

	cancel()
	for range changes {
	}
}

// sharedDesks are two desks (two users, two keyrings) on one clinic
// database.
func sharedDesks(t *testing.T) (front, back *desk.Desk) {
	t.Helper()
	url := pgtest.URL(t)
	open := func(user string) *desk.Desk {
		store, err := postgres.Open(context.Background(), url)
		must(t, err)
		d := desk.New(desk.Options{Store: store, Secrets: secrets.NewMemory(), DeskUser: user, Home: t.TempDir()})
		t.Cleanup(func() { _ = d.Close() })
		return d
	}
	return open("front"), open("back")
}

func TestChangesOnAClinicDatabase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	front, back := sharedDesks(t)
	changes := front.Changes(ctx)
	waitChange(t, changes, core.Change{Kind: core.ChangeAll})

	p, _, err := back.AddPatient(ctx, core.Patient{FirstName: "Bea", LastName: "Back"})
	must(t, err)
	waitChange(t, changes, core.Change{Kind: core.ChangePatient, ID: p.ID})
	pr, err := back.AddPractitioner(ctx, core.Practitioner{Name: "Pia Back", Server: "uk"})
	must(t, err)
	waitChange(t, changes, core.Change{Kind: core.ChangePractitioner, ID: pr.ID})
	// The front desk sees the back desk's patient right away.
	found, err := front.Search(ctx, "back", 0)
	must(t, err)
	if len(found) != 1 || found[0].ID != p.ID {
		t.Fatalf("front desk search = %v", found)
	}
}

func TestKeyDesks(t *testing.T) {
	ctx := context.Background()
	front, back := sharedDesks(t)
	pr, err := front.AddPractitioner(ctx, core.Practitioner{Name: "Kim Key", Server: "uk"})
	must(t, err)
	key, _, err := front.SetNewKey(ctx, pr.ID)
	must(t, err)
	must(t, front.ReportKeyPresence(ctx))
	must(t, back.ReportKeyPresence(ctx))

	desks := func(d *desk.Desk) map[string]desk.KeyDesk {
		t.Helper()
		list, err := d.KeyDesks(ctx, pr.ID)
		must(t, err)
		out := map[string]desk.KeyDesk{}
		for _, k := range list {
			out[k.Desk] = k
		}
		return out
	}
	got := desks(back)
	if len(got) != 1 || !got[front.DeskName()].Current || got[front.DeskName()].ThisDesk {
		t.Fatalf("desks with the key, seen from the back desk = %+v; want the front desk only, current", got)
	}

	// The back desk gets the same key: both have it.
	_, err = back.SetKey(ctx, pr.ID, key)
	must(t, err)
	must(t, back.ReportKeyPresence(ctx))
	got = desks(front)
	if len(got) != 2 || !got[back.DeskName()].Current || !got[front.DeskName()].ThisDesk {
		t.Fatalf("after the back desk set the key: %+v", got)
	}

	// The front desk rotates the key: the back desk's is now an old one.
	_, _, err = front.SetNewKey(ctx, pr.ID)
	must(t, err)
	must(t, front.ReportKeyPresence(ctx))
	got = desks(front)
	if !got[front.DeskName()].Current || got[back.DeskName()].Current {
		t.Fatalf("after rotation: %+v; want the front desk current, the back desk not", got)
	}
}

func TestKeyDesksOnADesksOwnStore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pr, _ := f.mustPractitioner(t, "Solo Key", "uk")
	must(t, f.desk.ReportKeyPresence(ctx)) // nothing to report to: no error
	got, err := f.desk.KeyDesks(ctx, pr.ID)
	must(t, err)
	if len(got) != 1 || !got[0].ThisDesk || !got[0].Current {
		t.Fatalf("key desks = %+v, want this desk, current", got)
	}
}

func TestOpenHomeChoosesTheStore(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	home := t.TempDir()
	tests := []struct {
		name, db, env string
		postgres      bool
	}{
		{"default", "", "", false},
		{"sqlite in another place", "sqlite:" + t.TempDir(), "", false},
		{"postgres url", url, "", true},
		{"postgresql url from the environment", "", "postgresql" + url[len("postgres"):], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(desk.DatabaseEnv, tt.env)
			d, err := desk.OpenHome(ctx, desk.HomeOptions{Home: home, DB: tt.db, Secrets: secrets.NewMemory()})
			must(t, err)
			defer d.Close()
			_, isPostgres := d.Store().(*postgres.DB)
			if isPostgres != tt.postgres {
				t.Fatalf("store %T, want postgres %v", d.Store(), tt.postgres)
			}
			p, _, err := d.AddPatient(ctx, core.Patient{FirstName: "Home", LastName: tt.name})
			must(t, err)
			if p.ID == "" {
				t.Fatal("no id")
			}
		})
	}
	_, err := desk.OpenHome(ctx, desk.HomeOptions{Home: home, DB: "mysql://x", Secrets: secrets.NewMemory()})
	if core.ErrorCode(err) != core.EINVALID || core.ErrorField(err) != "db" {
		t.Fatalf("unknown database kind: %v, want EINVALID on db", err)
	}
	if err := desk.TestDatabase(ctx, url, home); err != nil {
		t.Fatalf("test connection: %v", err)
	}
}
