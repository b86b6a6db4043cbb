package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// adminOn opens the practitioners screen on the practitioner named name.
func (h *harness) adminOn(name string) *practitionersScreen {
	h.t.Helper()
	h.app.showPractitioners()
	s := h.app.admin
	for i, p := range s.items {
		if p.Name == name {
			s.list.Select(i)
			return s
		}
	}
	h.t.Fatalf("no practitioner %q on the screen", name)
	return nil
}

func TestListShowsServerKeyStatusFingerprint(t *testing.T) {
	var lee *core.Practitioner
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		lee = h.practitioner("Dr Lee", true)
		h.practitioner("Sam Rivera", false)
	})
	s := h.adminOn("Dr Lee")
	row := newPractitionerRow().(*practitionerRow)
	s.updateRow(s.selected, row)
	if row.name.Text != "Dr Lee" || !strings.Contains(row.detail.Text, "http://127.0.0.1:7900") || !strings.Contains(row.detail.Text, lee.Key.Fingerprint) {
		t.Errorf("row: %q / %q", row.name.Text, row.detail.Text)
	}
	if !strings.Contains(s.keyState.Text, "Key set on this computer") || !strings.Contains(s.keyDetails.Text, lee.Key.Fingerprint) || !strings.Contains(s.keyDetails.Text, "12 Mar 2026") {
		t.Errorf("detail: %q / %q", s.keyState.Text, s.keyDetails.Text)
	}
	if !s.rotateKey.Visible() || s.generateKey.Visible() {
		t.Error("a practitioner with a key is offered rotation, not generation")
	}
	s = h.adminOn("Sam Rivera")
	s.updateRow(s.selected, row)
	if !strings.Contains(row.detail.Text, "no key") || !strings.Contains(s.keyState.Text, "No key yet") {
		t.Errorf("no key: %q / %q", row.detail.Text, s.keyState.Text)
	}
	if !s.generateKey.Visible() || s.rotateKey.Visible() || s.keyDetails.Visible() {
		t.Error("a practitioner without a key is offered generation only")
	}
}

func TestGenerateCopyAndClearAfterSixtySeconds(t *testing.T) {
	h := newHarness(t, harnessOptions{}, func(h *harness) { h.practitioner("Sam Rivera", false) })
	s := h.adminOn("Sam Rivera")
	test.Tap(s.generateKey)
	v := s.keyView
	if v == nil {
		t.Fatal("no key shown")
	}
	key := v.key
	if err := desk.CheckKey(key); err != nil {
		t.Fatalf("generated key is not valid: %v", err)
	}
	if strings.Contains(v.text.Text, key[:8]) || v.text.Text != masked(key) {
		t.Fatalf("the key must be masked until revealed, shows %q", v.text.Text)
	}
	v.reveal.SetChecked(true)
	if v.text.Text != key {
		t.Fatal("Show key does not reveal the key")
	}
	v.reveal.SetChecked(false)
	if v.text.Text != masked(key) {
		t.Fatal("unticking Show key does not mask it again")
	}
	if !containsText(overlayTexts(s.win), "clears the clipboard in 60 seconds") {
		t.Errorf("the clearing is not announced: %q", overlayTexts(s.win))
	}
	for _, step := range []string{"My account > Settings", "Open http://127.0.0.1:7900"} {
		if !containsText(overlayTexts(s.win), step) {
			t.Errorf("the steps lack %q", step)
		}
	}
	// The key was saved: a first key has no old one to keep.
	p, _ := h.desk.FindPractitioner(h.ctx, "Sam Rivera")
	if p.Key == nil || p.Key.Fingerprint != desk.KeyFingerprint(key) {
		t.Fatalf("the generated key was not saved: %+v", p.Key)
	}

	clip := h.fyne.Clipboard()
	test.Tap(overlayButton(t, s.win, "Copy key"))
	if clip.Content() != key {
		t.Fatal("Copy did not put the key on the clipboard")
	}
	if !strings.HasPrefix(v.copied.Text, "Copied.") {
		t.Errorf("after copying: %q", v.copied.Text)
	}
	h.clock.advance(ClipboardClearAfter - 1)
	if clip.Content() != key {
		t.Fatal("the clipboard was cleared early")
	}
	h.clock.advance(ClipboardClearAfter)
	if clip.Content() != "" {
		t.Fatal("the clipboard still holds the key after 60 seconds")
	}

	// What the user copied since is left alone.
	test.Tap(overlayButton(t, s.win, "Copy key"))
	clip.SetContent("something else")
	h.clock.advance(ClipboardClearAfter)
	if clip.Content() != "something else" {
		t.Fatalf("the clipboard lost the user's own copy: %q", clip.Content())
	}
	if h.clock.pending() != 0 {
		t.Fatalf("%d clipboard timers still pending", h.clock.pending())
	}

	// Closing the dialog drops the key.
	test.Tap(overlayButton(t, s.win, "Done"))
	if s.keyView != nil || v.key != "" {
		t.Fatal("the key stays in memory after the dialog closed")
	}
}

