package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/postgres"
	"ptdesk/core/postgres/pgtest"
)

// These tests are what only a store shared by several desks needs: each
// "desk" is a DB of its own (its own pool of connections) on one schema.

func TestFourDesksAddingAtOnceGetUniqueIDs(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	const desks, each = 4, 1000
	dbs := make([]*postgres.DB, desks)
	for i := range dbs {
		dbs[i] = mustOpenAt(t, url)
	}
	// An explicit id above every explicit id the desks use moves the
	// sequence past them all first: an explicit id that a desk creates
	// while the sequence is below it could otherwise be handed out to
	// another desk a moment before, which is a real clash, not a lost id.
	must(t, dbs[0].CreatePatient(ctx, &core.Patient{ID: "20000000", FirstName: "High", LastName: "Water"}))
	ids := make([][]string, desks)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for d, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				p := &core.Patient{FirstName: fmt.Sprintf("Desk%d", d), LastName: fmt.Sprintf("Patient%d", i)}
				// Every tenth patient has an explicit id of digits.
				if i%10 == 0 {
					p.ID = strconv.Itoa(10_000_000 - d*each - i)
				}
				if err := db.CreatePatient(ctx, p); err != nil {
					t.Errorf("desk %d, patient %d: %v", d, i, err)
					return
				}
				ids[d] = append(ids[d], p.ID)
			}
		}()
	}
	close(start)
	wg.Wait()
	seen := map[string]int{}
	for d, list := range ids {
		if len(list) != each {
			t.Fatalf("desk %d added %d patients, want %d", d, len(list), each)
		}
		for _, id := range list {
			if other, dup := seen[id]; dup {
				t.Fatalf("id %s was given to desk %d and desk %d", id, other, d)
			}
			seen[id] = d
		}
	}
	n, err := dbs[0].CountPatients(ctx)
	must(t, err)
	if n != desks*each+1 {
		t.Fatalf("count = %d, want %d: patients were lost", n, desks*each+1)
	}
	// Every patient a desk was told about is stored, under its name.
	for d, list := range ids {
		for i, id := range list {
			p, err := dbs[(d+1)%desks].Patient(ctx, id)
			must(t, err)
			if p.FirstName != fmt.Sprintf("Desk%d", d) || p.LastName != fmt.Sprintf("Patient%d", i) {
				t.Fatalf("patient %s = %s %s, want Desk%d Patient%d", id, p.FirstName, p.LastName, d, i)
			}
		}
	}
	// The next assigned id is past every explicit one.
	next := &core.Patient{FirstName: "Next", LastName: "One"}
	must(t, dbs[0].CreatePatient(ctx, next))
	if n, _ := strconv.Atoi(next.ID); n <= 20_000_000 {
		t.Fatalf("next assigned id = %s, want one past the explicit ids", next.ID)
	}
}

