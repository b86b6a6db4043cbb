package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/sqlite"
)

func TestTransferKeyHistory(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.UTC)
	db := MustOpenDB(t, sqlite.WithNow(func() time.Time { return now }))
	if ks, err := db.KeyHistory(ctx); err != nil || len(ks) != 0 {
		t.Fatalf("empty directory: %v, %v; want no keys", ks, err)
	}
	ann := &core.Practitioner{Name: "Ann Physio", Server: "eu"}
	bob := &core.Practitioner{Name: "Bob Physio", Server: "eu"}
	for _, p := range []*core.Practitioner{ann, bob} {
		if err := db.CreatePractitioner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	set := func(p *core.Practitioner, hash, fingerprint string) {
		t.Helper()
		if err := db.SetKeyInfo(ctx, p.ID, core.KeyInfo{LookupHash: hash, Fingerprint: fingerprint}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := now.Truncate(time.Microsecond)
	set(bob, "bb", "BBBB-0001")
	set(ann, "cc", "CCCC-0001")
	now = now.Add(time.Hour)
	t1 := now.Truncate(time.Microsecond)
	set(ann, "aa", "AAAA-0002") // retires cc
	now = now.Add(time.Hour)
	t2 := now.Truncate(time.Microsecond)
	if err := db.ClearKeyInfo(ctx, bob.ID); err != nil { // retires bb
		t.Fatal(err)
	}

	got, err := db.KeyHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(p *core.Practitioner, hash, fp string, setAt, retired time.Time) core.KeyRecord {
		return core.KeyRecord{PractitionerID: p.ID, KeyInfo: core.KeyInfo{LookupHash: hash, Fingerprint: fp, SetAt: setAt}, RetiredAt: retired}
	}
	want := []core.KeyRecord{
		rec(ann, "aa", "AAAA-0002", t1, time.Time{}),
		rec(ann, "cc", "CCCC-0001", t0, t1),
		rec(bob, "bb", "BBBB-0001", t0, t2),
	}
	if ann.ID > bob.ID {
		want = append(want[2:], want[:2]...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("key history\n got %+v\nwant %+v", got, want)
	}
	for _, k := range got {
		if k.SetAt.Location() != time.UTC || (!k.RetiredAt.IsZero() && k.RetiredAt.Location() != time.UTC) {
			t.Fatalf("times of %+v are not UTC", k)
		}
	}
}

func TestTransferRecents(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	db := MustOpenDB(t, sqlite.WithNow(func() time.Time { return now }))
	if rs, err := db.Recents(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("empty directory: %v, %v; want no recents", rs, err)
	}
	pr := &core.Practitioner{Name: "Ann Physio", Server: "eu"}
	if err := db.CreatePractitioner(ctx, pr); err != nil {
		t.Fatal(err)
	}
	var pts []*core.Patient
	for _, last := range []string{"Archer", "Baker", "Carter"} {
		p := &core.Patient{FirstName: "Cleo", LastName: last}
		if err := db.CreatePatient(ctx, p); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	open := func(p *core.Patient, at time.Time, sent map[string]string) {
		t.Helper()
		if err := db.RecordOpen(ctx, core.OpenRecord{At: at, PractitionerID: pr.ID, PatientID: p.ID, DeskUser: "frontdesk", Sent: sent}); err != nil {
			t.Fatal(err)
		}
	}
	same := now.Add(time.Minute)
	open(pts[0], now, map[string]string{"email": "cleo@example.com"})
	open(pts[2], same, nil)
	open(pts[1], same, map[string]string{"phone": "+44 20 7946 0000"})
	// Opening the first patient again makes it the newest.
	later := now.Add(time.Hour)
	open(pts[0], later, map[string]string{"email": "cleo.archer@example.com"})

	got, err := db.Recents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []core.Recent{
		{PractitionerID: pr.ID, PatientID: pts[2].ID, OpenedAt: same, LastSent: map[string]string{}},
		{PractitionerID: pr.ID, PatientID: pts[1].ID, OpenedAt: same, LastSent: map[string]string{"phone": "+44 20 7946 0000"}},
		{PractitionerID: pr.ID, PatientID: pts[0].ID, OpenedAt: later, LastSent: map[string]string{"email": "cleo.archer@example.com"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recents\n got %+v\nwant %+v", got, want)
	}
}
