// Package storetest is the contract every core.Store backend must pass. A
// backend is added by calling Run from its own tests, never by copying them,
// so that the desk's SQLite file and a clinic's PostgreSQL database behave
// the same in every way the desk can see: ids, versions, errors, search
// results and their order (the rule in ptdesk/core/search), recents, the
// audit log, settings and imports.
//
// The suite assumes only what package core documents, plus:
//   - ids a store assigns are "1", "2", ... in a new store, separately for
//     patients and practitioners, never reused, and past any explicit id
//     made only of digits;
//   - times round trip exactly once stored (a store keeps at least
//     microseconds and returns what it stored);
//   - the search rule of ptdesk/core/search, compared with search.Rank;
//   - practitioner names are unique regardless of case (ECONFLICT "name"),
//     and a key hash belongs to one practitioner at most (ECONFLICT "key").
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"ptdesk/core"
)

// Run runs the whole contract against fresh stores made by open. open is
// called once per subtest; it must return an empty store and arrange (with
// t.Cleanup) to close and remove it.
func Run(t *testing.T, open func(t *testing.T) core.Store) {
	t.Run("Patients", func(t *testing.T) { runPatients(t, open) })
	t.Run("Search", func(t *testing.T) { runSearch(t, open) })
	t.Run("Practitioners", func(t *testing.T) { runPractitioners(t, open) })
	t.Run("Activity", func(t *testing.T) { runActivity(t, open) })
	t.Run("Import", func(t *testing.T) { runImport(t, open) })
	t.Run("Programs", func(t *testing.T) { RunPrograms(t, open) })
}

