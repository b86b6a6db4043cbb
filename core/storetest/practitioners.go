package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ptdesk/core"
)

func practitioner(name string) *core.Practitioner {
	return &core.Practitioner{Name: name, Email: "clinic@example.org", Server: "uk"}
}

func createPractitioner(t *testing.T, s core.Store, p *core.Practitioner) *core.Practitioner {
	t.Helper()
	if err := s.CreatePractitioner(context.Background(), p); err != nil {
		t.Fatalf("create practitioner %s: %v", p.Name, err)
	}
	return p
}

// sameKey fails unless got is want (both may be nil).
func sameKey(t *testing.T, what string, got, want *core.KeyInfo) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s: key = %+v, want %+v", what, got, want)
	case got.LookupHash != want.LookupHash || got.Fingerprint != want.Fingerprint || !got.SetAt.Equal(want.SetAt):
		t.Errorf("%s: key = %+v, want %+v", what, *got, *want)
	}
}

func runPractitioners(t *testing.T, open func(t *testing.T) core.Store) {
	ctx := context.Background()

	t.Run("CRUD", func(t *testing.T) {
		s := open(t)
		bea := createPractitioner(t, s, practitioner("Bea Lund"))
		al := createPractitioner(t, s, practitioner("al Ames"))
		if bea.ID != "1" || al.ID != "2" || bea.CreatedAt.IsZero() {
			t.Fatalf("ids = %q, %q, created %v; want 1, 2 and a time", bea.ID, al.ID, bea.CreatedAt)
		}
		got, err := s.Practitioner(ctx, "1")
		must(t, err)
		if got.Name != "Bea Lund" || got.Email != "clinic@example.org" || got.Server != "uk" ||
			!got.CreatedAt.Equal(bea.CreatedAt) || got.Key != nil {
			t.Fatalf("practitioner 1 = %+v", got)
		}
		list, err := s.Practitioners(ctx)
		must(t, err)
		if len(list) != 2 || list[0].ID != "2" || list[1].ID != "1" {
			t.Fatalf("practitioners = %v, want al Ames then Bea Lund (by name, regardless of case)", names(list))
		}

		got.Name, got.Email, got.Server = "Bea Lund-Berg", "", "https://eu.example.com"
		must(t, s.UpdatePractitioner(ctx, got))
		again, err := s.Practitioner(ctx, "1")
		must(t, err)
		if again.Name != "Bea Lund-Berg" || again.Email != "" || again.Server != "https://eu.example.com" {
			t.Fatalf("after update = %+v", again)
		}

		must(t, s.DeletePractitioner(ctx, "1"))
		_, err = s.Practitioner(ctx, "1")
		wantCode(t, err, core.ENOTFOUND, "id")
		wantCode(t, s.DeletePractitioner(ctx, "1"), core.ENOTFOUND, "id")
		wantCode(t, s.UpdatePractitioner(ctx, &core.Practitioner{ID: "1", Name: "X", Server: "us"}), core.ENOTFOUND, "id")
		c := createPractitioner(t, s, practitioner("Cy Dahl"))
		if c.ID != "3" {
			t.Fatalf("id after a delete = %q, want 3 (never reused)", c.ID)
		}
	})

	t.Run("ExplicitID", func(t *testing.T) {
		s := open(t)
		createPractitioner(t, s, &core.Practitioner{ID: "7", Name: "Seven", Server: "us"})
		err := s.CreatePractitioner(ctx, &core.Practitioner{ID: "7", Name: "Other", Server: "us"})
		wantCode(t, err, core.ECONFLICT, "id")
		if next := createPractitioner(t, s, practitioner("Next")); next.ID != "8" {
			t.Fatalf("next id = %q, want 8", next.ID)
		}
	})

	t.Run("UniqueNameRegardlessOfCase", func(t *testing.T) {
		s := open(t)
		createPractitioner(t, s, practitioner("Alice Berg"))
		bob := createPractitioner(t, s, practitioner("Bob Berg"))
		wantCode(t, s.CreatePractitioner(ctx, practitioner("ALICE berg")), core.ECONFLICT, "name")
		bob.Name = "alice BERG"
		wantCode(t, s.UpdatePractitioner(ctx, bob), core.ECONFLICT, "name")
		bob.Name = "BOB BERG" // a practitioner may change the case of their own name
		must(t, s.UpdatePractitioner(ctx, bob))
		list, err := s.Practitioners(ctx)
		must(t, err)
		if len(list) != 2 {
			t.Fatalf("practitioners = %v, want 2", names(list))
		}
	})

	t.Run("Keys", func(t *testing.T) {
		s := open(t)
		p := createPractitioner(t, s, practitioner("Kim Key"))
		other := createPractitioner(t, s, practitioner("Oda Other"))
		k1 := core.KeyInfo{LookupHash: "aa11", Fingerprint: "AAAA-1111", SetAt: base}
		k2 := core.KeyInfo{LookupHash: "bb22", Fingerprint: "BBBB-2222", SetAt: base.Add(time.Hour)}

		must(t, s.SetKeyInfo(ctx, p.ID, k1))
		got, err := s.Practitioner(ctx, p.ID)
		must(t, err)
		sameKey(t, "after first key", got.Key, &k1)

		must(t, s.SetKeyInfo(ctx, p.ID, k2))
		got, err = s.Practitioner(ctx, p.ID)
		must(t, err)
		sameKey(t, "after rotation", got.Key, &k2)

		for _, tc := range []struct {
			hash    string
			retired bool
		}{{"bb22", false}, {"aa11", true}} {
			found, retired, err := s.PractitionerByKeyHash(ctx, tc.hash)
			must(t, err)
			if found.ID != p.ID || retired != tc.retired {
				t.Errorf("by hash %s = practitioner %s retired %v, want %s retired %v", tc.hash, found.ID, retired, p.ID, tc.retired)
			}
			if found.Key == nil || found.Key.LookupHash != "bb22" {
				t.Errorf("by hash %s: practitioner's current key = %+v, want bb22", tc.hash, found.Key)
			}
		}
		_, _, err = s.PractitionerByKeyHash(ctx, "cc33")
		wantCode(t, err, core.ENOTFOUND, "key")

		wantCode(t, s.SetKeyInfo(ctx, other.ID, k1), core.ECONFLICT, "key")
		wantCode(t, s.SetKeyInfo(ctx, "404", core.KeyInfo{LookupHash: "dd44", Fingerprint: "DDDD-4444"}), core.ENOTFOUND, "id")

		must(t, s.ClearKeyInfo(ctx, p.ID))
		got, err = s.Practitioner(ctx, p.ID)
		must(t, err)
		sameKey(t, "after clear", got.Key, nil)
		_, retired, err := s.PractitionerByKeyHash(ctx, "bb22")
		must(t, err)
		if !retired {
			t.Errorf("cleared key is not retired")
		}
		must(t, s.ClearKeyInfo(ctx, p.ID)) // nothing left to clear
		wantCode(t, s.ClearKeyInfo(ctx, "404"), core.ENOTFOUND, "id")

		k3 := core.KeyInfo{LookupHash: "ee55", Fingerprint: "EEEE-5555", SetAt: base.Add(2 * time.Hour)}
		withKey := practitioner("Nia New")
		withKey.Key = &k3
		createPractitioner(t, s, withKey)
		found, retired, err := s.PractitionerByKeyHash(ctx, "ee55")
		must(t, err)
		if found.ID != withKey.ID || retired {
			t.Errorf("key given at create: found %s retired %v", found.ID, retired)
		}
		sameKey(t, "key given at create", found.Key, &k3)
	})

	t.Run("DeleteKeepsAudit", func(t *testing.T) {
		s := open(t)
		p := createPractitioner(t, s, practitioner("Gone Soon"))
		pat := create(t, s, patient("Ann", "Archer", 1970))
		must(t, s.RecordOpen(ctx, core.OpenRecord{At: base, PractitionerID: p.ID, PatientID: pat.ID, DeskUser: "desk1"}))
		must(t, s.AppendAudit(ctx, core.AuditEntry{At: base.Add(time.Minute), Action: "rotate-key", PractitionerID: p.ID}))
		must(t, s.DeletePractitioner(ctx, p.ID))
		log, err := s.Audit(ctx)
		must(t, err)
		if len(log) != 2 || log[0].PractitionerID != p.ID || log[1].PractitionerID != p.ID {
			t.Fatalf("audit after delete = %+v, want both lines kept", log)
		}
	})
}

func names(ps []*core.Practitioner) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID+":"+p.Name)
	}
	return fmt.Sprint(out)
}
