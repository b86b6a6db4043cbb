package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/sqlite"
	"ptdesk/core/storetest"
)

// MustOpenDB opens a new store in a file of tb's temporary directory and
// closes it when the test ends.
func MustOpenDB(tb testing.TB, opts ...sqlite.Option) *sqlite.DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "ptdesk.db"), opts...)
}

func mustOpenAt(tb testing.TB, path string, opts ...sqlite.Option) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return MustOpenDB(t) })
}

func TestClockStampsTimes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	db := MustOpenDB(t, sqlite.WithNow(func() time.Time { return now }))
	p := &core.Patient{FirstName: "Ann", LastName: "Archer"}
	if err := db.CreatePatient(ctx, p); err != nil {
		t.Fatal(err)
	}
	want := now.UTC().Truncate(time.Microsecond)
	got, err := db.Patient(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != want || got.UpdatedAt != want || p.CreatedAt != want {
		t.Fatalf("created %v / %v, returned %v; want %v (UTC, microseconds)", got.CreatedAt, got.UpdatedAt, p.CreatedAt, want)
	}
	now = now.Add(time.Hour)
	if err := db.UpdatePatient(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.UpdatedAt != want.Add(time.Hour) || got.CreatedAt != want {
		t.Fatalf("after update created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	if err := db.RecordOpen(ctx, core.OpenRecord{PractitionerID: mustPractitioner(t, db), PatientID: p.ID}); err != nil {
		t.Fatal(err)
	}
	log, err := db.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].At != want.Add(time.Hour) {
		t.Fatalf("audit of an open without a time = %+v, want it stamped by the clock", log)
	}
}

func mustPractitioner(t *testing.T, db *sqlite.DB) string {
	t.Helper()
	p := &core.Practitioner{Name: fmt.Sprintf("Pat %d", time.Now().UnixNano()), Server: "us"}
	if err := db.CreatePractitioner(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func TestMigrationsIdempotentOnReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "ptdesk.db")
	for i := range 3 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v < 1 {
			t.Fatalf("schema version after open %d = %d", i, v)
		}
		if err := db.CreatePatient(ctx, &core.Patient{FirstName: "Open", LastName: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		n, err := db.CountPatients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("after open %d: %d patients, want %d (data kept across opens)", i, n, i+1)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode = %v, want 0600 (patient data)", mode)
	}
}

// Two handles on one file stand for the desktop app and the command line
// using the same data directory at once.
func TestTwoHandlesOnOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ptdesk.db")

	// Both open (and migrate) a new file at the same moment.
	dbs := make([]*sqlite.DB, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = sqlite.Open(ctx, path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}

	const perHandle = 40
	ids := make([][]string, 2)
	for i, db := range dbs {
		wg.Go(func() {
			for j := range perHandle {
				p := &core.Patient{FirstName: fmt.Sprintf("H%d", i), LastName: fmt.Sprintf("Writer%d", j)}
				if err := db.CreatePatient(ctx, p); err != nil {
					errs[i] = err
					return
				}
				ids[i] = append(ids[i], p.ID)
			}
			im, err := db.BeginImport(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			for j := range perHandle {
				if _, err := im.Upsert(ctx, &core.Patient{FirstName: fmt.Sprintf("I%d", i), LastName: fmt.Sprintf("Importer%d", j)}); err != nil {
					im.Rollback()
					errs[i] = err
					return
				}
			}
			errs[i] = im.Commit()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for _, list := range ids {
		for _, id := range list {
			if seen[id] {
				t.Fatalf("id %s assigned twice across handles", id)
			}
			seen[id] = true
		}
	}
	for i, db := range dbs {
		n, err := db.CountPatients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 4*perHandle {
			t.Fatalf("handle %d counts %d patients, want %d", i, n, 4*perHandle)
		}
		res, err := db.SearchPatients(ctx, core.PatientQuery{Text: "importer", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2*perHandle {
			t.Fatalf("handle %d finds %d imported patients, want %d", i, len(res), 2*perHandle)
		}
	}
}

// A write that waits longer than the busy timeout for another handle's
// import fails with a sentence a person can act on, not a driver error.
func TestBusyIsConflict(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the busy timeout")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ptdesk.db")
	a, b := mustOpenAt(t, path), mustOpenAt(t, path)
	im, err := a.BeginImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Rollback()
	err = b.CreatePatient(ctx, &core.Patient{FirstName: "Wait", LastName: "Ing"})
	if core.ErrorCode(err) != core.ECONFLICT || core.ErrorMessage(err) == "" {
		t.Fatalf("write during another handle's import: %v (code %q), want ECONFLICT", err, core.ErrorCode(err))
	}
	// Reads go on while the import holds the write lock.
	if _, err := b.SearchPatients(ctx, core.PatientQuery{Text: "a"}); err != nil {
		t.Fatalf("read during import: %v", err)
	}
}

func TestImportSameValuesKeepsVersion(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	p := &core.Patient{ID: "A-1", FirstName: "Ann", LastName: "Archer", BirthYear: 1970, Email: "ann@example.org"}
	if err := db.CreatePatient(ctx, p); err != nil {
		t.Fatal(err)
	}
	im, err := db.BeginImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again := &core.Patient{ID: "A-1", FirstName: "Ann", LastName: "Archer", BirthYear: 1970, Email: "ann@example.org"}
	created, err := im.Upsert(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	if created || again.Version != 1 || !again.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("re-import of the same values: created=%v version=%d updated=%v; want no change", created, again.Version, again.UpdatedAt)
	}
	if err := im.Commit(); err == nil {
		t.Fatalf("second Commit succeeded")
	}
	if _, err := im.Upsert(ctx, again); err == nil {
		t.Fatalf("Upsert after Commit succeeded")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ptdesk.db")
	db := mustOpenAt(t, path)
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MarkSchemaVersionForTest(ctx, v+1); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(ctx, path)
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("open of a newer schema: %v, want a *core.Error", err)
	}
}

// What the store says it saved survives a power cut, not only a crash of
// the program: every connection syncs the log at each commit.
func TestCommitsAreSynced(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	if err := db.CreatePatient(ctx, &core.Patient{FirstName: "Ada", LastName: "Byron", BirthYear: 1985}); err != nil {
		t.Fatal(err)
	}
	got, err := db.SynchronousForTest(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != 2 {
			t.Errorf("connection %d: PRAGMA synchronous = %d, want 2 (FULL)", i, v)
		}
	}
}