// base is a fixed, whole-second instant for times the suite passes in, so
// that any backend stores them exactly.
var base = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// wantCode fails unless err is a *core.Error with code and field.
func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s on %q", code, field)
	}
	if got := core.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	if got := core.ErrorField(err); got != field {
		t.Fatalf("error field = %q (%v), want %q", got, err, field)
	}
	var e *core.Error
	if !errors.As(err, &e) || e.Message == "" {
		t.Fatalf("error %v carries no message for a person", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func patient(first, last string, year int) *core.Patient {
	return &core.Patient{FirstName: first, LastName: last, BirthYear: year}
}

func create(t *testing.T, s core.Store, p *core.Patient) *core.Patient {
	t.Helper()
	if err := s.CreatePatient(context.Background(), p); err != nil {
		t.Fatalf("create %s %s: %v", p.FirstName, p.LastName, err)
	}
	return p
}

// samePatient fails unless got holds want's fields and times.
func samePatient(t *testing.T, got, want *core.Patient) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("patient %s times = %v/%v, want %v/%v", w.ID, g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("patient = %+v\nwant      %+v", g, w)
	}
}

func ids(ps []*core.Patient) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func sameIDs(t *testing.T, what string, got []*core.Patient, want ...string) {
	t.Helper()
	g := ids(got)
	if fmt.Sprint(g) != fmt.Sprint(want) && !(len(g) == 0 && len(want) == 0) {
		t.Errorf("%s: ids = %v, want %v", what, g, want)
	}
}

func runPatients(t *testing.T, open func(t *testing.T) core.Store) {
	ctx := context.Background()

	t.Run("CreateGetUpdateArchive", func(t *testing.T) {
		s := open(t)
		p := &core.Patient{FirstName: "Jane", LastName: "Smith", BirthYear: 1980, Gender: core.GenderFemale,
			Email: "jane.smith@example.org", Phone: "+447700900123", DiagnosisCode: "M54.5"}
		create(t, s, p)
		if p.ID != "1" || p.Version != 1 || p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
			t.Fatalf("created id=%q version=%d created=%v updated=%v; want id 1, version 1, equal non-zero times",
				p.ID, p.Version, p.CreatedAt, p.UpdatedAt)
		}
		got, err := s.Patient(ctx, "1")
		must(t, err)
		samePatient(t, got, p)

		got.LastName, got.Phone, got.BirthYear = "Smith-Jones", "", 1981
		must(t, s.UpdatePatient(ctx, got))
		if got.Version != 2 || got.UpdatedAt.Before(got.CreatedAt) || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("after update version=%d created=%v updated=%v", got.Version, got.CreatedAt, got.UpdatedAt)
		}
		again, err := s.Patient(ctx, "1")
		must(t, err)
		samePatient(t, again, got)

		must(t, s.ArchivePatient(ctx, "1"))
		archived, err := s.Patient(ctx, "1")
		must(t, err)
		if !archived.Archived || archived.Version <= got.Version {
			t.Fatalf("after archive archived=%v version=%d (was %d); want archived and a new version",
				archived.Archived, archived.Version, got.Version)
		}
		must(t, s.ArchivePatient(ctx, "1")) // archiving twice is fine
		n, err := s.CountPatients(ctx)
		must(t, err)
		if n != 1 {
			t.Fatalf("count = %d, want 1 (archived ones count)", n)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.Patient(ctx, "404")
		wantCode(t, err, core.ENOTFOUND, "id")
		wantCode(t, s.ArchivePatient(ctx, "404"), core.ENOTFOUND, "id")
		wantCode(t, s.UpdatePatient(ctx, &core.Patient{ID: "404", FirstName: "A", LastName: "B", Version: 1}), core.ENOTFOUND, "id")
	})

	t.Run("AssignedIDsIncrementAndAreNeverReused", func(t *testing.T) {
		s := open(t)
		a := create(t, s, patient("Ann", "Archer", 1970))
		b := create(t, s, patient("Bob", "Baker", 1971))
		must(t, s.ArchivePatient(ctx, b.ID))
		c := create(t, s, patient("Cy", "Cole", 1972))
		create(t, s, &core.Patient{ID: "500", FirstName: "Di", LastName: "Dunn"})
		e := create(t, s, patient("Ed", "Eve", 1973))
		create(t, s, &core.Patient{ID: "X-9", FirstName: "Fay", LastName: "Fox"})
		create(t, s, &core.Patient{ID: "0042", FirstName: "Gus", LastName: "Gray"})
		g := create(t, s, patient("Hal", "Hill", 1974))
		got := []string{a.ID, b.ID, c.ID, e.ID, g.ID}
		if fmt.Sprint(got) != "[1 2 3 501 502]" {
			t.Fatalf("assigned ids = %v, want [1 2 3 501 502]", got)
		}
	})

	t.Run("ExplicitDuplicateID", func(t *testing.T) {
		s := open(t)
		create(t, s, &core.Patient{ID: "P-1", FirstName: "Ann", LastName: "Archer"})
		create(t, s, patient("Bob", "Baker", 0)) // gets "1"
		for _, id := range []string{"P-1", "1"} {
			err := s.CreatePatient(ctx, &core.Patient{ID: id, FirstName: "Cy", LastName: "Cole"})
			wantCode(t, err, core.ECONFLICT, "id")
		}
		n, err := s.CountPatients(ctx)
		must(t, err)
		if n != 2 {
			t.Fatalf("count = %d after refused creates, want 2", n)
		}
		next := create(t, s, patient("Di", "Dunn", 0))
		if next.ID != "2" {
			t.Fatalf("next assigned id = %q, want 2 (a refused create takes no number)", next.ID)
		}
	})

	t.Run("VersionConflict", func(t *testing.T) {
		s := open(t)
		p := create(t, s, patient("Ann", "Archer", 1970))
		desk1, err := s.Patient(ctx, p.ID)
		must(t, err)
		desk2, err := s.Patient(ctx, p.ID)
		must(t, err)
		desk1.FirstName = "Anne"
		must(t, s.UpdatePatient(ctx, desk1))
		desk2.FirstName = "Annie"
		wantCode(t, s.UpdatePatient(ctx, desk2), core.ECONFLICT, "version")
		if desk2.Version != 1 {
			t.Errorf("refused update changed the caller's version to %d", desk2.Version)
		}
		stored, err := s.Patient(ctx, p.ID)
		must(t, err)
		if stored.FirstName != "Anne" || stored.Version != 2 {
			t.Fatalf("stored = %q version %d, want Anne version 2", stored.FirstName, stored.Version)
		}
		// An archive is an edit too: a desk holding the old version cannot
		// bring the patient back by saving.
		must(t, s.ArchivePatient(ctx, p.ID))
		stored.Archived = false
		wantCode(t, s.UpdatePatient(ctx, stored), core.ECONFLICT, "version")
	})

	t.Run("UpdateRestoresArchived", func(t *testing.T) {
		s := open(t)
		p := create(t, s, patient("Ann", "Archer", 1970))
		must(t, s.ArchivePatient(ctx, p.ID))
		got, err := s.Patient(ctx, p.ID)
		must(t, err)
		got.Archived = false
		must(t, s.UpdatePatient(ctx, got))
		res, err := s.SearchPatients(ctx, core.PatientQuery{Text: "archer"})
		must(t, err)
		sameIDs(t, "archer after restore", res, p.ID)
	})

	t.Run("EachPatientInIDOrder", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"b", "10", "", "A", "2", "a", ""} {
			create(t, s, &core.Patient{ID: id, FirstName: "Each", LastName: "Patient"})
		}
		must(t, s.ArchivePatient(ctx, "a"))
		var got []string
		must(t, s.EachPatient(ctx, func(p *core.Patient) error {
			got = append(got, p.ID)
			return nil
		}))
		// Digits by number (assigned ids 11 and 12 follow the explicit 10),
		// then the rest by text; archived ones included.
		if want := "[2 10 11 12 A a b]"; fmt.Sprint(got) != want {
			t.Fatalf("EachPatient order = %v, want %s", got, want)
		}
		stop := errors.New("stop")
		calls := 0
		err := s.EachPatient(ctx, func(*core.Patient) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("EachPatient with a failing fn: err=%v after %d calls, want stop after 1", err, calls)
		}
	})
}