func TestConflictingEditsFromTwoDesks(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	desk1, desk2 := mustOpenAt(t, url), mustOpenAt(t, url)
	p := &core.Patient{FirstName: "Ann", LastName: "Archer", BirthYear: 1970, Phone: "+447700900123"}
	must(t, desk1.CreatePatient(ctx, p))

	tests := []struct {
		name    string
		change  func(p *core.Patient)
		mention []string
		absent  []string
	}{
		{"names and phone", func(p *core.Patient) { p.LastName, p.Phone = "Archer-Bell", "+447700900999" },
			[]string{"last name", "mobile phone"}, []string{"first name", "birth year"}},
		{"birth year", func(p *core.Patient) { p.BirthYear = 1971 }, []string{"birth year"}, []string{"last name"}},
	}
	for round, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := desk1.Patient(ctx, p.ID)
			must(t, err)
			b, err := desk2.Patient(ctx, p.ID)
			must(t, err)
			// Both desks save at the same moment: exactly one wins.
			a.FirstName, b.FirstName = fmt.Sprintf("Anna %d", round), fmt.Sprintf("Anne %d", round)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, w := range []struct {
				db *postgres.DB
				p  *core.Patient
			}{{desk1, a}, {desk2, b}} {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = w.db.UpdatePatient(ctx, w.p) }()
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("both edits: %v and %v; want exactly one refused", errs[0], errs[1])
			}
			winner, loserErr := a, errs[1]
			if errs[0] != nil {
				winner, loserErr = b, errs[0]
			}
			if core.ErrorCode(loserErr) != core.ECONFLICT || core.ErrorField(loserErr) != "version" ||
				!strings.Contains(core.ErrorMessage(loserErr), "first name") {
				t.Fatalf("refused edit: %v, want ECONFLICT on version naming the first name", loserErr)
			}
			stored, err := desk2.Patient(ctx, p.ID)
			must(t, err)
			if stored.Version != winner.Version || stored.FirstName != winner.FirstName {
				t.Fatalf("stored %+v, want the winner's %+v", stored, winner)
			}

			// Desk 2 holds the stored version while desk 1 edits other
			// fields; desk 2's save is refused, naming just those.
			held := *stored
			edit := *stored
			tt.change(&edit)
			must(t, desk1.UpdatePatient(ctx, &edit))
			held.DiagnosisCode = "M54.5"
			err = desk2.UpdatePatient(ctx, &held)
			if core.ErrorCode(err) != core.ECONFLICT {
				t.Fatalf("stale edit: %v, want ECONFLICT", err)
			}
			msg := core.ErrorMessage(err)
			for _, m := range tt.mention {
				if !strings.Contains(msg, m) {
					t.Errorf("conflict message %q does not mention %q", msg, m)
				}
			}
			for _, m := range tt.absent {
				if strings.Contains(msg, m) {
					t.Errorf("conflict message %q mentions %q, which did not change", msg, m)
				}
			}
			after, err := desk1.Patient(ctx, p.ID)
			must(t, err)
			if after.DiagnosisCode != "" || after.Version != edit.Version {
				t.Fatalf("a refused edit was written: %+v", after)
			}
		})
	}

	t.Run("archive", func(t *testing.T) {
		held, err := desk2.Patient(ctx, p.ID)
		must(t, err)
		must(t, desk1.ArchivePatient(ctx, p.ID))
		held.Email = "ann@example.org"
		err = desk2.UpdatePatient(ctx, held)
		if core.ErrorCode(err) != core.ECONFLICT || !strings.Contains(core.ErrorMessage(err), "archived") {
			t.Fatalf("edit of a patient archived meanwhile: %v, want ECONFLICT mentioning archived", err)
		}
	})
}

