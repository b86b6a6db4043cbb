package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
)

// patientForm adds or edits a patient in its own window. Every field is
// checked as it is typed, with the same rules the directory applies when
// saving, and the reason appears right under the field.
type patientForm struct {
	app  *App
	win  fyne.Window
	orig *core.Patient // nil for a new patient
	norm core.PhoneNormalizer

	fields  map[string]*formField
	order   []string
	gender  *widget.RadioGroup
	pending *widget.Label
	save    *widget.Button
	archive *widget.Button
}

// The patient's fields, by the names core uses in its errors.
const (
	fieldID            = "id"
	fieldFirstName     = "first_name"
	fieldLastName      = "last_name"
	fieldBirthYear     = "birth_year"
	fieldEmail         = "email"
	fieldPhone         = "mobile_phone"
	fieldDiagnosisCode = "diagnosis_code"
)

// fieldLabels name the fields as people read them, including the names
// Physitrack's form uses (for "changed since last opened").
var fieldLabels = map[string]string{
	fieldID:            "Patient id",
	fieldFirstName:     "First name",
	fieldLastName:      "Last name",
	fieldBirthYear:     "Birth year",
	fieldEmail:         "Email",
	fieldPhone:         "Mobile phone",
	fieldDiagnosisCode: "Diagnosis code",
	"title":            "Gender (title)",
	"gender":           "Gender",
}

var genderOptions = []string{"Female", "Male", "Other", "Unknown"}

func genderLabel(g core.Gender) string {
	switch g {
	case core.GenderFemale:
		return "Female"
	case core.GenderMale:
		return "Male"
	case core.GenderOther:
		return "Other"
	}
	return "Unknown"
}

// formField is one text field with the note under it.
type formField struct {
	name    string
	entry   *keyEntry
	note    *widget.Label
	check   func(string) (hint string, hintImportance widget.Importance, err error)
	touched bool
}

// update shows the field's state: the reason it is refused (once the user
// has typed in it or tried to save), else its hint.
func (f *formField) update() error {
	hint, imp, err := f.check(f.entry.Text)
	switch {
	case err != nil && f.touched:
		setNote(f.note, core.ErrorMessage(err), widget.DangerImportance)
	case err != nil:
		setNote(f.note, "", widget.MediumImportance)
	default:
		setNote(f.note, hint, imp)
	}
	return err
}

func newPatientForm(a *App, p *core.Patient) *patientForm {
	f := &patientForm{app: a, orig: p, fields: map[string]*formField{}}
	norm, err := a.desk.PhoneNormalizer(a.ctx)
	if err != nil {
		norm = func(string) (string, error) { return "", err }
	}
	f.norm = norm
	title := "New patient"
	if p != nil {
		title = "Edit patient — " + p.FullName()
	}
	f.win = a.fyne.NewWindow(title)
	f.win.SetIcon(a.win.Icon())
	f.win.SetContent(a.withProgramsTab(p, f.win, f.buildUI())) // Programs tab: programs.go
	f.win.Resize(fyne.NewSize(620, 680))
	f.win.Canvas().AddShortcut(ctrl(fyne.KeyS), func(fyne.Shortcut) { f.onSave() })
	f.win.SetOnClosed(func() {
		if a.form == f {
			a.form = nil
		}
	})
	return f
}

