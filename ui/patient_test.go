package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
)

func TestPatientFormChecksEveryFieldAsTyped(t *testing.T) {
	cases := []struct {
		field, typed string
		want         string // in the note under the field
		importance   widget.Importance
	}{
		{fieldFirstName, "  ", "First name is required", widget.DangerImportance},
		{fieldFirstName, strings.Repeat("a", 101), "the limit is 100", widget.DangerImportance},
		{fieldLastName, " ", "Last name is required", widget.DangerImportance},
		{fieldBirthYear, "19", "not between 1900 and 2026", widget.DangerImportance},
		{fieldBirthYear, "1980x", "not a number", widget.DangerImportance},
		{fieldBirthYear, "2027", "not between 1900 and 2026", widget.DangerImportance},
		{fieldBirthYear, "1980", "sign in to their program with this year", widget.MediumImportance},
		{fieldEmail, "ann@", "not a valid address", widget.DangerImportance},
		{fieldEmail, "Ann <ann@example.com>", "not a valid address", widget.DangerImportance},
		{fieldEmail, "ann@example.com", "", widget.MediumImportance},
		{fieldPhone, "12", "not a valid number", widget.DangerImportance},
		{fieldPhone, "07911 123456", "Saved as +447911123456", widget.MediumImportance},
		{fieldDiagnosisCode, strings.Repeat("x", 33), "longer than 32", widget.DangerImportance},
		{fieldID, "123-45-6789", "social security", widget.DangerImportance},
		{fieldID, "199001011234", "personal identity number", widget.DangerImportance},
		{fieldID, "a b", "letters, digits", widget.DangerImportance},
		{fieldID, "P-1001", "never a social security", widget.MediumImportance},
	}
	h := newHarness(t, harnessOptions{}, seedSmiths)
	h.shortcut(fyne.KeyN)
	f := h.app.form
	for _, c := range cases {
		t.Run(c.field+"="+c.typed, func(t *testing.T) {
			ff := f.fields[c.field]
			ff.entry.SetText("")
			test.Type(ff.entry, c.typed)
			if c.want == "" {
				if ff.note.Visible() && ff.note.Importance == widget.DangerImportance {
					t.Fatalf("unexpected refusal: %q", ff.note.Text)
				}
				return
			}
			if !ff.note.Visible() || !strings.Contains(ff.note.Text, c.want) || ff.note.Importance != c.importance {
				t.Fatalf("note under %s: visible %v, %q (importance %v); want %q (importance %v)",
					c.field, ff.note.Visible(), ff.note.Text, ff.note.Importance, c.want, c.importance)
			}
			// The entry's own validator (its error mark) agrees.
			if verr := ff.entry.Validate(); (verr != nil) != (c.importance == widget.DangerImportance) {
				t.Fatalf("entry validator says %v", verr)
			}
		})
	}
}

func TestPatientFormWarnsAboutMissingBirthYear(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	h.shortcut(fyne.KeyN)
	note := h.app.form.fields[fieldBirthYear].note
	if note.Text != core.MissingBirthYearWarning || note.Importance != widget.WarningImportance {
		t.Fatalf("empty birth year: %q (importance %v)", note.Text, note.Importance)
	}
}

func TestNewPatientSavesAndIsSelected(t *testing.T) {
	h := newHarness(t, harnessOptions{}, seedSmiths)
	h.shortcut(fyne.KeyN)
	f := h.app.form
	if f.win.Canvas().Focused() != f.fields[fieldFirstName].entry {
		t.Fatal("the form must start with the cursor in First name")
	}
	// Saving an empty form shows every reason and saves nothing.
	f.fields[fieldFirstName].entry.TypedShortcut(ctrl(fyne.KeyS))
	if !strings.Contains(f.fields[fieldFirstName].note.Text, "required") || !strings.Contains(f.fields[fieldLastName].note.Text, "required") {
		t.Fatalf("empty save: first %q, last %q", f.fields[fieldFirstName].note.Text, f.fields[fieldLastName].note.Text)
	}
	test.Type(f.fields[fieldFirstName].entry, "Ann")
	test.Type(f.fields[fieldLastName].entry, "Wójcik")
	test.Type(f.fields[fieldBirthYear].entry, "1984")
	f.gender.SetSelected("Female")
	test.Type(f.fields[fieldPhone].entry, "07911 123457")
	f.fields[fieldPhone].entry.TypedShortcut(ctrl(fyne.KeyS))
	if h.app.form != nil {
		t.Fatalf("the form stayed open; notes: %q", overlayTexts(f.win))
	}
	p := h.app.search.selectedPatient()
	if p == nil || p.FullName() != "Ann Wójcik" || p.Phone != "+447911123457" || p.Gender != core.GenderFemale || p.BirthYear != 1984 {
		t.Fatalf("selected after save: %+v", p)
	}
	if !strings.Contains(h.app.status.Text, "Saved Ann Wójcik") {
		t.Errorf("status %q", h.app.status.Text)
	}
}

