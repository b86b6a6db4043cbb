package desk_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
	"ptdesk/core/storetest"
)

// deskDirectory is a desk's SQLite directory with a bit of everything a
// migration copies.
type deskDirectory struct {
	home      string
	storeID   string
	patients  []*core.Patient
	pdf       []byte
	retired   string // a retired key hash
	practID   string
	patientID string   // opened by practID
	recents   []string // practID's recents, newest first
}

func newDeskDirectory(t *testing.T, ids ...string) *deskDirectory {
	t.Helper()
	ctx := context.Background()
	d := &deskDirectory{home: t.TempDir()}
	db, err := sqlite.Open(ctx, filepath.Join(d.home, desk.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Settings(ctx)
	must(t, err)
	s.PMSName, s.PhoneRegion = "umbrella_corporation", "GB"
	must(t, db.SaveSettings(ctx, s))
	d.storeID = s.StoreID

	for _, id := range ids {
		p := &core.Patient{ID: id, FirstName: "Explicit", LastName: "Id" + id, BirthYear: 1960}
		must(t, db.CreatePatient(ctx, p))
	}
	im, err := db.BeginImport(ctx)
	must(t, err)
	for p := range storetest.FakePatients(11, 300) {
		_, err := im.Upsert(ctx, p)
		must(t, err)
	}
	must(t, im.Commit())
	jose := &core.Patient{FirstName: "José", LastName: "Ødegaard", BirthYear: 1962, Email: "jose@example.org", Phone: "+447700900123"}
	must(t, db.CreatePatient(ctx, jose))
	jose.DiagnosisCode = "M54.5"
	must(t, db.UpdatePatient(ctx, jose))
	var all []string
	must(t, db.EachPatient(ctx, func(p *core.Patient) error { all = append(all, p.ID); return nil }))
	must(t, db.ArchivePatient(ctx, all[6]))
	must(t, db.EachPatient(ctx, func(p *core.Patient) error { d.patients = append(d.patients, p); return nil }))

	pr := &core.Practitioner{Name: "Pia Move", Email: "pia@example.org", Server: "uk"}
	must(t, db.CreatePractitioner(ctx, pr))
	must(t, db.SetKeyInfo(ctx, pr.ID, core.KeyInfo{LookupHash: "aa11", Fingerprint: "AAAA-1111", SetAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}))
	must(t, db.SetKeyInfo(ctx, pr.ID, core.KeyInfo{LookupHash: "bb22", Fingerprint: "BBBB-2222"}))
	d.retired, d.practID, d.patientID = "aa11", pr.ID, jose.ID
	other := &core.Practitioner{Name: "Oda Other", Server: "us"}
	must(t, db.CreatePractitioner(ctx, other))
	d.recents = []string{all[4], jose.ID, all[2]}
	for i, id := range []string{all[2], jose.ID, all[4]} {
		must(t, db.RecordOpen(ctx, core.OpenRecord{At: time.Date(2026, 2, 1, 9, i, 0, 0, time.UTC), PractitionerID: pr.ID,
			PatientID: id, DeskUser: "front", Sent: map[string]string{"id": id, "first_name": "x"}}))
	}
	must(t, db.AppendAudit(ctx, core.AuditEntry{Action: "key-set", PractitionerID: pr.ID, DeskUser: "admin"}))

	// Program webhooks: one filed (its PDF in the data directory), one
	// waiting, one unmatched.
	d.pdf = []byte("%PDF-1.4 a knee program")
	sum := sha256.Sum256(d.pdf)
	base := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	var events []*core.WebhookEvent
	for i, st := range []core.WebhookStatus{core.WebhookPending, core.WebhookPending, core.WebhookUnmatched} {
		e := &core.WebhookEvent{ReceivedAt: base.Add(time.Duration(i) * time.Minute), TokenHash: "bb22", PatientID: jose.ID,
			FileURL: fmt.Sprintf("https://uk.physitrack.com/pdf/%d", i), Name: fmt.Sprintf("Knee %d", i), Date: "2026-03-14",
			DateISO: base.Add(time.Duration(i) * time.Hour), Status: st, LastError: map[bool]string{true: "no such patient"}[st == core.WebhookUnmatched]}
		_, err := db.RecordWebhook(ctx, e)
		must(t, err)
		events = append(events, e)
	}
	rel := "programs/" + jose.ID + "/2026-03-14_Knee 0.pdf"
	must(t, os.MkdirAll(filepath.Join(d.home, "programs", jose.ID), 0o700))
	must(t, os.WriteFile(filepath.Join(d.home, filepath.FromSlash(rel)), d.pdf, 0o600))
	must(t, db.FileProgram(ctx, events[0].ID, &core.Program{PatientID: jose.ID, PractitionerID: pr.ID, Name: "Knee 0", Date: "2026-03-14",
		CreatedAt: events[0].DateISO, Version: 1, Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(d.pdf)),
		FiledAt: base.Add(time.Hour)}, nil))
	return d
}

func (d *deskDirectory) from() string { return "sqlite:" + d.home }

func TestMigrateSQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	src := newDeskDirectory(t, "500", "P-9")
	var progress strings.Builder
	r, err := desk.Migrate(ctx, desk.MigrateOptions{From: src.from(), To: url, Progress: &progress})
	must(t, err)
	if r.Patients != len(src.patients) || r.Practitioners != 2 || r.Keys != 2 || r.Recents != 3 || r.Audit != 4 ||
		r.Events != 3 || r.Programs != 1 || len(r.Clashes) != 0 {
		t.Fatalf("report = %+v; want %d patients, 2 practitioners, 2 keys, 3 recents, 4 audit lines, 3 events, 1 program, no clash",
			r, len(src.patients))
	}
	for _, kind := range []string{"patients", "practitioners", "recents", "audit lines", "program webhooks and programs"} {
		if len(r.Checksums[kind]) != 64 || !strings.Contains(progress.String(), kind+": ") {
			t.Errorf("%s: checksum %q, progress %q", kind, r.Checksums[kind], progress.String())
		}
	}
	if r.StoreID != src.storeID {
		t.Errorf("store id = %q, want the desk's %q (its keyring entries keep working)", r.StoreID, src.storeID)
	}

	db, err := postgres.Open(ctx, url)
	must(t, err)
	defer db.Close()
	var got []*core.Patient
	must(t, db.EachPatient(ctx, func(p *core.Patient) error { got = append(got, p); return nil }))
	if !reflect.DeepEqual(got, src.patients) {
		t.Fatalf("patients differ after the move: %d vs %d", len(got), len(src.patients))
	}
	res, err := db.SearchPatients(ctx, core.PatientQuery{Text: "odeg jo"})
	must(t, err)
	if len(res) != 1 || res[0].ID != src.patientID {
		t.Fatalf("search after the move = %v", res)
	}
	next := &core.Patient{FirstName: "New", LastName: "Desk"}
	must(t, db.CreatePatient(ctx, next))
	if n := mustAtoi(t, next.ID); n <= 500 || n <= len(src.patients) {
		t.Fatalf("next id after the move = %s, want one past every copied id", next.ID)
	}
	p, retired, err := db.PractitionerByKeyHash(ctx, src.retired)
	must(t, err)
	if p.ID != src.practID || !retired || p.Key == nil || p.Key.LookupHash != "bb22" {
		t.Fatalf("retired key: practitioner %+v retired %v", p, retired)
	}
	recent, err := db.RecentPatients(ctx, src.practID, 10)
	must(t, err)
	if ids := patientIDs(recent); fmt.Sprint(ids) != fmt.Sprint(src.recents) {
		t.Fatalf("recents = %v, want %v", ids, src.recents)
	}
	sent, err := db.LastSent(ctx, src.practID, src.recents[0])
	must(t, err)
	if sent["id"] != src.recents[0] {
		t.Fatalf("last sent = %v", sent)
	}
	s, err := db.Settings(ctx)
	must(t, err)
	if s.PMSName != "umbrella_corporation" || s.PhoneRegion != "GB" || s.StoreID != src.storeID {
		t.Fatalf("settings = %+v", s)
	}
	progs, err := db.Programs(ctx, src.patientID)
	must(t, err)
	if len(progs) != 1 || progs[0].Path != "" {
		t.Fatalf("programs = %+v, want one kept in the database", progs)
	}
	pdf, err := db.ProgramPDF(ctx, progs[0].ID)
	must(t, err)
	if string(pdf) != string(src.pdf) {
		t.Fatalf("PDF = %q", pdf)
	}
	inbox, err := db.Inbox(ctx, core.InboxFilter{})
	must(t, err)
	if len(inbox) != 2 || inbox[0].Status != core.WebhookUnmatched || inbox[0].LastError != "no such patient" {
		t.Fatalf("inbox = %+v", inbox)
	}

	// Migrating again into the now used database is refused...
	_, err = desk.Migrate(ctx, desk.MigrateOptions{From: src.from(), To: url})
	if core.ErrorCode(err) != core.ECONFLICT || core.ErrorField(err) != "to" {
		t.Fatalf("second migration: %v, want ECONFLICT on to", err)
	}
}