func (f *patientForm) buildUI() fyne.CanvasObject {
	grid := container.New(layout.NewFormLayout())
	add := func(name string, check func(string) (string, widget.Importance, error), value string) {
		e := newKeyEntry()
		e.SetText(value)
		e.onEscape = f.close
		e.onShortcut = f.onShortcut
		e.OnSubmitted = func(string) { f.onSave() }
		// Stored values are checked from the start: a refusal to open sends
		// the user here to fix a field.
		ff := &formField{name: name, entry: e, note: newNote(), check: check, touched: f.orig != nil}
		e.Validator = func(s string) error { _, _, err := check(s); return err }
		e.OnChanged = func(string) { ff.touched = true; ff.update() }
		f.fields[name] = ff
		f.order = append(f.order, name)
		ff.update()
		label := fieldLabels[name]
		if name == fieldFirstName || name == fieldLastName {
			label += " *"
		}
		grid.Add(&widget.Label{Text: label, TextStyle: fyne.TextStyle{Bold: true}})
		grid.Add(container.NewVBox(e, ff.note))
	}
	p := f.orig
	if p == nil {
		p = &core.Patient{}
	}
	add(fieldFirstName, f.checkField(fieldFirstName, ""), p.FirstName)
	add(fieldLastName, f.checkField(fieldLastName, ""), p.LastName)
	year := ""
	if p.BirthYear != 0 {
		year = strconv.Itoa(p.BirthYear)
	}
	add(fieldBirthYear, f.checkBirthYear, year)
	f.fields[fieldBirthYear].entry.PlaceHolder = "e.g. 1980"

	f.gender = &widget.RadioGroup{Options: genderOptions, Horizontal: true, Selected: genderLabel(p.Gender)}
	grid.Add(&widget.Label{Text: "Gender", TextStyle: fyne.TextStyle{Bold: true}})
	genderNote := newNote()
	setNote(genderNote, "Physitrack receives only a title: Ms, Mr or Mx (Unknown sends none).", widget.MediumImportance)
	grid.Add(container.NewVBox(f.gender, genderNote))

	add(fieldEmail, f.checkField(fieldEmail, ""), p.Email)
	f.fields[fieldEmail].entry.PlaceHolder = "name@example.com"
	add(fieldPhone, f.checkPhone, p.Phone)
	f.fields[fieldPhone].entry.PlaceHolder = "with country code, or as dialled locally"
	add(fieldDiagnosisCode, f.checkField(fieldDiagnosisCode, ""), p.DiagnosisCode)

	if f.orig == nil {
		add(fieldID, f.checkField(fieldID, "Optional: leave empty and PT Desk numbers the patient. Use the clinic's own patient number, never a social security or other national ID number."), "")
		f.fields[fieldID].entry.PlaceHolder = "assigned automatically"
	} else {
		grid.Add(&widget.Label{Text: fieldLabels[fieldID], TextStyle: fyne.TextStyle{Bold: true}})
		idNote := newNote()
		setNote(idNote, "The id links this patient to their client in Physitrack. It never changes, so it cannot be edited.", widget.MediumImportance)
		grid.Add(container.NewVBox(&widget.Label{Text: f.orig.ID, Selectable: true}, idNote))
	}

	f.pending = &widget.Label{Wrapping: fyne.TextWrapWord}
	f.pending.Hide()
	if f.orig != nil {
		f.showPending()
	}

	f.save = &widget.Button{Text: "Save (Ctrl+S)", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: f.onSave}
	cancel := &widget.Button{Text: "Cancel (Esc)", Icon: theme.CancelIcon(), OnTapped: f.close}
	buttons := container.NewHBox(layout.NewSpacer(), cancel, f.save)
	if f.orig != nil {
		f.archive = &widget.Button{Text: "Archive…", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: f.onArchive}
		buttons.Objects = append([]fyne.CanvasObject{f.archive}, buttons.Objects...)
	}
	required := &widget.Label{Text: "* required: Physitrack cannot create a client without it.", SizeName: theme.SizeNameCaptionText}
	top := container.NewVBox(grid, required, f.pending)
	return container.NewBorder(nil, container.NewPadded(buttons), nil, nil, container.NewVScroll(container.NewPadded(top)))
}

