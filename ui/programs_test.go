package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// fileProgram records a webhook for the patient and files a PDF for it, as
// the worker does.
func fileProgram(t *testing.T, h *harness, patientID, practitionerID, name string, updated bool) *core.Program {
	t.Helper()
	ps := h.desk.Store().(core.ProgramStore)
	date := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	e := &core.WebhookEvent{ReceivedAt: date, TokenHash: "hash-" + name, PractitionerID: practitionerID, PatientID: patientID,
		FileURL: "https://example.physitrack.com/" + name + ".pdf", Name: name, Date: "2026-03-11", DateISO: date, Updated: updated,
		Status: core.WebhookPending, NextAttemptAt: date}
	if _, err := ps.RecordWebhook(h.ctx, e); err != nil {
		t.Fatal(err)
	}
	rel := filepath.ToSlash(filepath.Join("programs", patientID, "2026-03-11_"+name+".pdf"))
	path := filepath.Join(h.desk.Home(), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("%PDF-1.4 test"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &core.Program{EventID: e.ID, PatientID: patientID, PractitionerID: practitionerID, Name: name, Date: "2026-03-11",
		CreatedAt: date, Updated: updated, Version: 1, Path: rel, SHA256: "x", Size: 13, FiledAt: date}
	if err := ps.FileProgram(h.ctx, e.ID, p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProgramsTabListsAndOpensPDFs(t *testing.T) {
	var jane *core.Patient
	var lee *core.Practitioner
	var filed *core.Program
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		lee = h.practitioner("Dr Alex Lee", true)
		jane = h.patient("Jane", "Smith", 1980)
		h.patient("John", "Brown", 1975)
		filed = fileProgram(t, h, jane.ID, lee.ID, "Knee rehab", false)
	})
	h.app.editPatient(jane.ID, "")
	form := h.app.form
	tabs, ok := form.win.Content().(*container.AppTabs)
	if !ok {
		t.Fatalf("the patient form of a stored patient has no tabs: %T", form.win.Content())
	}
	if len(tabs.Items) != 2 || tabs.Items[1].Text != "Programs" {
		t.Fatalf("tabs: %v", tabs.Items)
	}
	tabs.SelectIndex(1)
	v := h.app.extras().programs[len(h.app.extras().programs)-1]
	if len(v.items) != 1 || v.items[0].Name != "Knee rehab" || v.items[0].PractitionerName != "Dr Alex Lee" {
		t.Fatalf("programs shown: %+v", v.items)
	}
	if !strings.Contains(v.note.Text, "1 program") {
		t.Fatalf("note: %q", v.note.Text)
	}
	// The row shows the name, date, practitioner, and Open PDF opens the
	// file with the system's viewer (the desk's opener).
	row := v.list.CreateItem()
	v.list.UpdateItem(0, row)
	r := row.(*programRowWidget).row
	if r.name.Text != "Knee rehab" || r.date.Text != "2026-03-11" || r.who.Text != "Dr Alex Lee" || r.updated.Text != "" {
		t.Fatalf("row: %q %q %q %q", r.name.Text, r.date.Text, r.who.Text, r.updated.Text)
	}
	test.Tap(r.open)
	want := filepath.Join(h.desk.Home(), filepath.FromSlash(filed.Path))
	if got := h.browser.urls; len(got) != 1 || got[0] != want {
		t.Fatalf("opened %q, want %q", got, want)
	}
	test.Tap(r.folder)
	if got := h.browser.urls; len(got) != 2 || got[1] != filepath.Dir(want) {
		t.Fatalf("show in folder opened %q, want %q", got, filepath.Dir(want))
	}

	// An update arrives: a change refreshes the open tab.
	fileProgram(t, h, jane.ID, lee.ID, "Knee rehab week 2", true)
	h.app.onChange(core.Change{Kind: core.ChangeProgram, ID: jane.ID})
	if len(v.items) != 2 {
		t.Fatalf("after the change: %d programs", len(v.items))
	}
	v.list.UpdateItem(0, row)
	if r.updated.Text != "Updated" {
		t.Fatalf("the update is not marked: %q", r.updated.Text)
	}

	// A missing file is said plainly, not opened.
	os.Remove(want)
	v.list.UpdateItem(1, row)
	test.Tap(r.open)
	if !containsText(overlayTexts(form.win), "missing") {
		t.Fatalf("no error about the missing PDF: %q", overlayTexts(form.win))
	}
}

func TestNewPatientHasNoProgramsTab(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	h.app.newPatient()
	if _, ok := h.app.form.win.Content().(*container.AppTabs); ok {
		t.Fatal("a new patient shows a Programs tab")
	}
}

func TestProgramNotification(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	cases := []struct {
		notice desk.ProgramNotice
		title  string
	}{
		{desk.ProgramNotice{Program: &desk.ProgramEntry{Program: &core.Program{Name: "Knee rehab", PatientID: "1"}, PatientName: "Jane Smith"}}, "Program arrived"},
		{desk.ProgramNotice{Event: &desk.InboxEntry{WebhookEvent: &core.WebhookEvent{Name: "Back care", Status: core.WebhookUnmatched}}}, "Program needs attention"},
	}
	for _, c := range cases {
		if c.notice.Program != nil {
			c.notice.Message = desk.FiledMessage(c.notice.Program)
		} else {
			c.notice.Message = desk.AttentionMessage(c.notice.Event)
		}
		n := programNotification(c.notice)
		if n.Title != c.title || n.Content != c.notice.Message {
			t.Errorf("notification %q %q, want title %q", n.Title, n.Content, c.title)
		}
		h.app.onProgramNotice(c.notice)
		if h.app.status.Text != c.notice.Message {
			t.Errorf("status %q, want %q", h.app.status.Text, c.notice.Message)
		}
	}
	if got := desk.FiledMessage(cases[0].notice.Program); got != "Knee rehab program for Jane Smith" {
		t.Errorf("message %q", got)
	}
}

func TestListenerLine(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{core.Errorf(core.EUNAUTHORIZED, "webhook-secret", "No webhook secret."), "not running — no webhook secret set"},
		{core.Errorf(core.ECONFLICT, "serve", "ptdeskctl serve already receives programs for this directory."), "ptdeskctl serve already"},
		{core.Errorf(core.ECONFLICT, "addr", "Port 8765 is taken."), "Port 8765 is taken"},
	}
	for _, c := range cases {
		if got := listenerLine(nil, c.err); !strings.Contains(got, c.want) {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}

func TestStartLiveWithoutSecretSaysSo(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	stop := h.app.StartLive(ctx)
	defer stop()
	// The listener is started on a goroutine: wait (without a deadline
	// assertion) for its status line.
	for i := 0; i < 500 && h.app.ListenerStatus() == "Program listener: not started."; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.app.ListenerStatus(); !strings.Contains(got, "no webhook secret set") {
		t.Fatalf("listener status %q", got)
	}
}
