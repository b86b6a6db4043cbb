package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
)

func seedSmiths(h *harness) {
	h.practitioner("Dr Lee", true)
	h.patient("Jane", "Smith", 1980)
	h.patient("John", "Smithers", 1975)
	h.patient("Oliver", "Smyth", 2001)
	h.patient("Noah", "Brown", 1990)
}

func TestStartsWithCursorInSearch(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	if got := h.app.win.Canvas().Focused(); got != h.app.search.entry {
		t.Fatalf("focused object at start is %T, want the search field", got)
	}
}

func TestTypingUpdatesResultsOnEveryKeystroke(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	steps := []struct {
		typed string
		want  []string // names that must be in the list
		not   []string // names that must not
	}{
		{"s", []string{"Jane Smith", "John Smithers", "Oliver Smyth"}, []string{"Noah Brown"}},
		{"m", []string{"Jane Smith", "John Smithers", "Oliver Smyth"}, []string{"Noah Brown"}},
		{"i", []string{"Jane Smith", "John Smithers"}, []string{"Oliver Smyth", "Noah Brown"}},
		{"t", []string{"Jane Smith", "John Smithers"}, []string{"Oliver Smyth"}},
		{"h", []string{"Jane Smith", "John Smithers"}, []string{"Oliver Smyth"}},
		{"e", []string{"John Smithers"}, []string{"Jane Smith"}},
	}
	for _, s := range steps {
		test.Type(h.app.search.entry, s.typed)
		got := h.resultNames()
		for _, w := range s.want {
			if !slices.Contains(got, w) {
				t.Errorf("after typing %q: %q missing from %q", h.app.search.entry.Text, w, got)
			}
		}
		for _, n := range s.not {
			if slices.Contains(got, n) {
				t.Errorf("after typing %q: %q should not be listed (%q)", h.app.search.entry.Text, n, got)
			}
		}
		if h.app.search.list.Length() != len(got) {
			t.Errorf("the list shows %d rows for %d results", h.app.search.list.Length(), len(got))
		}
		if len(got) > 0 && h.app.search.selected != 0 {
			t.Errorf("after typing %q the best match is not selected (selected %d)", h.app.search.entry.Text, h.app.search.selected)
		}
	}
	// The rows on screen show the results, best match first.
	var shown []string
	for _, o := range test.LaidOutObjects(h.app.win.Content()) {
		if r, ok := o.(*patientRow); ok && r.Visible() && r.name.Text != "" {
			shown = append(shown, r.name.Text)
		}
	}
	if len(shown) == 0 || shown[0] != "John Smithers" {
		t.Errorf("rows on screen: %q", shown)
	}
	test.Type(h.app.search.entry, "zzz")
	if n := len(h.app.search.results); n != 0 {
		t.Fatalf("no match expected, got %d", n)
	}
	if !strings.Contains(h.app.search.heading.Text, "No patient matches") {
		t.Errorf("heading %q does not say nothing matched", h.app.search.heading.Text)
	}
}

func TestRowShowsNameYearIDEmailAndBirthYearWarning(t *testing.T) {
	var noYear *core.Patient
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		h.patient("Jane", "Smith", 1980)
		noYear = h.patient("Sofia", "Smyth", 0)
	})
	test.Type(h.app.search.entry, "smyth")
	row := newPatientRow().(*patientRow)
	h.app.search.updateRow(0, row)
	if row.name.Text != "Sofia Smyth" || row.id.Text != "id "+noYear.ID || row.email.Text != "sofia@example.com" {
		t.Errorf("row shows %q / %q / %q", row.name.Text, row.id.Text, row.email.Text)
	}
	if !row.warn.Visible() || row.year.Text != "no year" {
		t.Errorf("a patient without birth year must show the warning badge (visible %v, year %q)", row.warn.Visible(), row.year.Text)
	}
	if !h.app.search.warning.Visible() || h.app.search.warningText.Text != core.MissingBirthYearWarning {
		t.Errorf("detail panel warning: visible %v, %q", h.app.search.warning.Visible(), h.app.search.warningText.Text)
	}
	test.Type(h.app.search.entry, "")
	h.app.search.entry.SetText("smith")
	h.app.search.updateRow(0, row)
	if row.warn.Visible() || row.year.Text != "1980" {
		t.Errorf("a patient with a birth year shows warning %v, year %q", row.warn.Visible(), row.year.Text)
	}
	if h.app.search.warning.Visible() {
		t.Error("no birth-year warning expected for Jane Smith")
	}
}