// checkField checks one field with core's own rules: a patient valid in
// every other field is normalized, and only an error about this field
// counts.
func (f *patientForm) checkField(name, hint string) func(string) (string, widget.Importance, error) {
	return func(v string) (string, widget.Importance, error) {
		p := core.Patient{FirstName: "A", LastName: "B"}
		switch name {
		case fieldID:
			if strings.TrimSpace(v) == "" {
				return hint, widget.MediumImportance, nil
			}
			p.ID = v
		case fieldFirstName:
			p.FirstName = v
		case fieldLastName:
			p.LastName = v
		case fieldEmail:
			p.Email = v
		case fieldDiagnosisCode:
			p.DiagnosisCode = v
		}
		if err := f.normalize(&p, name); err != nil {
			return "", widget.MediumImportance, err
		}
		return hint, widget.MediumImportance, nil
	}
}

func (f *patientForm) normalize(p *core.Patient, field string) error {
	err := p.Normalize(f.app.desk.Now(), f.norm)
	if err != nil && core.ErrorField(err) == field {
		return err
	}
	return nil
}

// checkBirthYear also warns, without refusing, when the year is missing.
func (f *patientForm) checkBirthYear(v string) (string, widget.Importance, error) {
	y, err := parseBirthYear(v)
	if err != nil {
		return "", widget.MediumImportance, err
	}
	if y == 0 {
		return core.MissingBirthYearWarning, widget.WarningImportance, nil
	}
	p := core.Patient{FirstName: "A", LastName: "B", BirthYear: y}
	if err := f.normalize(&p, fieldBirthYear); err != nil {
		return "", widget.MediumImportance, err
	}
	return "Patients sign in to their program with this year.", widget.MediumImportance, nil
}

func parseBirthYear(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(v)
	if err != nil {
		return 0, core.Errorf(core.EINVALID, fieldBirthYear, "Birth year %q is not a number; use the four-digit year, like 1980.", v)
	}
	if y == 0 {
		return 0, core.Errorf(core.EINVALID, fieldBirthYear, "Birth year 0 is not a year; leave the field empty if the year is unknown.")
	}
	return y, nil
}

// checkPhone shows the number as it will be saved (E.164).
func (f *patientForm) checkPhone(v string) (string, widget.Importance, error) {
	if strings.TrimSpace(v) == "" {
		return "", widget.MediumImportance, nil
	}
	e164, err := f.norm(v)
	if err != nil {
		return "", widget.MediumImportance, err
	}
	return "Saved as " + e164, widget.MediumImportance, nil
}

// showPending says which saved fields the current practitioner's next open
// will update in Physitrack.
func (f *patientForm) showPending() {
	a := f.app
	if a.current == nil {
		return
	}
	changed, never, err := a.desk.PendingChanges(a.ctx, f.orig.ID, a.current.ID)
	switch {
	case err != nil:
		f.pending.SetText(core.ErrorMessage(err))
		f.pending.Importance = widget.DangerImportance
	case never:
		f.pending.SetText(fmt.Sprintf("Not opened in Physitrack by %s yet: the first open creates the client there.", a.current.Name))
		f.pending.Importance = widget.MediumImportance
	case len(changed) == 0:
		f.pending.SetText(fmt.Sprintf("Physitrack has these details as saved here (last opened by %s).", a.current.Name))
		f.pending.Importance = widget.SuccessImportance
	default:
		names := make([]string, len(changed))
		for i, c := range changed {
			names[i] = strings.ToLower(labelOf(c))
		}
		f.pending.SetText(fmt.Sprintf("Changed since last opened in Physitrack: %s. %s's next open updates them there.", strings.Join(names, ", "), a.current.Name))
		f.pending.Importance = widget.WarningImportance
	}
	f.pending.Show()
	f.pending.Refresh()
}

func labelOf(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return strings.ReplaceAll(field, "_", " ")
}

func (f *patientForm) show(field string) {
	f.win.Show()
	if field == "" || f.fields[field] == nil {
		field = fieldFirstName
	}
	f.win.Canvas().Focus(f.fields[field].entry)
}

func (f *patientForm) close() { f.win.Close() }

