package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"ptdesk/core"
)

// recordEvent records a webhook event in the given state.
func recordEvent(t *testing.T, h *harness, patientID, name string, status core.WebhookStatus, reason string) *core.WebhookEvent {
	t.Helper()
	ps := h.desk.Store().(core.ProgramStore)
	date := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	e := &core.WebhookEvent{ReceivedAt: date, TokenHash: "hash-" + name, PatientID: patientID,
		FileURL: "https://example.physitrack.com/" + name + ".pdf", Name: name, Date: "2026-03-11", DateISO: date,
		Status: core.WebhookPending, NextAttemptAt: date}
	if _, err := ps.RecordWebhook(h.ctx, e); err != nil {
		t.Fatal(err)
	}
	if status != core.WebhookPending {
		e.Status, e.LastError = status, reason
		if err := ps.UpdateWebhook(h.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestInboxListsEventsWithTheirState(t *testing.T) {
	var jane *core.Patient
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		lee := h.practitioner("Dr Alex Lee", true)
		jane = h.patient("Jane", "Smith", 1980)
		recordEvent(t, h, "P-404", "Shoulder", core.WebhookUnmatched, "")
		recordEvent(t, h, jane.ID, "Back care", core.WebhookRefused, "The PDF's address is not on the allow-list.")
		recordEvent(t, h, jane.ID, "Hip", core.WebhookExpired, "")
		fileProgram(t, h, jane.ID, lee.ID, "Knee rehab", false)
	})
	h.app.showInbox()
	w := h.app.extras().inbox
	states := map[string]string{}
	row := w.list.CreateItem()
	for i := range w.items {
		w.list.UpdateItem(i, row)
		r := row.(*inboxRow)
		states[r.name.Text] = r.status.Text
		if r.name.Text == "Knee rehab" && r.retry.Visible() {
			t.Error("a filed program offers Retry")
		}
		if r.name.Text == "Back care" && !containsText([]string{r.detail.Text}, "allow-list") {
			t.Errorf("the failure's reason is not shown: %q", r.detail.Text)
		}
		if r.name.Text == "Shoulder" && !containsText([]string{r.detail.Text}, `"P-404" (no such patient)`) {
			t.Errorf("the unmatched id is not shown: %q", r.detail.Text)
		}
	}
	want := map[string]string{"Shoulder": "Unmatched", "Back care": "Failed", "Hip": "Expired", "Knee rehab": "Filed"}
	for name, st := range want {
		if states[name] != st {
			t.Errorf("%s: %q, want %q (all: %v)", name, states[name], st, states)
		}
	}
	if !containsText([]string{w.heading.Text}, "3 programs need someone") {
		t.Errorf("heading %q", w.heading.Text)
	}
}

func TestInboxRetryAndAssign(t *testing.T) {
	var jane *core.Patient
	var refused, unmatched *core.WebhookEvent
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		jane = h.patient("Jane", "Smith", 1980)
		h.patient("John", "Brown", 1975)
		refused = recordEvent(t, h, jane.ID, "Back care", core.WebhookRefused, "refused")
		unmatched = recordEvent(t, h, "P-404", "Shoulder", core.WebhookUnmatched, "")
	})
	ps := h.desk.Store().(core.ProgramStore)
	h.app.showInbox()
	w := h.app.extras().inbox
	rowOf := func(name string) *inboxRow {
		row := w.list.CreateItem().(*inboxRow)
		for i, e := range w.items {
			if e.Name == name {
				w.list.UpdateItem(i, row)
				return row
			}
		}
		t.Fatalf("no row %q", name)
		return nil
	}

	test.Tap(rowOf("Back care").retry)
	e, err := ps.Webhook(h.ctx, refused.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != core.WebhookPending {
		t.Fatalf("after Retry: %s", e.Status)
	}

	test.Tap(rowOf("Shoulder").assign)
	ad := w.lastAssign
	if ad == nil {
		t.Fatal("Assign opened no dialog")
	}
	if ad.assign.Disabled() == false {
		t.Fatal("Assign is enabled before a patient is picked")
	}
	test.Type(ad.entry, "jane")
	if len(ad.results) != 1 || ad.results[0].ID != jane.ID {
		t.Fatalf("search in the dialog: %v", ad.results)
	}
	ad.list.Select(0)
	test.Tap(ad.assign)
	e, err = ps.Webhook(h.ctx, unmatched.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.AssignedPatientID != jane.ID || e.Status != core.WebhookPending {
		t.Fatalf("after Assign: patient %q status %s", e.AssignedPatientID, e.Status)
	}
	if !containsText([]string{h.app.status.Text}, "Jane Smith") {
		t.Fatalf("status %q", h.app.status.Text)
	}
}
