package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"ptdesk/core"
)

func runActivity(t *testing.T, open func(t *testing.T) core.Store) {
	ctx := context.Background()

	t.Run("RecordOpen", func(t *testing.T) {
		s := open(t)
		pr := createPractitioner(t, s, practitioner("Pia Open"))
		other := createPractitioner(t, s, practitioner("Ola Other"))
		a := create(t, s, patient("Ann", "Archer", 1970))
		b := create(t, s, patient("Bob", "Baker", 1971))
		c := create(t, s, patient("Cy", "Cole", 1972))

		sentA := map[string]string{"first_name": "Ann", "last_name": "Archer", "birth_year": "1970"}
		opens := []core.OpenRecord{
			{At: base, PractitionerID: pr.ID, PatientID: a.ID, DeskUser: "front", Sent: map[string]string{"first_name": "An"}},
			{At: base.Add(time.Minute), PractitionerID: pr.ID, PatientID: b.ID, DeskUser: "front"},
			{At: base.Add(2 * time.Minute), PractitionerID: pr.ID, PatientID: c.ID, DeskUser: "back"},
			{At: base.Add(3 * time.Minute), PractitionerID: pr.ID, PatientID: a.ID, DeskUser: "front", Sent: sentA},
			{At: base.Add(4 * time.Minute), PractitionerID: other.ID, PatientID: b.ID, DeskUser: "back"},
		}
		for _, o := range opens {
			must(t, s.RecordOpen(ctx, o))
		}

		recent, err := s.RecentPatients(ctx, pr.ID, 10)
		must(t, err)
		sameIDs(t, "recents", recent, a.ID, c.ID, b.ID)
		recent, err = s.RecentPatients(ctx, pr.ID, 2)
		must(t, err)
		sameIDs(t, "recents, 2", recent, a.ID, c.ID)
		recent, err = s.RecentPatients(ctx, other.ID, 10)
		must(t, err)
		sameIDs(t, "other practitioner's recents", recent, b.ID)
		if len(recent) == 1 && (recent[0].LastName != "Baker" || recent[0].BirthYear != 1971) {
			t.Errorf("recent patient = %+v, want every field", recent[0])
		}

		must(t, s.ArchivePatient(ctx, c.ID))
		recent, err = s.RecentPatients(ctx, pr.ID, 10)
		must(t, err)
		sameIDs(t, "recents without archived", recent, a.ID, b.ID)

		sent, err := s.LastSent(ctx, pr.ID, a.ID)
		must(t, err)
		if !reflect.DeepEqual(sent, sentA) {
			t.Errorf("last sent = %v, want %v (the latest open)", sent, sentA)
		}
		sent, err = s.LastSent(ctx, other.ID, a.ID)
		must(t, err)
		if sent != nil {
			t.Errorf("last sent for a pair never opened = %v, want nil", sent)
		}

		log, err := s.Audit(ctx)
		must(t, err)
		if len(log) != len(opens) {
			t.Fatalf("audit has %d lines, want %d", len(log), len(opens))
		}
		for i, o := range opens {
			want := core.AuditEntry{At: o.At, Action: "open", PractitionerID: o.PractitionerID, PatientID: o.PatientID, DeskUser: o.DeskUser}
			if got := log[i]; !got.At.Equal(want.At) || got.Action != want.Action || got.PractitionerID != want.PractitionerID ||
				got.PatientID != want.PatientID || got.DeskUser != want.DeskUser {
				t.Errorf("audit[%d] = %+v, want %+v", i, got, want)
			}
		}
	})

	t.Run("RecordOpenUnknown", func(t *testing.T) {
		s := open(t)
		pr := createPractitioner(t, s, practitioner("Pia Open"))
		a := create(t, s, patient("Ann", "Archer", 1970))
		wantCode(t, s.RecordOpen(ctx, core.OpenRecord{At: base, PractitionerID: pr.ID, PatientID: "404"}), core.ENOTFOUND, "patient_id")
		wantCode(t, s.RecordOpen(ctx, core.OpenRecord{At: base, PractitionerID: "404", PatientID: a.ID}), core.ENOTFOUND, "practitioner_id")
		log, err := s.Audit(ctx)
		must(t, err)
		if len(log) != 0 {
			t.Fatalf("a refused open left audit lines: %+v", log)
		}
	})

	t.Run("AuditOldestFirst", func(t *testing.T) {
		s := open(t)
		entries := []core.AuditEntry{
			{At: base.Add(time.Hour), Action: "import", DeskUser: "admin"},
			{At: base, Action: "rotate-key", PractitionerID: "3", DeskUser: "admin"},
			{At: base.Add(time.Hour), Action: "export", DeskUser: "admin"},
		}
		for _, e := range entries {
			must(t, s.AppendAudit(ctx, e))
		}
		log, err := s.Audit(ctx)
		must(t, err)
		var got []string
		for _, e := range log {
			got = append(got, e.Action)
		}
		// By time; entries with the same time in the order appended.
		if want := []string{"rotate-key", "import", "export"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("audit order = %v, want %v", got, want)
		}
		if log[0].PractitionerID != "3" || log[0].DeskUser != "admin" || !log[0].At.Equal(base) {
			t.Errorf("audit[0] = %+v", log[0])
		}
	})

	t.Run("Settings", func(t *testing.T) {
		s := open(t)
		got, err := s.Settings(ctx)
		must(t, err)
		storeID := got.StoreID
		if len(storeID) < 16 {
			t.Fatalf("a new store must have a random store id, got %q", storeID)
		}
		if other, err := open(t).Settings(ctx); err != nil || other.StoreID == storeID {
			t.Fatalf("two stores share the store id %q (%v)", storeID, err)
		}
		got.StoreID = ""
		if !reflect.DeepEqual(got, core.DefaultSettings()) {
			t.Fatalf("settings of a new store = %+v, want the defaults %+v", got, core.DefaultSettings())
		}
		want := core.Settings{PMSName: "umbrella_corporation", PhoneRegion: "GB",
			DownloadOrigins: []string{"https://*.physitrack.com", "https://files.example.com"}, DateOrder: "dmy"}
		must(t, s.SaveSettings(ctx, want))
		want.StoreID = storeID // SaveSettings never changes it
		got, err = s.Settings(ctx)
		must(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("settings = %+v, want %+v", got, want)
		}
		want = core.Settings{StoreID: "attempt-to-change", PMSName: "umbrella_corporation", PhoneRegion: "US"}
		must(t, s.SaveSettings(ctx, want))
		got, err = s.Settings(ctx)
		must(t, err)
		if got.StoreID != storeID {
			t.Fatalf("SaveSettings changed the store id to %q", got.StoreID)
		}
		if got.PhoneRegion != "US" || len(got.DownloadOrigins) != 0 || got.DateOrder != "" {
			t.Fatalf("settings after clearing origins and date order = %+v", got)
		}
	})
}