func (f *patientForm) onShortcut(sc fyne.Shortcut) bool {
	if isShortcut(sc, fyne.KeyS) {
		f.onSave()
		return true
	}
	return false
}

// patient is the form's content as a patient; edits keep the id, the
// version they started from and the archived flag.
func (f *patientForm) patient() (core.Patient, error) {
	var p core.Patient
	if f.orig != nil {
		p = *f.orig
	} else {
		p.ID = f.fields[fieldID].entry.Text
	}
	p.FirstName = f.fields[fieldFirstName].entry.Text
	p.LastName = f.fields[fieldLastName].entry.Text
	y, err := parseBirthYear(f.fields[fieldBirthYear].entry.Text)
	if err != nil {
		return p, err
	}
	p.BirthYear = y
	g, _ := core.ParseGender(f.gender.Selected)
	p.Gender = g
	p.Email = f.fields[fieldEmail].entry.Text
	p.Phone = f.fields[fieldPhone].entry.Text
	p.DiagnosisCode = f.fields[fieldDiagnosisCode].entry.Text
	return p, nil
}

// onSave checks every field, shows every reason, and saves when all pass.
func (f *patientForm) onSave() {
	var first *formField
	for _, name := range f.order {
		ff := f.fields[name]
		ff.touched = true
		if err := ff.update(); err != nil && first == nil {
			first = ff
		}
	}
	if first != nil {
		f.win.Canvas().Focus(first.entry)
		return
	}
	p, err := f.patient()
	if err != nil {
		f.showFieldError(err)
		return
	}
	a := f.app
	var saved *core.Patient
	var warnings []string
	if f.orig == nil {
		saved, warnings, err = a.desk.AddPatient(a.ctx, p)
	} else {
		saved, warnings, err = a.desk.EditPatient(a.ctx, p)
	}
	if err != nil {
		f.showFieldError(err)
		return
	}
	f.close()
	msg := fmt.Sprintf("Saved %s (id %s).", saved.FullName(), saved.ID)
	if len(warnings) > 0 {
		msg += " " + strings.Join(warnings, " ")
	}
	a.announce(msg, false)
	a.patientSaved(saved)
}

// showFieldError puts a refusal from the directory next to its field, or
// in a dialog when it concerns no field (a concurrent edit, an outage).
func (f *patientForm) showFieldError(err error) {
	if ff := f.fields[core.ErrorField(err)]; ff != nil {
		setNote(ff.note, core.ErrorMessage(err), widget.DangerImportance)
		f.win.Canvas().Focus(ff.entry)
		return
	}
	if core.ErrorCode(err) == core.ECONFLICT && f.orig != nil {
		id := f.orig.ID
		confirm(f.win, "Changed on another desk",
			core.ErrorMessage(err)+" Reload the patient to see the other change, then make yours again.",
			"Reload", widget.HighImportance, func() {
				f.close()
				f.app.editPatient(id, "")
			})
		return
	}
	f.app.showError(err, f.win)
}

// onArchive asks before archiving: the patient disappears from search and
// can no longer be opened, but nothing is deleted and the id stays taken.
func (f *patientForm) onArchive() {
	p := f.orig
	msg := fmt.Sprintf("%s will no longer appear in search and cannot be opened in Physitrack. Nothing is deleted: the id %s stays reserved for this patient and is never reused.", p.FullName(), p.ID)
	confirm(f.win, "Archive "+p.FullName()+"?", msg, "Archive", widget.DangerImportance, f.onArchiveConfirmed)
}

func (f *patientForm) onArchiveConfirmed() {
	a := f.app
	if err := a.desk.ArchivePatient(a.ctx, f.orig.ID); err != nil {
		a.showError(err, f.win)
		return
	}
	archived := *f.orig
	archived.Archived = true
	f.close()
	a.announce(fmt.Sprintf("Archived %s (id %s).", archived.FullName(), archived.ID), false)
	a.patientSaved(&archived)
}