func TestEditShowsIDReadOnlyAndPendingChanges(t *testing.T) {
	var jane *core.Patient
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		jane = h.patient("Jane", "Smith", 1980)
	})
	h.app.editPatient(jane.ID, "")
	f := h.app.form
	if _, editable := f.fields[fieldID]; editable {
		t.Fatal("the id must not be editable after creation")
	}
	if !strings.Contains(f.pending.Text, "Not opened in Physitrack by Dr Lee yet") {
		t.Errorf("never opened: %q", f.pending.Text)
	}
	f.close()

	test.Type(h.app.search.entry, "jane")
	h.key(fyne.KeyReturn)
	h.app.editPatient(jane.ID, "")
	if f := h.app.form; !strings.Contains(f.pending.Text, "Physitrack has these details") {
		t.Errorf("just opened: %q", f.pending.Text)
	}
	f = h.app.form
	f.fields[fieldEmail].entry.SetText("jane@smith.example")
	f.fields[fieldBirthYear].entry.SetText("1981")
	f.onSave()
	h.app.editPatient(jane.ID, "")
	f = h.app.form
	for _, want := range []string{"Changed since last opened in Physitrack", "email", "birth year"} {
		if !strings.Contains(f.pending.Text, want) {
			t.Errorf("after editing: %q lacks %q", f.pending.Text, want)
		}
	}
	if f.pending.Importance != widget.WarningImportance {
		t.Error("pending changes should stand out")
	}
}

func TestEditConflictOffersReload(t *testing.T) {
	var jane *core.Patient
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		jane = h.patient("Jane", "Smith", 1980)
	})
	h.app.editPatient(jane.ID, "")
	f := h.app.form
	// Another desk edits Jane meanwhile.
	other := *jane
	other.Email = "other@example.com"
	if _, _, err := h.desk.EditPatient(h.ctx, other); err != nil {
		t.Fatal(err)
	}
	f.fields[fieldLastName].entry.SetText("Smith-Jones")
	f.onSave()
	if !containsText(overlayTexts(f.win), "Changed on another desk") {
		t.Fatalf("conflict not shown: %q", overlayTexts(f.win))
	}
	test.Tap(overlayButton(t, f.win, "Reload"))
	if h.app.form == nil || h.app.form.fields[fieldEmail].entry.Text != "other@example.com" {
		t.Fatal("Reload did not show the other desk's change")
	}
	got, _ := h.desk.Patient(h.ctx, jane.ID)
	if got.LastName != "Smith" {
		t.Fatalf("the conflicting edit was written: %q", got.LastName)
	}
}

func TestArchiveAsksFirst(t *testing.T) {
	var jane *core.Patient
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		jane = h.patient("Jane", "Smith", 1980)
	})
	h.app.editPatient(jane.ID, "")
	f := h.app.form
	test.Tap(f.archive)
	if !containsText(overlayTexts(f.win), "Nothing is deleted") {
		t.Fatalf("archive confirmation: %q", overlayTexts(f.win))
	}
	test.Tap(overlayButton(t, f.win, "Cancel"))
	if p, _ := h.desk.Patient(h.ctx, jane.ID); p.Archived {
		t.Fatal("archived without confirmation")
	}
	test.Tap(f.archive)
	test.Tap(overlayButton(t, f.win, "Archive"))
	if p, _ := h.desk.Patient(h.ctx, jane.ID); !p.Archived {
		t.Fatal("not archived after confirmation")
	}
	test.Type(h.app.search.entry, "jane")
	if len(h.app.search.results) != 0 {
		t.Fatal("an archived patient is still found")
	}
}

func TestRefusalEditButtonFocusesTheField(t *testing.T) {
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		if err := h.desk.Store().CreatePatient(h.ctx, &core.Patient{LastName: "Nofirst", BirthYear: 1970}); err != nil {
			h.t.Fatal(err)
		}
	})
	test.Type(h.app.search.entry, "nofirst")
	h.key(fyne.KeyReturn)
	test.Tap(overlayButton(t, h.app.win, "Edit patient"))
	f := h.app.form
	if f == nil {
		t.Fatal("Edit patient did not open the form")
	}
	ff := f.fields[fieldFirstName]
	if f.win.Canvas().Focused() != ff.entry || !strings.Contains(ff.note.Text, "First name is required") {
		t.Fatalf("the form should point at First name: note %q", ff.note.Text)
	}
}