func TestDownThenEnterOpensSelectedForCurrentPractitioner(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	lee := h.app.Current()
	if lee == nil || lee.Name != "Dr Lee" {
		t.Fatalf("the only practitioner should be current, got %v", lee)
	}
	test.Type(h.app.search.entry, "smith")
	if len(h.app.search.results) < 2 {
		t.Fatalf("need two results, got %q", h.resultNames())
	}
	h.key(fyne.KeyDown)
	want := h.app.search.results[1]
	if h.app.search.selectedPatient() != want {
		t.Fatalf("↓ did not move to the second result")
	}
	h.key(fyne.KeyUp)
	h.key(fyne.KeyDown)
	h.key(fyne.KeyReturn)

	if n := h.browser.opened(); n != 1 {
		t.Fatalf("the browser was asked to open %d pages, want 1", n)
	}
	got := h.lastOpen()
	if got == nil || got.PatientID != want.ID || got.PractitionerID != lee.ID {
		t.Fatalf("opened %+v, want patient %s for practitioner %s", got, want.ID, lee.ID)
	}
	if msg := "Opened " + want.FullName() + " for Dr Lee"; !strings.HasPrefix(h.app.status.Text, msg) {
		t.Errorf("status %q, want %q", h.app.status.Text, msg)
	}
	// Back to the empty search: Recent, with the patient on top.
	h.key(fyne.KeyEscape)
	if h.app.search.entry.Text != "" {
		t.Fatalf("Esc did not clear the search")
	}
	if names := h.resultNames(); len(names) == 0 || names[0] != want.FullName() {
		t.Errorf("recent patients %q, want %s on top", names, want.FullName())
	}
}

func TestRefusesBeforeTheBrowserOpens(t *testing.T) {
	cases := []struct {
		name    string
		seed    func(h *harness)
		query   string
		message string
		fix     string
	}{
		{
			name: "practitioner without key",
			seed: func(h *harness) {
				h.practitioner("Dr Lee", false)
				h.patient("Jane", "Smith", 1980)
			},
			query:   "smith",
			message: "has no Physitrack key on this computer",
			fix:     "Set up key",
		},
		{
			name: "patient without first name",
			seed: func(h *harness) {
				h.practitioner("Dr Lee", true)
				// Written past the directory's checks, as an old import might.
				if err := h.desk.Store().CreatePatient(h.ctx, &core.Patient{LastName: "Nofirst", BirthYear: 1970}); err != nil {
					h.t.Fatal(err)
				}
			},
			query:   "nofirst",
			message: "First name",
			fix:     "Edit patient",
		},
		{
			name: "no integration name",
			seed: func(h *harness) {
				h.practitioner("Dr Lee", true)
				h.patient("Jane", "Smith", 1980)
				h.clearPMSName()
			},
			query:   "smith",
			message: "integration name",
			fix:     "Open settings",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{}, c.seed)
			test.Type(h.app.search.entry, c.query)
			if len(h.app.search.results) == 0 {
				t.Fatalf("%q found nothing", c.query)
			}
			// The detail panel shows the refusal before Enter.
			s := h.app.search
			if !s.refusal.Visible() || !strings.Contains(s.refusalText.Text, c.message) || s.fixButton.Text != c.fix {
				t.Errorf("detail panel: visible %v, %q, button %q", s.refusal.Visible(), s.refusalText.Text, s.fixButton.Text)
			}
			h.key(fyne.KeyReturn)
			if n := h.browser.opened(); n != 0 {
				t.Fatalf("the browser was opened %d times despite the refusal", n)
			}
			texts := overlayTexts(h.app.win)
			if !containsText(texts, c.message) {
				t.Fatalf("refusal dialog shows %q, want a message containing %q", texts, c.message)
			}
			if h.app.win.Canvas().Focused() != overlayButton(t, h.app.win, c.fix) {
				t.Errorf("the button that fixes it (%q) should have the focus", c.fix)
			}
			if h.lastOpen() != nil {
				t.Error("a refused open was recorded in the audit log")
			}
		})
	}
}

