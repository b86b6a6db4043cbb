package storetest

import (
	"context"
	"testing"

	"ptdesk/core"
)

func runImport(t *testing.T, open func(t *testing.T) core.Store) {
	ctx := context.Background()

	t.Run("Commit", func(t *testing.T) {
		s := open(t)
		kept := create(t, s, &core.Patient{ID: "C-1", FirstName: "Carl", LastName: "Kept", BirthYear: 1950})
		gone := create(t, s, &core.Patient{ID: "C-2", FirstName: "Greta", LastName: "Gone", BirthYear: 1951})
		must(t, s.ArchivePatient(ctx, gone.ID))

		im, err := s.BeginImport(ctx)
		must(t, err)
		defer im.Rollback()
		fresh := &core.Patient{FirstName: "José", LastName: "García", BirthYear: 1962, Email: "jose@example.org"}
		created, err := im.Upsert(ctx, fresh)
		must(t, err)
		if !created || fresh.ID != "1" || fresh.Version != 1 || fresh.CreatedAt.IsZero() {
			t.Fatalf("new row: created=%v id=%q version=%d created_at=%v", created, fresh.ID, fresh.Version, fresh.CreatedAt)
		}
		explicit := &core.Patient{ID: "900", FirstName: "Nia", LastName: "Nine", BirthYear: 1990}
		created, err = im.Upsert(ctx, explicit)
		must(t, err)
		if !created || explicit.ID != "900" {
			t.Fatalf("explicit new id: created=%v id=%q", created, explicit.ID)
		}
		update := &core.Patient{ID: "C-1", FirstName: "Carl", LastName: "Kept-Changed", BirthYear: 1950}
		created, err = im.Upsert(ctx, update)
		must(t, err)
		if created || update.Version != 2 || !update.CreatedAt.Equal(kept.CreatedAt) {
			t.Fatalf("existing row: created=%v version=%d created_at=%v (was %v)", created, update.Version, update.CreatedAt, kept.CreatedAt)
		}
		restore := &core.Patient{ID: "C-2", FirstName: "Greta", LastName: "Gone", BirthYear: 1951}
		created, err = im.Upsert(ctx, restore)
		must(t, err)
		if created || restore.Archived {
			t.Fatalf("archived row: created=%v archived=%v, want an update that restores it", created, restore.Archived)
		}
		after := &core.Patient{FirstName: "Ada", LastName: "After", BirthYear: 1970}
		_, err = im.Upsert(ctx, after)
		must(t, err)
		if after.ID != "901" {
			t.Fatalf("id assigned after explicit 900 = %q, want 901", after.ID)
		}

		// FindByNameYear sees rows of this import, folding case and accents.
		for _, tc := range []struct {
			first, last string
			year        int
			want        string
		}{
			{"JOSE", "garcia", 1962, "1"},
			{"josé", "GARCÍA", 1962, "1"},
			{"Jose", "Garcia", 1963, ""},
			{"Carl", "Kept-Changed", 1950, "C-1"},
			{"Carl", "Kept", 1950, ""},
			{"Nobody", "Here", 1962, ""},
		} {
			got, err := im.FindByNameYear(ctx, tc.first, tc.last, tc.year)
			must(t, err)
			if got != tc.want {
				t.Errorf("FindByNameYear(%s, %s, %d) = %q, want %q", tc.first, tc.last, tc.year, got, tc.want)
			}
		}
		must(t, im.Commit())
		must(t, im.Rollback()) // after Commit it does nothing

		n, err := s.CountPatients(ctx)
		must(t, err)
		if n != 5 {
			t.Fatalf("count after import = %d, want 5", n)
		}
		got, err := s.Patient(ctx, "C-2")
		must(t, err)
		if got.Archived {
			t.Errorf("C-2 still archived after the import updated it")
		}
		got, err = s.Patient(ctx, "C-1")
		must(t, err)
		if got.LastName != "Kept-Changed" || got.Version != 2 {
			t.Errorf("C-1 = %q version %d after import", got.LastName, got.Version)
		}
		res, err := s.SearchPatients(ctx, core.PatientQuery{Text: "garc"})
		must(t, err)
		sameIDs(t, "imported row found by search", res, "1")
		next := create(t, s, patient("Ed", "Next", 1980))
		if next.ID != "902" {
			t.Fatalf("id after import = %q, want 902", next.ID)
		}
	})

	t.Run("Rollback", func(t *testing.T) {
		s := open(t)
		kept := create(t, s, patient("Carl", "Kept", 1950))
		im, err := s.BeginImport(ctx)
		must(t, err)
		for p := range FakePatients(3, 50) {
			_, err := im.Upsert(ctx, p)
			must(t, err)
		}
		_, err = im.Upsert(ctx, &core.Patient{FirstName: "Rolf", LastName: "Rollback", BirthYear: 1960})
		must(t, err)
		_, err = im.Upsert(ctx, &core.Patient{ID: kept.ID, FirstName: "Carl", LastName: "Overwritten", BirthYear: 1950})
		must(t, err)
		must(t, im.Rollback())
		must(t, im.Rollback())

		n, err := s.CountPatients(ctx)
		must(t, err)
		if n != 1 {
			t.Fatalf("count after rollback = %d, want 1", n)
		}
		for _, text := range []string{"rollback", "overwritten", "rolf"} {
			res, err := s.SearchPatients(ctx, core.PatientQuery{Text: text, IncludeArchived: true})
			must(t, err)
			sameIDs(t, "search "+text+" after rollback", res)
		}
		res, err := s.SearchPatients(ctx, core.PatientQuery{Text: "kept"})
		must(t, err)
		sameIDs(t, "search kept after rollback", res, kept.ID)
		got, err := s.Patient(ctx, kept.ID)
		must(t, err)
		if got.LastName != "Kept" || got.Version != 1 {
			t.Fatalf("patient after rollback = %q version %d", got.LastName, got.Version)
		}
	})
}
