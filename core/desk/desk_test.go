package desk_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/keys"
)

func TestOpenRefusesBeforeTheBrowser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pat := f.mustPatient(t, core.Patient{FirstName: "Jane", LastName: "Smith", BirthYear: 1980})
	noKey, err := f.desk.AddPractitioner(ctx, core.Practitioner{Name: "Dr Lee", Server: "uk"})
	if err != nil {
		t.Fatal(err)
	}

	// No integration name yet.
	_, err = f.desk.Open(ctx, pat.ID, noKey.ID, desk.OpenOptions{})
	if core.ErrorField(err) != "pms-name" {
		t.Fatalf("open without integration name: %v, want an error on pms-name", err)
	}
	if err := f.desk.SetPMSName(ctx, "umbrella_corporation"); err != nil {
		t.Fatal(err)
	}
	// No key on this desk.
	_, err = f.desk.Open(ctx, pat.ID, "Dr Lee", desk.OpenOptions{})
	if core.ErrorCode(err) != core.EUNAUTHORIZED || core.ErrorField(err) != "key" || !strings.Contains(err.Error(), "Dr Lee") {
		t.Fatalf("open without key: %v, want unauthorized on key naming Dr Lee", err)
	}
	if err := f.desk.CheckOpen(ctx, pat.ID, noKey.ID); core.ErrorField(err) != "key" {
		t.Fatalf("CheckOpen must report the same refusal: %v", err)
	}
	// Unknown patient, archived patient.
	if _, err := f.desk.Open(ctx, "999", noKey.ID, desk.OpenOptions{}); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("open unknown patient: %v", err)
	}
	if _, _, err := f.desk.SetNewKey(ctx, noKey.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.ArchivePatient(ctx, pat.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Open(ctx, pat.ID, noKey.ID, desk.OpenOptions{}); core.ErrorField(err) != "archived" {
		t.Fatalf("open archived patient: %v", err)
	}
	if len(*f.opened) != 0 {
		t.Fatalf("a refused open must not start the browser; opened %d URLs", len(*f.opened))
	}
	if a, _ := f.desk.Audit(ctx); slices.ContainsFunc(a, func(e core.AuditEntry) bool { return e.Action == "open" }) {
		t.Fatal("a refused open must not be in the audit log")
	}
}

func TestOpenRecordsRecentAuditAndChanges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.desk.SetPMSName(ctx, "umbrella_corporation"); err != nil {
		t.Fatal(err)
	}
	dr, _ := f.mustPractitioner(t, "Dr Lee", "uk")
	a := f.mustPatient(t, core.Patient{FirstName: "Ann", LastName: "Able", BirthYear: 1970})
	b := f.mustPatient(t, core.Patient{FirstName: "Bob", LastName: "Baker", BirthYear: 1971})

	if _, never, err := f.desk.PendingChanges(ctx, a.ID, dr.ID); err != nil || !never {
		t.Fatalf("never opened: never=%v err=%v", never, err)
	}
	for _, id := range []string{a.ID, b.ID} {
		l, err := f.desk.Open(ctx, id, dr.ID, desk.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(l.URL, "http://127.0.0.1:") || strings.Contains(l.URL, "Ann") {
			t.Fatalf("launch URL %q is not an opaque loopback URL", l.URL)
		}
	}
	if len(*f.opened) != 2 {
		t.Fatalf("browser opened %d times, want 2", len(*f.opened))
	}
	recent, err := f.desk.RecentPatients(ctx, dr.ID, 5)
	if err != nil || len(recent) != 2 || recent[0].ID != b.ID || recent[1].ID != a.ID {
		t.Fatalf("recents = %v, %v; want Bob then Ann", recent, err)
	}
	entries, err := f.desk.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var opens []core.AuditEntry
	for _, e := range entries {
		if e.Action == "open" {
			opens = append(opens, e)
		}
	}
	if len(opens) != 2 || opens[0].PatientID != a.ID || opens[0].PractitionerID != dr.ID || opens[0].DeskUser == "" {
		t.Fatalf("audit opens = %+v", opens)
	}

	// Change two fields: the next open will update exactly those.
	a.Email, a.BirthYear = "ann@example.org", 1971
	if _, _, err := f.desk.EditPatient(ctx, *a); err != nil {
		t.Fatal(err)
	}
	changed, never, err := f.desk.PendingChanges(ctx, a.ID, dr.ID)
	if err != nil || never || !slices.Equal(changed, []string{"birth_year", "email"}) {
		t.Fatalf("pending changes = %v never=%v err=%v; want birth_year, email", changed, never, err)
	}
	// The launch page carries the fields once, then is gone.
	l, err := f.desk.Open(ctx, a.ID, dr.ID, desk.OpenOptions{NoBrowser: true})
	if err != nil {
		t.Fatal(err)
	}
	body := get(t, l.URL)
	if !strings.Contains(body, "ann@example.org") || !strings.Contains(body, `action="https://uk.physitrack.com/pmsapi/umbrella_corporation/v1/patients"`) {
		t.Fatalf("launch page lacks the patient or the right action:\n%s", body)
	}
	<-l.Fetched
	if again := get(t, l.URL); strings.Contains(again, "ann@example.org") {
		t.Fatal("the launch URL served the form twice")
	}
	if changed, _, _ := f.desk.PendingChanges(ctx, a.ID, dr.ID); len(changed) != 0 {
		t.Fatalf("after opening, nothing is pending; got %v", changed)
	}
}

func TestKeysStayOutOfTheStore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dr, key := f.mustPractitioner(t, "Dr Lee", "us")
	if st := f.desk.KeyStatus(ctx, dr); st != desk.KeyPresent {
		t.Fatalf("key status %v, want present", st)
	}
	if dr.Key == nil || dr.Key.Fingerprint != keys.Fingerprint(key) || dr.Key.LookupHash != keys.LookupHash(key) {
		t.Fatal("the store must keep the key's hash and fingerprint")
	}
	// Refused keys change nothing.
	if _, err := f.desk.SetKey(ctx, dr.ID, "short1A"); core.ErrorField(err) != "key" {
		t.Fatalf("weak key accepted: %v", err)
	}
	if st := f.desk.KeyStatus(ctx, dr); st != desk.KeyPresent {
		t.Fatal("a refused key must leave the old one in place")
	}
	// Rotation retires the old hash, so a late webhook still finds Dr Lee.
	next, _, err := f.desk.SetNewKey(ctx, dr.ID)
	if err != nil || next == key {
		t.Fatalf("rotate: %v", err)
	}
	p, retired, err := f.desk.Store().PractitionerByKeyHash(ctx, keys.LookupHash(key))
	if err != nil || p.ID != dr.ID || !retired {
		t.Fatalf("old key lookup = %v retired=%v err=%v", p, retired, err)
	}
	if _, err := f.desk.RemoveKey(ctx, dr.ID); err != nil {
		t.Fatal(err)
	}
	dr, _ = f.desk.FindPractitioner(ctx, dr.ID)
	if st := f.desk.KeyStatus(ctx, dr); st != desk.KeyNotSet {
		t.Fatalf("after remove, key status %v", st)
	}
	assertNoSecret(t, f, key, next)
}

func TestFindPractitioner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lee, _ := f.desk.AddPractitioner(ctx, core.Practitioner{Name: "Dr Lee"})
	_, _ = f.desk.AddPractitioner(ctx, core.Practitioner{Name: "Dr Leeds"})
	if p, err := f.desk.FindPractitioner(ctx, "dr lee"); err != nil || p.ID != lee.ID {
		t.Fatalf("exact name (any case) must win over a longer match: %v %v", p, err)
	}
	if p, err := f.desk.FindPractitioner(ctx, lee.ID); err != nil || p.ID != lee.ID {
		t.Fatalf("by id: %v %v", p, err)
	}
	if _, err := f.desk.FindPractitioner(ctx, "Lee"); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("an ambiguous name must be refused: %v", err)
	}
	if _, err := f.desk.FindPractitioner(ctx, "Nobody"); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("unknown: %v", err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