// clearPMSName saves settings without the integration name, as a fresh
// directory has.
func (h *harness) clearPMSName() {
	h.t.Helper()
	st, err := h.desk.Settings(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	st.PMSName = ""
	if err := h.desk.Store().SaveSettings(h.ctx, st); err != nil {
		h.t.Fatal(err)
	}
}

func TestFixButtonsLeadToTheFix(t *testing.T) {
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", false)
		h.patient("Jane", "Smith", 1980)
	})
	test.Type(h.app.search.entry, "smith")
	h.key(fyne.KeyReturn)
	test.Tap(overlayButton(t, h.app.win, "Set up key"))
	admin := h.app.admin
	if admin == nil || admin.current() == nil || admin.current().Name != "Dr Lee" {
		t.Fatal("Set up key did not open the practitioners screen on Dr Lee")
	}
	if !containsText(overlayTexts(admin.win), "Generate a new key") {
		t.Fatalf("the key setup choices are not offered: %q", overlayTexts(admin.win))
	}
	test.Tap(overlayButton(t, admin.win, "Generate a new key"))
	if admin.keyView == nil {
		t.Fatal("no key was handed over")
	}
	// With the key set, the same patient now opens.
	h.app.search.refresh()
	h.key(fyne.KeyReturn)
	if h.browser.opened() != 1 {
		t.Fatal("the patient did not open after the key was set up")
	}
}

func TestEscapeClearsThenHidesToTray(t *testing.T) {
	h := newHarness(t, harnessOptions{tray: true}, seedSmiths)
	test.Type(h.app.search.entry, "smi")
	h.key(fyne.KeyEscape)
	if h.app.search.entry.Text != "" || h.app.hidden {
		t.Fatalf("first Esc: text %q, hidden %v; want cleared and still shown", h.app.search.entry.Text, h.app.hidden)
	}
	h.key(fyne.KeyEscape)
	if !h.app.hidden {
		t.Fatal("second Esc did not hide the window to the tray")
	}
	if h.app.win.Canvas().Focused() != nil {
		t.Error("the search field keeps the focus (and a blinking cursor) while hidden")
	}
	h.app.ShowSearch()
	if h.app.hidden || h.app.win.Canvas().Focused() != h.app.search.entry {
		t.Error("showing again must put the cursor back in the search field")
	}
}

func TestEscapeDoesNotHideWithoutTray(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	h.key(fyne.KeyEscape)
	if h.app.hidden {
		t.Fatal("without a tray, hiding would leave no way back")
	}
}

func TestShortcuts(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	h.shortcut(fyne.KeyN)
	if h.app.form == nil || h.app.form.orig != nil {
		t.Fatal("Ctrl+N did not open a new patient form")
	}
	h.app.form.close()

	test.Type(h.app.search.entry, "smyth")
	h.shortcut(fyne.KeyE)
	if h.app.form == nil || h.app.form.orig == nil || h.app.form.orig.LastName != "Smyth" {
		t.Fatal("Ctrl+E did not edit the selected patient")
	}
	h.app.form.close()

	h.app.win.Canvas().Unfocus()
	h.app.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyF))
	if h.app.win.Canvas().Focused() != h.app.search.entry {
		t.Fatal("Ctrl+F did not put the cursor in the search field")
	}
}

