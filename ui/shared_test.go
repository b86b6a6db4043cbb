package ui

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres/pgtest"
)

// storeSettings opens the settings and returns their store section.
func storeSettings(h *harness) *storeSection {
	h.app.showSettings()
	return h.app.extras().store
}

func TestStoreSettingsRefuseBadURLs(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	s := storeSettings(h)
	if !s.use.Disabled() || !s.local.Disabled() {
		t.Fatal("nothing tested and nothing saved: both choices must be disabled")
	}
	if !strings.Contains(s.next.Text, "own directory") {
		t.Errorf("next start: %q", s.next.Text)
	}
	for _, typed := range []string{
		"",
		"clinic-server:5432",
		"mysql://root:hunter2@db/clinic",
		"postgres://clinic:hunter2@db.example:port/clinic",
	} {
		test.Type(s.url, typed)
		s.onTest()
		if !strings.HasPrefix(s.result.Text, urlField+":") {
			t.Errorf("%q: %q does not name the field", typed, s.result.Text)
		}
		if strings.Contains(s.result.Text, "hunter2") {
			t.Errorf("%q: the message repeats the password", typed)
		}
		if !s.use.Disabled() {
			t.Errorf("%q: a URL that failed the test can be used", typed)
		}
		s.url.SetText("")
	}
	if _, err := os.Stat(filepath.Join(h.desk.Home(), desk.DatabaseChoiceFile)); !os.IsNotExist(err) {
		t.Fatalf("a refused URL was saved: %v", err)
	}
}

func TestStoreSettingsUseATestedDatabase(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	// The test server trusts local connections: any password does, and
	// it must stay out of the file all the same.
	const password = "ui-pass-5521"
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	clinic := u.String()

	s := storeSettings(h)
	test.Type(s.url, clinic)
	test.Tap(s.test)
	if s.use.Disabled() {
		t.Fatalf("the tested database cannot be used: %q", s.result.Text)
	}
	// Typing on withdraws the test's result...
	test.Type(s.url, "x")
	if !s.use.Disabled() {
		t.Fatal("a URL changed after the test can still be used")
	}
	s.url.SetText(clinic)
	test.Tap(s.test)

	// ...and using the tested one saves it, with a word about restarting.
	test.Tap(s.use)
	win := h.app.settings.win
	if texts := overlayTexts(win); !containsText(texts, "start it again") || !containsText(texts, "Quit PT Desk now") {
		t.Fatalf("after Use this database the dialog shows %q", texts)
	}
	test.Tap(overlayButton(t, win, "Later"))
	next, err := h.desk.NextDatabase()
	if err != nil || next.Source != desk.SourceSaved || !next.Shared() {
		t.Fatalf("next database: %s from %s, %v", next.Masked(), next.Source, err)
	}
	b, err := os.ReadFile(next.File)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), password) {
		t.Fatal("the saved choice holds the password")
	}
	if !strings.Contains(s.next.Text, "clinic database") || strings.Contains(s.next.Text, password) || !strings.Contains(s.next.Text, "xxxxx") {
		t.Errorf("next start: %q", s.next.Text)
	}
	if _, shared := h.desk.Store().(core.KeyPresenceStore); shared {
		t.Fatal("the running desk switched store without a restart")
	}

	// Back to this computer's own directory, after confirmation.
	if s.local.Disabled() {
		t.Fatal("no way back to this computer's own directory")
	}
	test.Tap(s.local)
	test.Tap(overlayButton(t, win, "Use this computer's directory"))
	if texts := overlayTexts(win); !containsText(texts, "start it again") {
		t.Fatalf("after going back the dialog shows %q", texts)
	}
	test.Tap(overlayButton(t, win, "Later"))
	if next, err := h.desk.NextDatabase(); err != nil || next.Source != desk.SourceDefault {
		t.Fatalf("after going back: %+v, %v", next, err)
	}
	if !s.local.Disabled() || !strings.Contains(s.next.Text, "own directory") {
		t.Errorf("after going back: local enabled %v, next %q", !s.local.Disabled(), s.next.Text)
	}
}