func TestChangesReachOtherDesks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema := pgtest.NewSchema(t)
	writer, listener := mustOpenAt(t, schema.URL), mustOpenAt(t, schema.URL)
	changes := listener.Changes(ctx)
	// Listening starts with ChangeAll, for a receiver that joins later too.
	waitFor(t, changes, core.Change{Kind: core.ChangeAll})
	late, stopLate := context.WithCancel(ctx)
	if c := next(t, listener.Changes(late)); c.Kind != core.ChangeAll {
		t.Fatalf("a receiver joining a listening feed first heard %+v, want ChangeAll", c)
	}
	stopLate()

	p := &core.Patient{FirstName: "Nia", LastName: "Notify"}
	must(t, writer.CreatePatient(ctx, p))
	waitFor(t, changes, core.Change{Kind: core.ChangePatient, ID: p.ID})

	pr := &core.Practitioner{Name: "Pia Notify", Server: "uk"}
	must(t, writer.CreatePractitioner(ctx, pr))
	waitFor(t, changes, core.Change{Kind: core.ChangePractitioner, ID: pr.ID})
	must(t, writer.RecordOpen(ctx, core.OpenRecord{PractitionerID: pr.ID, PatientID: p.ID}))
	waitFor(t, changes, core.Change{Kind: core.ChangeRecent, ID: pr.ID})

	// A refused write sends nothing: the next change heard is the one
	// after it.
	stale := *p
	stale.Version = 0
	if err := writer.UpdatePatient(ctx, &stale); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("stale edit: %v", err)
	}
	must(t, writer.SaveSettings(ctx, core.DefaultSettings()))
	if c := next(t, changes); c.Kind != core.ChangeSettings {
		t.Fatalf("after a refused edit, heard %+v, want the settings change", c)
	}

	// The listener's connection is cut (as by a server restart): it comes
	// back, says everything may have changed, and hears the next write.
	if n := schema.TerminateBackends(t); n == 0 {
		t.Fatal("no connection to terminate")
	}
	waitFor(t, changes, core.Change{Kind: core.ChangeAll})
	q := &core.Patient{FirstName: "Rex", LastName: "Reconnect"}
	must(t, writer.CreatePatient(ctx, q))
	waitFor(t, changes, core.Change{Kind: core.ChangePatient, ID: q.ID})

	// The change feed of one schema does not hear another's writes.
	other := MustOpenDB(t)
	must(t, other.CreatePatient(ctx, &core.Patient{FirstName: "Else", LastName: "Where"}))
	must(t, writer.AppendAudit(ctx, core.AuditEntry{Action: "marker"})) // no notice
	must(t, writer.ArchivePatient(ctx, q.ID))
	if c := next(t, changes); c != (core.Change{Kind: core.ChangePatient, ID: q.ID}) {
		t.Fatalf("heard %+v, want only this schema's archive of %s", c, q.ID)
	}

	cancel()
	for range changes {
	}
}

// waitFor reads changes until want arrives; it fails after a generous
// while (a notification takes milliseconds).
func waitFor(t *testing.T, changes <-chan core.Change, want core.Change) {
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
			t.Fatalf("no %+v heard", want)
		}
	}
}

func next(t *testing.T, changes <-chan core.Change) core.Change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change heard")
	}
	return core.Change{}
}

func TestDesksStartingTogetherMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	const desks = 4
	dbs := make([]*postgres.DB, desks)
	errs := make([]error, desks)
	var wg sync.WaitGroup
	for i := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(context.Background(), url)
		}()
	}
	wg.Wait()
	var storeID string
	for i := range desks {
		if errs[i] != nil {
			t.Fatalf("desk %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
		v, err := dbs[i].SchemaVersion(context.Background())
		must(t, err)
		s, err := dbs[i].Settings(context.Background())
		must(t, err)
		if v < 2 || s.StoreID == "" || (storeID != "" && s.StoreID != storeID) {
			t.Fatalf("desk %d: schema %d, store id %q (others %q)", i, v, s.StoreID, storeID)
		}
		storeID = s.StoreID
	}
}

func TestClockStampsTimes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	db := MustOpenDB(t, postgres.WithNow(func() time.Time { return now }))
	p := &core.Patient{FirstName: "Ann", LastName: "Archer"}
	must(t, db.CreatePatient(ctx, p))
	want := now.UTC().Truncate(time.Microsecond)
	got, err := db.Patient(ctx, p.ID)
	must(t, err)
	if got.CreatedAt != want || got.UpdatedAt != want || p.CreatedAt != want {
		t.Fatalf("created %v / %v, returned %v; want %v (UTC, microseconds)", got.CreatedAt, got.UpdatedAt, p.CreatedAt, want)
	}
	now = now.Add(time.Hour)
	must(t, db.UpdatePatient(ctx, got))
	if got.UpdatedAt != want.Add(time.Hour) || got.CreatedAt != want {
		t.Fatalf("after update created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
}

func TestImportAndCreateAtOnceKeepIDsUnique(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	importer, desk := mustOpenAt(t, url), mustOpenAt(t, url)
	im, err := importer.BeginImport(ctx)
	must(t, err)
	defer im.Rollback()
	var imported, created []string
	for i := range 300 {
		p := &core.Patient{FirstName: "Imp", LastName: "Row" + strconv.Itoa(i)}
		_, err := im.Upsert(ctx, p)
		must(t, err)
		imported = append(imported, p.ID)
		if i%30 == 0 {
			q := &core.Patient{FirstName: "Desk", LastName: "Row" + strconv.Itoa(i)}
			must(t, desk.CreatePatient(ctx, q))
			created = append(created, q.ID)
		}
	}
	must(t, im.Commit())
	seen := map[string]bool{}
	for _, id := range append(imported, created...) {
		if seen[id] {
			t.Fatalf("id %s given twice", id)
		}
		seen[id] = true
	}
	n, err := desk.CountPatients(ctx)
	must(t, err)
	if n != len(seen) {
		t.Fatalf("count = %d, want %d", n, len(seen))
	}
	// The numbers the import took but did not use are not given back
	// over the desk's: the next id is new.
	next := &core.Patient{FirstName: "After", LastName: "Import"}
	must(t, desk.CreatePatient(ctx, next))
	if seen[next.ID] {
		t.Fatalf("next id %s was already given", next.ID)
	}
}

func TestKeyPresence(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := &core.Practitioner{Name: "Kim Key", Server: "uk"}
	b := &core.Practitioner{Name: "Bo Key", Server: "uk"}
	must(t, db.CreatePractitioner(ctx, a))
	must(t, db.CreatePractitioner(ctx, b))
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	must(t, db.ReportKeyPresence(ctx, "front@desk-1", []core.KeyPresence{
		{PractitionerID: a.ID, Fingerprint: "AAAA-1111", SeenAt: at},
		{PractitionerID: b.ID, Fingerprint: "BBBB-2222", SeenAt: at},
		{PractitionerID: "404", Fingerprint: "GONE-0000", SeenAt: at},
	}))
	must(t, db.ReportKeyPresence(ctx, "back@desk-2", []core.KeyPresence{
		{PractitionerID: a.ID, Fingerprint: "AAAA-0000", SeenAt: at.Add(time.Hour)},
	}))
	got, err := db.KeyPresence(ctx, a.ID)
	must(t, err)
	if fmt.Sprint(got) != fmt.Sprint([]core.KeyPresence{
		{PractitionerID: a.ID, Desk: "back@desk-2", Fingerprint: "AAAA-0000", SeenAt: at.Add(time.Hour)},
		{PractitionerID: a.ID, Desk: "front@desk-1", Fingerprint: "AAAA-1111", SeenAt: at},
	}) {
		t.Fatalf("presence of %s = %+v", a.ID, got)
	}
	// A new report replaces the desk's earlier one.
	must(t, db.ReportKeyPresence(ctx, "front@desk-1", nil))
	got, err = db.KeyPresence(ctx, b.ID)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("presence of %s after desk-1 reported nothing = %+v", b.ID, got)
	}
	must(t, db.DeletePractitioner(ctx, a.ID))
	got, err = db.KeyPresence(ctx, a.ID)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("presence of a removed practitioner = %+v", got)
	}
}

func TestOpenErrorsNeverShowThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tests := []struct {
		name, url string
		code      string
	}{
		{"not a connection string", "postgres://user:s3cret-pass@[bad", core.EINVALID},
		{"nobody listening", "postgres://user:s3cret-pass@127.0.0.1:1/clinic?sslmode=disable&connect_timeout=2", core.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.Open(ctx, tt.url)
			if err == nil {
				t.Fatal("opened")
			}
			if core.ErrorCode(err) != tt.code || core.ErrorField(err) != "db" {
				t.Fatalf("error %v: code %s field %q, want %s on db", err, core.ErrorCode(err), core.ErrorField(err), tt.code)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(core.ErrorMessage(err), "s3cret") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