func TestEmptyDirectoryShowsWhatToDoNext(t *testing.T) {
	h := newHarness(t, harnessOptions{}, func(h *harness) { h.practitioner("Dr Lee", true) })
	s := h.app.search
	if !s.empty.Visible() || s.resultsView.Visible() {
		t.Fatal("an empty directory must show the next steps instead of an empty list")
	}
	var add, imp bool
	for _, o := range test.LaidOutObjects(s.empty) {
		b, ok := o.(*widget.Button)
		switch {
		case !ok:
		case strings.HasPrefix(b.Text, "Add patient"):
			add = true
		case b.Text == "Import…":
			imp = true
			test.Tap(b)
		}
	}
	if !add || !imp {
		t.Fatalf("next steps lack buttons: add %v, import %v", add, imp)
	}
	if h.imports != 1 {
		t.Fatalf("Import… called the import hook %d times", h.imports)
	}
	h.patient("Jane", "Smith", 1980)
	s.refresh()
	if s.empty.Visible() {
		t.Fatal("the next steps stay after a patient was added")
	}
}

// listRows are the rows the result list holds now, in its own renderer
// (test.LaidOutObjects would build new ones).
func (h *harness) listRows() []*patientRow {
	var rows []*patientRow
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *patientRow:
			rows = append(rows, o)
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				walk(c)
			}
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		}
	}
	walk(h.app.search.list)
	return rows
}

func TestClearedSearchKeepsTheRowsForTheNextOne(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths) // nobody opened yet: an empty search lists nobody
	s := h.app.search
	test.Type(s.entry, "sm")
	before := h.listRows()
	if len(before) != 3 {
		t.Fatalf("rows for \"sm\": %d, want 3", len(before))
	}
	h.key(fyne.KeyEscape)
	if len(s.results) != 0 || s.list.Visible() || s.selectedPatient() != nil {
		t.Fatalf("after Esc: %d results, list shown %v, selected %v", len(s.results), s.list.Visible(), s.selectedPatient())
	}
	test.Type(s.entry, "smi")
	after := h.listRows()
	var names []string
	for _, r := range after {
		names = append(names, r.name.Text)
		if !slices.Contains(before, r) {
			t.Errorf("the row showing %q was built anew instead of reused", r.name.Text)
		}
	}
	if !slices.Equal(names, []string{"Jane Smith", "John Smithers"}) || s.selected != 0 {
		t.Errorf("rows after typing again: %q, selected %d", names, s.selected)
	}
}

func TestDirectoryOfArchivedPatientsIsNotEmpty(t *testing.T) {
	var jane *core.Patient
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		jane = h.patient("Jane", "Smith", 1980)
	})
	if err := h.desk.ArchivePatient(h.ctx, jane.ID); err != nil {
		t.Fatal(err)
	}
	s := h.app.search
	s.refresh()
	if s.empty.Visible() || !s.resultsView.Visible() {
		t.Fatal("a directory whose patients are all archived shows the first steps of an empty one")
	}
}

func TestRowTruncatesOnlyWhatDoesNotFit(t *testing.T) {
	test.NewTempApp(t)
	row := newPatientRow().(*patientRow)
	w := test.NewTempWindow(t, row)
	w.Resize(fyne.NewSize(500, 60))
	row.Resize(fyne.NewSize(500, 36))
	long := &core.Patient{ID: "7", FirstName: "Jo", LastName: "Lee", BirthYear: 1990,
		Email: "a.remarkably.long.address.for.one.patient@clinic-with-a-long-name.example.com"}
	row.set(long)
	if row.name.Text != "Jo Lee" || row.name.Truncation != fyne.TextTruncateOff {
		t.Errorf("a short name: %q, truncation %v", row.name.Text, row.name.Truncation)
	}
	if row.email.Text != long.Email || row.email.Truncation != fyne.TextTruncateEllipsis {
		t.Errorf("a long email: %q, truncation %v", row.email.Text, row.email.Truncation)
	}
	// Wide enough, the same row shows the whole address.
	row.Resize(fyne.NewSize(4000, 36))
	if row.email.Truncation != fyne.TextTruncateOff {
		t.Errorf("a long email in a wide row is still truncated")
	}
	row.Resize(fyne.NewSize(500, 36))
	if row.email.Truncation != fyne.TextTruncateEllipsis {
		t.Errorf("a long email is not truncated again when the row narrows")
	}
}
