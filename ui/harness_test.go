package ui

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/ptsso"
	"ptdesk/core/secrets"
)

// harness is the app on the Fyne test driver, backed by a real desk: a
// SQLite directory in a temporary folder, an in-memory keyring, and a fake
// browser that records what it was asked to open.
type harness struct {
	t       *testing.T
	ctx     context.Context
	fyne    fyne.App
	desk    *desk.Desk
	app     *App
	clock   *fakeClock
	browser *fakeBrowser
	urls    []*url.URL // pages and folders the app asked to open
	imports int
	auto    *fakeAutostart
}

type harnessOptions struct {
	// tray makes the app a desktop app with a tray (hide instead of quit).
	tray bool
	// prefs carries Preferences over from an earlier harness (a restart).
	prefs map[string]string
}

func newHarness(t *testing.T, opts harnessOptions, seed func(h *harness)) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clock: &fakeClock{}, browser: &fakeBrowser{}, auto: &fakeAutostart{}}
	var a fyne.App = test.NewTempApp(t)
	for k, v := range opts.prefs {
		a.Preferences().SetString(k, v)
	}
	if opts.tray {
		a = &trayApp{App: a}
	}
	h.fyne = a
	t.Setenv("PTDESK_DB", "") // the SQLite file in the temporary home
	d, err := desk.OpenHome(h.ctx, desk.HomeOptions{
		Home:    t.TempDir(),
		Secrets: secrets.NewMemory(),
		Opener:  ptsso.OpenerFunc(h.browser.open),
		Now:     func() time.Time { return time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatalf("open desk: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	h.desk = d
	if err := d.SetPMSName(h.ctx, "test_clinic"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPhoneRegion(h.ctx, "GB"); err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		seed(h)
	}
	app, err := New(h.ctx, a, d, Options{
		Clock:     h.clock,
		OpenURL:   func(u *url.URL) error { h.urls = append(h.urls, u); return nil },
		Tray:      opts.tray,
		OnImport:  func() { h.imports++ },
		Autostart: h.auto,
		// Checks finish before the next step of the test.
		Background: func(f func()) { f() },
	})
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	h.app = app
	app.Start(true)
	return h
}

// practitioner adds a practitioner, with a key when withKey.
func (h *harness) practitioner(name string, withKey bool) *core.Practitioner {
	h.t.Helper()
	p, err := h.desk.AddPractitioner(h.ctx, core.Practitioner{Name: name, Server: "http://127.0.0.1:7900"})
	if err != nil {
		h.t.Fatalf("add practitioner %s: %v", name, err)
	}
	if withKey {
		if _, p, err = h.desk.SetNewKey(h.ctx, p.ID); err != nil {
			h.t.Fatalf("key for %s: %v", name, err)
		}
	}
	return p
}

// patient adds a patient through the desk (all rules applied).
func (h *harness) patient(first, last string, year int) *core.Patient {
	h.t.Helper()
	p, _, err := h.desk.AddPatient(h.ctx, core.Patient{FirstName: first, LastName: last, BirthYear: year, Email: strings.ToLower(first) + "@example.com"})
	if err != nil {
		h.t.Fatalf("add patient %s %s: %v", first, last, err)
	}
	return p
}

// resultNames are the names in the result list, in order.
func (h *harness) resultNames() []string {
	var names []string
	for _, p := range h.app.search.results {
		names = append(names, p.FullName())
	}
	return names
}

// lastOpen is the newest "open" in the audit log.
func (h *harness) lastOpen() *core.AuditEntry {
	h.t.Helper()
	entries, err := h.desk.Audit(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].PatientID != "" && entries[i].PractitionerID != "" {
			return &entries[i]
		}
	}
	return nil
}

// key sends a key to the search field as the driver does.
func (h *harness) key(name fyne.KeyName) {
	h.app.search.entry.TypedKey(&fyne.KeyEvent{Name: name})
}

// shortcut sends Ctrl+key to the search field, which has the focus.
func (h *harness) shortcut(key fyne.KeyName) {
	h.app.search.entry.TypedShortcut(ctrl(key))
}

// overlayTexts are the texts of labels and buttons in the window's top
// overlay (an open dialog).
func overlayTexts(w fyne.Window) []string {
	top := w.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	var texts []string
	for _, o := range test.LaidOutObjects(top) {
		switch v := o.(type) {
		case *widget.Label:
			texts = append(texts, v.Text)
		case *widget.Button:
			texts = append(texts, v.Text)
		}
	}
	return texts
}

// overlayButton finds a visible button by its text in the top overlay.
func overlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open; looking for button %q", text)
	}
	return buttonIn(t, top, text)
}

// buttonIn finds a visible button by its text under root.
func buttonIn(t *testing.T, root fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var seen []string
	for _, o := range test.LaidOutObjects(root) {
		if b, ok := o.(*widget.Button); ok {
			if b.Text == text && b.Visible() {
				return b
			}
			seen = append(seen, b.Text)
		}
	}
	t.Fatalf("no button %q; there are %q", text, seen)
	return nil
}

func containsText(texts []string, want string) bool {
	for _, s := range texts {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

// fakeBrowser records the launch URLs it was asked to open.
type fakeBrowser struct {
	mu   sync.Mutex
	urls []string
}

func (b *fakeBrowser) open(u string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.urls = append(b.urls, u)
	return nil
}

func (b *fakeBrowser) opened() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.urls)
}

// fakeClock keeps timers until the test fires them.
type fakeClock struct {
	timers []*fakeTimer
}

type fakeTimer struct {
	after    time.Duration
	f        func()
	canceled bool
	fired    bool
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() {
	t := &fakeTimer{after: d, f: f}
	c.timers = append(c.timers, t)
	return func() { t.canceled = true }
}

// advance fires every pending timer due within d.
func (c *fakeClock) advance(d time.Duration) {
	for _, t := range c.timers {
		if !t.canceled && !t.fired && t.after <= d {
			t.fired = true
			t.f()
		}
	}
}

// pending counts timers not yet fired or canceled.
func (c *fakeClock) pending() int {
	n := 0
	for _, t := range c.timers {
		if !t.canceled && !t.fired {
			n++
		}
	}
	return n
}

// trayApp is a test app with a tray, as the desktop driver has.
type trayApp struct {
	fyne.App
	menu   *fyne.Menu
	icon   fyne.Resource
	window fyne.Window
}

func (t *trayApp) SetSystemTrayMenu(m *fyne.Menu)    { t.menu = m }
func (t *trayApp) SetSystemTrayIcon(r fyne.Resource) { t.icon = r }
func (t *trayApp) SetSystemTrayWindow(w fyne.Window) { t.window = w }

// fakeAutostart remembers the switch.
type fakeAutostart struct{ on bool }

func (f *fakeAutostart) Enabled() (bool, error)   { return f.on, nil }
func (f *fakeAutostart) SetEnabled(on bool) error { f.on = on; return nil }