func TestMigrateMergeReportsClashes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	first := newDeskDirectory(t)
	_, err := desk.Migrate(ctx, desk.MigrateOptions{From: first.from(), To: url})
	must(t, err)
	db, err := postgres.Open(ctx, url)
	must(t, err)
	defer db.Close()
	before, err := db.Patient(ctx, "1")
	must(t, err)

	// A second desk whose ids are the first's: every patient clashes
	// but the ones with explicit ids the first lacks.
	second := newDeskDirectory(t, "X-1", "X-2")
	sec := secrets.NewMemory()
	must(t, sec.SetSecret(core.PractitionerKeyName(second.storeID, second.practID), "key-of-the-second-desk"))
	r, err := desk.Migrate(ctx, desk.MigrateOptions{From: second.from(), To: url, Merge: true, Secrets: sec})
	must(t, err)
	if r.Patients != 2 || r.Practitioners != 0 {
		t.Fatalf("merge copied %d patients and %d practitioners, want 2 and 0 (the rest clash)", r.Patients, r.Practitioners)
	}
	clashes := strings.Join(r.Clashes, "\n")
	for _, want := range []string{"patient 1:", "practitioner " + second.practID, "program webhook"} {
		if !strings.Contains(clashes, want) {
			t.Errorf("clashes do not mention %q:\n%s", want, clashes)
		}
	}
	after, err := db.Patient(ctx, "1")
	must(t, err)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("a clashing patient was overwritten: %+v, was %+v", after, before)
	}
	for _, id := range []string{"X-1", "X-2"} {
		if _, err := db.Patient(ctx, id); err != nil {
			t.Errorf("merged patient %s: %v", id, err)
		}
	}
	if r.StoreID != first.storeID {
		t.Fatalf("a merge changed the database's store id to %q", r.StoreID)
	}
}

