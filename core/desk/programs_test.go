package desk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/keys"
	"ptdesk/core/programs"
)

// programStore is the fixture's store as the program queue.
func (f *fixture) programStore(t *testing.T) core.ProgramStore {
	t.Helper()
	ps, ok := f.desk.Store().(core.ProgramStore)
	if !ok {
		t.Fatal("the store keeps no programs")
	}
	return ps
}

// recordEvent records a webhook event as the receiver would.
func (f *fixture) recordEvent(t *testing.T, patientID, name string) *core.WebhookEvent {
	t.Helper()
	e := &core.WebhookEvent{TokenHash: keys.LookupHash("SomeKey7Qm3Vx9Lp2Rt5Wz8Nc4Hb6Jd1Fs"), PatientID: patientID,
		FileURL: "https://uk.physitrack.com/pdf/" + name, Name: name, Date: "2026-11-28", DateISO: fixedNow}
	if _, err := f.programStore(t).RecordWebhook(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestWebhookSecretLivesInTheKeyring(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fp, err := f.desk.WebhookSecretFingerprint(ctx)
	if err != nil || fp != "" {
		t.Fatalf("fingerprint before any secret: %q, %v", fp, err)
	}
	secret, err := f.desk.GenerateWebhookSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Check(secret); err != nil {
		t.Fatalf("generated secret breaks the key rule: %v", err)
	}
	s, err := f.desk.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.secrets.Secret(s.StoreID + "/webhook-secret"); err != nil || got != secret {
		t.Fatalf("keyring entry %s/webhook-secret = %v, want the secret", s.StoreID, err)
	}
	if fp, _ := f.desk.WebhookSecretFingerprint(ctx); fp != keys.Fingerprint(secret) {
		t.Fatalf("fingerprint %q, want %q", fp, keys.Fingerprint(secret))
	}
	err = f.desk.SetWebhookSecret(ctx, "short")
	if core.ErrorCode(err) != core.EINVALID || core.ErrorField(err) != "webhook-secret" {
		t.Fatalf("weak secret: %v, want EINVALID on webhook-secret", err)
	}
	assertNoSecret(t, f, secret)
}

func TestRetryAndAssign(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.mustPatient(t, core.Patient{FirstName: "Jane", LastName: "Smith"})
	ps := f.programStore(t)

	lost := f.recordEvent(t, "999", "Knee")
	lost.Status, lost.LastError = core.WebhookUnmatched, "No patient has id 999."
	if err := ps.UpdateWebhook(ctx, lost); err != nil {
		t.Fatal(err)
	}
	_, err := f.desk.AssignProgram(ctx, lost.ID, "404")
	if core.ErrorCode(err) != core.ENOTFOUND || core.ErrorField(err) != "patient_id" {
		t.Fatalf("assign to a missing patient: %v", err)
	}
	e, err := f.desk.AssignProgram(ctx, lost.ID, jane.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ps.Webhook(ctx, lost.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != core.WebhookPending || stored.AssignedPatientID != jane.ID || stored.PatientID != "999" || e.ID != lost.ID {
		t.Fatalf("after assign: %+v", stored)
	}

	refused := f.recordEvent(t, jane.ID, "Hip")
	refused.Status, refused.Attempts, refused.NextAttemptAt = core.WebhookRefused, 1, fixedNow.Add(time.Hour)
	if err := ps.UpdateWebhook(ctx, refused); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := f.desk.RetryProgram(ctx, refused.ID); err != nil {
		t.Fatal(err)
	}
	stored, err = ps.Webhook(ctx, refused.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != core.WebhookPending || stored.NextAttemptAt.Before(before.Add(-time.Second)) || stored.NextAttemptAt.After(time.Now()) {
		t.Fatalf("after retry: %s next %v, want pending and due now", stored.Status, stored.NextAttemptAt)
	}
	due, err := ps.DueWebhooks(ctx, time.Now(), 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due after retry and assign: %d, %v; want both", len(due), err)
	}

	// Filed events and unknown ids are refused plainly.
	p := &core.Program{PatientID: jane.ID, Name: "Hip", Version: 1, SHA256: "ab", Path: "programs/1/x.pdf"}
	if err := ps.FileProgram(ctx, refused.ID, p, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.RetryProgram(ctx, refused.ID); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("retry of a filed event: %v, want ECONFLICT", err)
	}
	if _, err := f.desk.RetryProgram(ctx, 4040); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("retry of a missing event: %v, want ENOTFOUND", err)
	}
	audit, err := f.desk.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+":"+a.PatientID)
	}
	if got := strings.Join(actions, " "); !strings.Contains(got, "program-assign:"+jane.ID) || !strings.Contains(got, "program-retry:"+jane.ID) {
		t.Fatalf("audit = %s", got)
	}

	inbox, err := f.desk.ProgramInbox(ctx, core.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox) != 1 || inbox[0].ID != lost.ID || inbox[0].PatientName != "Jane Smith" {
		t.Fatalf("inbox = %+v, want the assigned event under Jane's name", inbox)
	}
}

func TestProgramsListAndFiles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jane := f.mustPatient(t, core.Patient{FirstName: "Jane", LastName: "Smith"})
	lee, _ := f.mustPractitioner(t, "Dr Lee", "uk")
	ps := f.programStore(t)

	rel := "programs/" + jane.ID + "/2026-11-28_Knee.pdf"
	abs := filepath.Join(f.home, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(abs, []byte("%PDF-1.4 knee"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    core.Program
		pdf  []byte
	}{
		{"file", core.Program{Name: "Knee", Path: rel}, nil},
		{"in the store", core.Program{Name: "Hip", Date: "2026-11-28"}, []byte("%PDF-1.4 hip")},
		{"outside the programs folder", core.Program{Name: "Evil", Path: "../outside.pdf"}, nil},
		{"missing file", core.Program{Name: "Gone", Path: "programs/" + jane.ID + "/gone.pdf"}, nil},
	}
	ids := map[string]int64{}
	for i, tt := range tests {
		e := f.recordEvent(t, jane.ID, tt.p.Name)
		p := tt.p
		p.PatientID, p.PractitionerID, p.Version, p.SHA256, p.CreatedAt = jane.ID, lee.ID, 1, "ab", fixedNow.Add(time.Duration(i)*time.Minute)
		if err := ps.FileProgram(ctx, e.ID, &p, tt.pdf); err != nil {
			t.Fatal(err)
		}
		ids[tt.name] = p.ID
	}
	list, err := f.desk.Programs(ctx, jane.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 || list[3].Name != "Knee" || list[3].PatientName != "Jane Smith" || list[3].PractitionerName != "Dr Lee" {
		t.Fatalf("programs = %+v", list)
	}
	path, err := f.desk.ProgramFile(ctx, ids["file"])
	if err != nil || path != abs {
		t.Fatalf("file of a filed PDF: %q, %v; want %q", path, err, abs)
	}
	path, err = f.desk.ProgramFile(ctx, ids["in the store"])
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "%PDF-1.4 hip" || !strings.HasPrefix(path, f.home) || !strings.HasSuffix(path, ".pdf") {
		t.Fatalf("copy of a stored PDF at %q holds %q", path, b)
	}
	if err := f.desk.OpenProgram(ctx, ids["file"]); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.ShowProgramFolder(ctx, ids["file"]); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(*f.opened, "|"); got != abs+"|"+filepath.Dir(abs) {
		t.Fatalf("opened %q, want the PDF then its folder", got)
	}
	if _, err := f.desk.ProgramFile(ctx, ids["outside the programs folder"]); core.ErrorCode(err) != core.EINTERNAL {
		t.Fatalf("a path outside the programs folder: %v, want a refusal", err)
	}
	if _, err := f.desk.ProgramFile(ctx, ids["missing file"]); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("a missing file: %v, want ENOTFOUND", err)
	}
	if got := desk.FiledMessage(list[3]); got != "Knee program for Jane Smith" {
		t.Fatalf("notification %q", got)
	}
}

func TestStartProgramsRefusesAnOpenSecretFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix permission bits to check")
	}
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "secret")
	if err := programs.WriteSecretFile(path, "Webhook7Secret4Qm3Vx9Lp2Rt5Wz8Nc4Hb"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := f.desk.StartPrograms(context.Background(), desk.ProgramsOptions{Addr: "127.0.0.1:0", SecretFile: path})
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable secret file: %v", err)
	}
}

// TestServeAnswersHealth: the listener a clinic runs also answers GET
// /healthz with the database and queue state.
func TestServeAnswersHealth(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "secret")
	if err := programs.WriteSecretFile(path, "Webhook7Secret4Qm3Vx9Lp2Rt5Wz8Nc4Hb"); err != nil {
		t.Fatal(err)
	}
	srv, err := f.desk.StartPrograms(context.Background(), desk.ProgramsOptions{Addr: "127.0.0.1:0", SecretFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.Scheme + "://" + u.Host + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h desk.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != http.StatusOK || h.Database != "sqlite" {
		t.Fatalf("GET /healthz: %d %+v %v", resp.StatusCode, h, err)
	}
}