func TestRotateKeepsOldKeyUntilConfirmed(t *testing.T) {
	var lee *core.Practitioner
	h := newHarness(t, harnessOptions{}, func(h *harness) { lee = h.practitioner("Dr Lee", true) })
	old := lee.Key.Fingerprint
	s := h.adminOn("Dr Lee")
	test.Tap(s.rotateKey)
	if !containsText(overlayTexts(s.win), "before confirming here") {
		t.Fatalf("rotation must explain the order first: %q", overlayTexts(s.win))
	}
	test.Tap(overlayButton(t, s.win, "Make a new key"))
	v := s.keyView
	if v == nil || v.confirm == nil {
		t.Fatal("no rotation in progress")
	}
	newKey := v.key
	fingerprint := func() string {
		p, err := h.desk.FindPractitioner(h.ctx, lee.ID)
		if err != nil || p.Key == nil {
			t.Fatalf("practitioner: %v", err)
		}
		if st := h.desk.KeyStatus(h.ctx, p); st != desk.KeyPresent {
			t.Fatalf("key status %v", st)
		}
		return p.Key.Fingerprint
	}
	if fingerprint() != old {
		t.Fatal("the old key was replaced before the new one was confirmed")
	}
	test.Tap(v.confirm)
	test.Tap(overlayButton(t, s.win, "Cancel"))
	if fingerprint() != old {
		t.Fatal("cancelling the confirmation replaced the key")
	}
	test.Tap(v.confirm)
	test.Tap(overlayButton(t, s.win, "Use the new key"))
	if got := fingerprint(); got != desk.KeyFingerprint(newKey) {
		t.Fatalf("after confirming, fingerprint %s, want the new key's %s", got, desk.KeyFingerprint(newKey))
	}
}

func TestCancelRotationKeepsOldKey(t *testing.T) {
	var lee *core.Practitioner
	h := newHarness(t, harnessOptions{}, func(h *harness) { lee = h.practitioner("Dr Lee", true) })
	s := h.adminOn("Dr Lee")
	test.Tap(s.rotateKey)
	test.Tap(overlayButton(t, s.win, "Make a new key"))
	test.Tap(overlayButton(t, s.win, "Cancel rotation"))
	p, _ := h.desk.FindPractitioner(h.ctx, lee.ID)
	if p.Key.Fingerprint != lee.Key.Fingerprint {
		t.Fatal("cancelling the rotation changed the key")
	}
}

func TestPasteExistingKey(t *testing.T) {
	cases := []struct {
		name, key string
		reason    string // "" when accepted
	}{
		{"too short", "Abc123", "Physitrack requires at least 30"},
		{"no digit", strings.Repeat("Ab", 20), "lacks a digit"},
		{"inner space", "Abcdefghij1234567890 abcdefghij1234567890", "space"},
		{"valid", "Q3f9ZkLm2Np8Rs4Tv6Wx1Yb5Cd7Ef0Gh2Jk4Lm6", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{}, func(h *harness) { h.practitioner("Sam Rivera", false) })
			s := h.adminOn("Sam Rivera")
			test.Tap(s.pasteKey)
			f := s.paste
			if f == nil || s.win.Canvas().Focused() != f.entry {
				t.Fatal("the paste field should open with the focus")
			}
			test.Type(f.entry, c.key)
			test.Tap(overlayButton(t, s.win, "Save key"))
			p, _ := h.desk.FindPractitioner(h.ctx, "Sam Rivera")
			if c.reason != "" {
				if !strings.Contains(f.note.Text, c.reason) {
					t.Errorf("reason %q, want %q", f.note.Text, c.reason)
				}
				if p.Key != nil {
					t.Error("a refused key was saved")
				}
				return
			}
			if p.Key == nil || p.Key.Fingerprint != desk.KeyFingerprint(c.key) {
				t.Fatalf("the pasted key was not saved: %+v", p.Key)
			}
		})
	}
}

func TestAddEditRemovePractitioner(t *testing.T) {
	h := newHarness(t, harnessOptions{}, func(h *harness) { h.practitioner("Dr Lee", true) })
	h.app.showPractitioners()
	s := h.app.admin
	s.onAdd()
	e := s.editor
	test.Type(e.name, "Kim Park")
	e.server.SetText("ftp://example.com")
	if !strings.Contains(e.notes["server"].Text, "https://") {
		t.Fatalf("a bad server must be refused with the reason: %q", e.notes["server"].Text)
	}
	e.server.SetText("uk")
	if e.notes["server"].Text != "Signs in at https://uk.physitrack.com" {
		t.Fatalf("server hint %q", e.notes["server"].Text)
	}
	test.Tap(overlayButton(t, s.win, "Add"))
	if cur := s.current(); cur == nil || cur.Name != "Kim Park" || cur.Server != "uk" {
		t.Fatalf("added: %+v", cur)
	}
	if len(h.app.practitioners) != 2 || len(h.app.picker.Options) != 2 {
		t.Fatal("the window's practitioner picker did not learn about the new practitioner")
	}

	s.onEdit()
	s.editor.name.SetText("Dr Kim Park")
	test.Tap(overlayButton(t, s.win, "Save"))
	if s.current().Name != "Dr Kim Park" {
		t.Fatalf("edit not saved: %q", s.current().Name)
	}

	test.Tap(buttonIn(t, s.win.Content(), "Remove…"))
	test.Tap(overlayButton(t, s.win, "Remove"))
	if ps, _ := h.desk.Practitioners(h.ctx); len(ps) != 1 || ps[0].Name != "Dr Lee" {
		t.Fatalf("after removing: %v", ps)
	}
}