func TestMigrateRefusesADamagedPDFAndCommitsNothing(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	src := newDeskDirectory(t)
	must(t, filepath.WalkDir(filepath.Join(src.home, "programs"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			return os.WriteFile(p, []byte("%PDF-1.4 something else"), 0o600)
		}
		return err
	}))
	_, err := desk.Migrate(ctx, desk.MigrateOptions{From: src.from(), To: url})
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), "SHA-256") {
		t.Fatalf("migration with a damaged PDF: %v, want EINVALID about the SHA-256", err)
	}
	db, err := postgres.Open(ctx, url)
	must(t, err)
	defer db.Close()
	empty, err := db.Empty(ctx)
	must(t, err)
	if !empty {
		t.Fatal("a failed migration left rows behind")
	}
}

func TestMigrateArguments(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, from, to, field string
	}{
		{"no source", "", "postgres://x@127.0.0.1/db", "from"},
		{"source not SQLite", "postgres://x@127.0.0.1/db", "postgres://x@127.0.0.1/db", "from"},
		{"target not PostgreSQL", "sqlite:" + t.TempDir(), "sqlite:/tmp/x", "to"},
		{"no directory there", "sqlite:" + filepath.Join(t.TempDir(), "none"), "postgres://x@127.0.0.1/db", "from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := desk.Migrate(ctx, desk.MigrateOptions{From: tt.from, To: tt.to})
			if core.ErrorField(err) != tt.field {
				t.Fatalf("err = %v, want one about %s", err, tt.field)
			}
		})
	}
}

func patientIDs(ps []*core.Patient) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
