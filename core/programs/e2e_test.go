package programs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/programs"
	"ptdesk/core/sandbox"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

// TestSandboxToFiledPDF runs the whole flow: a practitioner in the sandbox
// assigns a program, the sandbox posts the webhook to the desk's listener,
// the worker downloads the PDF from the sandbox's temporary link and files
// it with the patient; an update adds a version; the desk is told.
func TestSandboxToFiledPDF(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(home, desk.DatabaseFile))
	must(t, err)
	logs := &syncBuffer{}
	d := desk.New(desk.Options{Store: store, Secrets: secrets.NewMemory(), Home: home,
		Logger: slogTo(logs)})
	defer d.Close()

	pr, err := d.AddPractitioner(ctx, core.Practitioner{Name: "Dr Lee", Server: "uk"})
	must(t, err)
	key, _, err := d.SetNewKey(ctx, pr.ID)
	must(t, err)
	jane, _, err := d.AddPatient(ctx, core.Patient{FirstName: "Jane", LastName: "Smith", BirthYear: 1980})
	must(t, err)
	secret, err := d.GenerateWebhookSecret(ctx)
	must(t, err)
	if fp, err := d.WebhookSecretFingerprint(ctx); err != nil || fp == "" {
		t.Fatalf("webhook secret fingerprint %q, %v", fp, err)
	}

	srv, err := d.StartPrograms(ctx, desk.ProgramsOptions{Addr: "127.0.0.1:0",
		Worker: programs.WorkerOptions{PollInterval: 50 * time.Millisecond}})
	must(t, err)
	defer srv.Close()

	sb := sandbox.New(sandbox.Options{Logger: slogTo(logs), WebhookURL: srv.URL(), WebhookSecret: secret, WebhookRetryDelay: time.Hour})
	sbRun, err := sb.Start(ctx, "127.0.0.1:0")
	must(t, err)
	defer sbRun.Close()
	must(t, sb.RegisterPractitioner("Dr Lee", key))
	must(t, d.SetDownloadOrigins(ctx, []string{"https://*.physitrack.com", sbRun.URL()}))

	var mu sync.Mutex
	var notices []desk.ProgramNotice
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		_ = d.WatchPrograms(ctx, 20*time.Millisecond, func(n desk.ProgramNotice) {
			mu.Lock()
			defer mu.Unlock()
			notices = append(notices, n)
		})
	}()
	time.Sleep(100 * time.Millisecond) // let the watcher take its starting point

	first, err := sb.SendProgram(ctx, "", sandbox.ProgramRequest{Token: key, PatientID: jane.ID, Name: "Knee rehab"})
	must(t, err)
	if len(first.Statuses) != 1 || first.Statuses[0] != http.StatusOK {
		t.Fatalf("webhook answers %v, want [200]", first.Statuses)
	}
	waitFor(t, "the program to be filed", func() bool {
		ps, err := d.Programs(ctx, jane.ID)
		return err == nil && len(ps) == 1
	})
	ps, err := d.Programs(ctx, jane.ID)
	must(t, err)
	p := ps[0]
	if p.Name != "Knee rehab" || p.PatientName != "Jane Smith" || p.PractitionerName != "Dr Lee" || p.Version != 1 || p.Updated {
		t.Fatalf("filed %+v", p)
	}
	path, err := d.ProgramFile(ctx, p.ID)
	must(t, err)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, first.PDF) {
		t.Fatal("the filed PDF is not what the sandbox served")
	}
	if !bytes.Contains(first.PDF, []byte("Knee rehab")) {
		t.Error("the sandbox's PDF does not name the program")
	}

	// The update, posted by a script through /sandbox/programs.
	res, err := http.PostForm(sbRun.URL()+"/sandbox/programs", url.Values{
		"token": {key}, "patient_id": {jane.ID}, "name": {"Knee rehab"}, "updated": {"true"}})
	must(t, err)
	var answer map[string]any
	must(t, json.NewDecoder(res.Body).Decode(&answer))
	res.Body.Close()
	if res.StatusCode != http.StatusOK || answer["webhook_status"] != float64(200) {
		t.Fatalf("script endpoint: %d %v", res.StatusCode, answer)
	}
	waitFor(t, "the update to be filed", func() bool {
		ps, err := d.Programs(ctx, jane.ID)
		return err == nil && len(ps) == 2
	})
	ps, err = d.Programs(ctx, jane.ID)
	must(t, err)
	if ps[0].Version != 2 || !ps[0].Updated || !strings.HasSuffix(ps[0].Path, "(v2).pdf") {
		t.Fatalf("update filed as %+v", ps[0].Program)
	}
	deliveries := sb.Deliveries()
	for i, p := range []*desk.ProgramEntry{ps[1], ps[0]} {
		path, err := d.ProgramFile(ctx, p.ID)
		must(t, err)
		if got, _ := os.ReadFile(path); !bytes.Equal(got, deliveries[i].PDF) {
			t.Fatalf("version %d on disk differs from what the sandbox served", p.Version)
		}
	}

	waitFor(t, "two notices", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(notices) >= 2
	})
	cancel()
	<-watchDone
	if notices[0].Message != "Knee rehab program for Jane Smith" || notices[1].Message != "Knee rehab program (updated) for Jane Smith" {
		t.Fatalf("notices %q / %q", notices[0].Message, notices[1].Message)
	}
	for _, s := range []string{key, secret} {
		if strings.Contains(logs.String(), s) {
			t.Fatal("a secret appears in the log")
		}
	}
}
