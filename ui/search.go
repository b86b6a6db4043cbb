package ui

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
)

// recentInWindow is how many recent patients the empty search shows.
const recentInWindow = 10

// searchScreen finds a patient and opens them in Physitrack: the search
// field, the results (or the current practitioner's recent patients while
// the field is empty), and the chosen patient's details with what, if
// anything, stops them from opening.
type searchScreen struct {
	app *App

	entry   *searchEntry
	heading *widget.Label
	list    *widget.List
	results []*core.Patient
	// selected is the index in results shown in the detail panel, -1 for
	// none.
	selected int
	query    string

	detail       *fyne.Container
	detailName   *widget.Label
	detailMeta   *widget.Label
	detailReach  *widget.Label
	warning      *fyne.Container
	warningText  *widget.Label
	refusal      *fyne.Container
	refusalText  *widget.Label
	fixButton    *widget.Button
	openButton   *widget.Button
	editButton   *widget.Button
	fixAction    func()
	checkCounter atomic.Uint64 // the newest CheckOpen wins

	empty       *fyne.Container
	resultsView *fyne.Container
}

func newSearchScreen(a *App) *searchScreen {
	return &searchScreen{app: a, selected: -1}
}

func (s *searchScreen) buildUI() fyne.CanvasObject {
	s.entry = newSearchEntry(s)
	s.entry.PlaceHolder = "Search patients: name, id, email, phone or birth year"
	s.entry.OnChanged = s.onQueryChanged
	// No truncation: it costs a text shaping on every keystroke, and the
	// heading is short.
	s.heading = &widget.Label{TextStyle: fyne.TextStyle{Bold: true}}
	s.list = &widget.List{
		Length:     func() int { return len(s.results) },
		CreateItem: newPatientRow,
		UpdateItem: s.updateRow,
		OnSelected: s.onListSelected,
	}

	s.detailName = &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameSubHeadingText, Wrapping: fyne.TextWrapWord}
	s.detailMeta = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.detailReach = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.warningText = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.WarningImportance}
	s.warning = container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.WarningIcon())), nil, s.warningText)
	s.refusalText = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	s.fixButton = &widget.Button{OnTapped: s.onFix}
	s.refusal = container.NewVBox(
		container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.ErrorIcon())), nil, s.refusalText),
		container.NewHBox(s.fixButton),
	)
	s.openButton = &widget.Button{Text: "Open in Physitrack (Enter)", Icon: theme.MailForwardIcon(), Importance: widget.HighImportance, OnTapped: s.openSelected}
	s.editButton = &widget.Button{Text: "Edit (Ctrl+E)", Icon: theme.DocumentCreateIcon(), OnTapped: s.editSelected}
	s.warning.Hide()
	s.refusal.Hide()
	s.detail = container.NewVBox(
		s.detailName, s.detailMeta, s.detailReach, s.warning, s.refusal,
		container.NewHBox(s.openButton, s.editButton),
	)
	s.detail.Hide()

	left := container.NewBorder(s.heading, nil, nil, nil, s.list)
	split := container.NewHSplit(left, container.NewPadded(container.NewVScroll(s.detail)))
	split.Offset = 0.6
	s.resultsView = container.NewStack(split)
	s.empty = s.buildEmpty()
	s.empty.Hide()
	return container.NewBorder(s.entry, nil, nil, nil, container.NewStack(s.resultsView, s.empty))
}

// buildEmpty is what an empty directory shows: what to do next.
func (s *searchScreen) buildEmpty() *fyne.Container {
	title := &widget.Label{Text: "No patients yet", TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameSubHeadingText, Alignment: fyne.TextAlignCenter}
	text := &widget.Label{Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord,
		Text: "Add the clinic's patients one by one, or import them from your practice system's export. Then type a few letters of a name here and press Enter to open the patient in Physitrack."}
	buttons := container.NewHBox(layout.NewSpacer(),
		&widget.Button{Text: "Add patient (Ctrl+N)", Icon: theme.ContentAddIcon(), Importance: widget.HighImportance, OnTapped: s.app.newPatient})
	if s.app.opts.OnImport != nil {
		buttons.Add(&widget.Button{Text: "Import…", Icon: theme.UploadIcon(), OnTapped: s.app.opts.OnImport})
	}
	buttons.Add(layout.NewSpacer())
	return container.NewVBox(layout.NewSpacer(), title, text, buttons, layout.NewSpacer())
}

// focus puts the cursor in the search field.
func (s *searchScreen) focus() { s.app.win.Canvas().Focus(s.entry) }

func (s *searchScreen) onQueryChanged(text string) { s.run(text) }

// refresh runs the current query again (the practitioner or the directory
// changed).
func (s *searchScreen) refresh() { s.run(s.entry.Text) }

// recentsChanged reruns the empty query, which lists recent patients.
func (s *searchScreen) recentsChanged() {
	if strings.TrimSpace(s.entry.Text) == "" {
		s.run(s.entry.Text)
	}
}

// run searches on every keystroke (the directory answers in well under a
// millisecond, so nothing is debounced) and selects the best match.
func (s *searchScreen) run(text string) {
	a := s.app
	s.query = strings.TrimSpace(text)
	var ps []*core.Patient
	var err error
	switch {
	case s.query != "":
		ps, err = a.desk.Search(a.ctx, s.query, 0)
	case a.current != nil:
		ps, err = a.desk.RecentPatients(a.ctx, a.current.ID, recentInWindow)
	}
	s.showResults(ps)
	s.selectIndex(0)
	s.updateHeading(err)
}

// showResults puts ps in the list. No results hide the list instead of
// emptying it: an emptied list lets go of its rows, so the next keystroke
// would build every row again, and the toolkit keeps the old rows' renderers
// and text for another minute. Hidden, the list keeps its rows for the next
// results.
func (s *searchScreen) showResults(ps []*core.Patient) {
	if len(ps) == 0 {
		s.results = nil
		s.list.Hide()
		return
	}
	s.results = ps
	if s.list.GetScrollOffset() > 0 {
		s.list.ScrollToTop()
	}
	if s.list.Visible() {
		s.list.Refresh()
	} else {
		s.list.Show() // which refreshes it
	}
}

func (s *searchScreen) updateHeading(err error) {
	a := s.app
	empty := false
	switch {
	case err != nil:
		s.heading.SetText(core.ErrorMessage(err))
	case s.query != "" && len(s.results) == 0:
		s.heading.SetText(fmt.Sprintf("No patient matches %q. Press Ctrl+N to add one.", s.query))
	case s.query != "" && len(s.results) >= core.DefaultSearchLimit:
		s.heading.SetText(fmt.Sprintf("First %d matches: type more to narrow them down", len(s.results)))
	case s.query != "":
		s.heading.SetText(plural(len(s.results), "match", "matches"))
	case len(s.results) > 0:
		s.heading.SetText("Recent patients of " + a.current.Name)
	default:
		empty = s.directoryEmpty()
		s.heading.SetText("Type a name, id, email, phone number or birth year")
	}
	if empty {
		s.resultsView.Hide()
		s.empty.Show()
	} else {
		s.empty.Hide()
		s.resultsView.Show()
	}
}

// directoryEmpty reports whether the directory has no patient at all, so
// that the window says how to add the first. It reads one row instead of
// counting them: this runs whenever the search is cleared, and counting
// reads a whole index (hundreds of pages in a large directory) into memory.
func (s *searchScreen) directoryEmpty() bool {
	a := s.app
	ps, err := a.desk.Search(a.ctx, "", 1)
	if err != nil || len(ps) > 0 {
		return false
	}
	// No active patient: archived ones still count as patients.
	n, err := a.desk.CountPatients(a.ctx)
	return err == nil && n == 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// move changes the selection by delta (↑ is -1, ↓ is +1).
func (s *searchScreen) move(delta int) {
	if len(s.results) == 0 {
		return
	}
	i := min(max(s.selected+delta, 0), len(s.results)-1)
	s.selectIndex(i)
}

// selectIndex selects results[i] (nothing when out of range) and shows it.
func (s *searchScreen) selectIndex(i int) {
	if i < 0 || i >= len(s.results) {
		s.selected = -1
		if s.list.Visible() {
			// Hidden, the list has no row to unselect, and unselecting
			// would refresh it and let its rows go (see showResults).
			s.list.UnselectAll()
		}
		s.showDetail(nil)
		return
	}
	s.selected = i
	s.list.Select(i) // scrolls to it; onListSelected sees it already chosen
	s.showDetail(s.results[i])
}

// onListSelected handles a click in the list; the cursor goes back to the
// search field so that typing and Enter keep working.
func (s *searchScreen) onListSelected(id widget.ListItemID) {
	if id == s.selected || id >= len(s.results) {
		return
	}
	s.selected = id
	s.showDetail(s.results[id])
	s.focus()
}

// selectedPatient is the patient Enter would open, nil when none.
func (s *searchScreen) selectedPatient() *core.Patient {
	if s.selected < 0 || s.selected >= len(s.results) {
		return nil
	}
	return s.results[s.selected]
}

// showDetail shows p in the detail panel and checks, in the background,
// whether p can be opened for the current practitioner. Open itself runs
// the same checks again, so a check still in flight can never let a wrong
// open through.
func (s *searchScreen) showDetail(p *core.Patient) {
	n := s.checkCounter.Add(1)
	if p == nil {
		s.detail.Hide()
		return
	}
	s.detailName.SetText(p.FullName())
	s.detailMeta.SetText(patientMeta(p))
	s.detailReach.SetText(patientReach(p))
	if w := p.Warnings(); len(w) > 0 {
		s.warningText.SetText(strings.Join(w, " "))
		s.warning.Show()
	} else {
		s.warning.Hide()
	}
	s.detail.Show()
	a := s.app
	if a.current == nil {
		s.setCheck(core.Errorf(core.EINVALID, "practitioner", "Choose who is at the desk (at the top of the window) to open patients in Physitrack."), p)
		return
	}
	d, ctx, patientID, practitionerID := a.desk, a.ctx, p.ID, a.current.ID
	a.goBackground(func() {
		err := d.CheckOpen(ctx, patientID, practitionerID)
		fyne.Do(func() {
			if s.checkCounter.Load() == n {
				s.setCheck(err, p)
			}
		})
	})
}

// setCheck shows why p cannot be opened, with the fixing button, or
// nothing when it can.
func (s *searchScreen) setCheck(err error, p *core.Patient) {
	if err == nil {
		s.refusal.Hide()
		s.openButton.Enable()
		return
	}
	s.refusalText.SetText(core.ErrorMessage(err))
	s.fixAction = nil
	if f := s.app.fixFor(err, p); f != nil {
		s.fixButton.SetText(f.label)
		s.fixButton.SetIcon(f.icon)
		s.fixAction = f.action
		s.fixButton.Show()
	} else {
		s.fixButton.Hide()
	}
	s.refusal.Show()
}

func (s *searchScreen) onFix() {
	if s.fixAction != nil {
		s.fixAction()
	}
}

// openSelected opens the selected patient for the current practitioner.
func (s *searchScreen) openSelected() {
	p := s.selectedPatient()
	if p == nil {
		return
	}
	s.app.openPatient(p, false)
}

// editSelected opens the selected patient in the form (Ctrl+E).
func (s *searchScreen) editSelected() {
	p := s.selectedPatient()
	if p == nil {
		s.app.announce("Choose a patient in the list first, then press Ctrl+E to edit.", false)
		return
	}
	s.app.editPatient(p.ID, "")
}

// escape clears the search; on an empty search it hides the window to the
// tray.
func (s *searchScreen) escape() {
	if s.entry.Text != "" {
		s.entry.SetText("")
		return
	}
	s.app.hideToTray()
}

// showPatient finds p after it was saved: its name is searched and p
// selected, so that Enter opens what was just added.
func (s *searchScreen) showPatient(p *core.Patient) {
	if p.Archived {
		s.entry.SetText("")
		return
	}
	s.entry.SetText(p.FullName())
	for i, r := range s.results {
		if r.ID == p.ID {
			s.selectIndex(i)
			break
		}
	}
	s.focus()
}

func (s *searchScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(s.results) {
		return
	}
	o.(*patientRow).set(s.results[id])
}

// patientMeta is the line under the patient's name: birth year, gender, id.
func patientMeta(p *core.Patient) string {
	parts := []string{}
	if p.BirthYear != 0 {
		parts = append(parts, fmt.Sprintf("Born %d", p.BirthYear))
	} else {
		parts = append(parts, "Birth year unknown")
	}
	if p.Gender != core.GenderUnknown {
		parts = append(parts, genderLabel(p.Gender))
	}
	parts = append(parts, "id "+p.ID)
	if p.Archived {
		parts = append(parts, "archived")
	}
	return strings.Join(parts, " · ")
}

// patientReach is how the patient is reached: email and phone.
func patientReach(p *core.Patient) string {
	var lines []string
	if p.Email != "" {
		lines = append(lines, p.Email)
	}
	if p.Phone != "" {
		lines = append(lines, p.Phone)
	}
	if p.DiagnosisCode != "" {
		lines = append(lines, "Diagnosis code "+p.DiagnosisCode)
	}
	return strings.Join(lines, "\n")
}

// searchEntry is the search field. Besides typing it answers the keys that
// work on the results: ↑/↓ move, Enter opens, Esc clears (then hides), and
// the window's shortcuts, which a focused entry would otherwise swallow.
type searchEntry struct {
	widget.Entry
	screen *searchScreen
}

func newSearchEntry(s *searchScreen) *searchEntry {
	e := &searchEntry{screen: s}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey moves through and opens results; other keys edit the text.
func (e *searchEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyDown:
		e.screen.move(1)
	case fyne.KeyUp:
		e.screen.move(-1)
	case fyne.KeyPageDown:
		e.screen.move(10)
	case fyne.KeyPageUp:
		e.screen.move(-10)
	case fyne.KeyReturn, fyne.KeyEnter:
		e.screen.openSelected()
	case fyne.KeyEscape:
		e.screen.escape()
	default:
		e.Entry.TypedKey(k)
	}
}

// TypedShortcut runs the window's shortcuts (Ctrl+N, Ctrl+E, Ctrl+F) and
// leaves the rest (copy, paste, select all) to the entry.
func (e *searchEntry) TypedShortcut(sc fyne.Shortcut) {
	if e.screen.app.runShortcut(sc) {
		return
	}
	e.Entry.TypedShortcut(sc)
}

// patientRow is one line of the results: a warning mark when the birth
// year is missing, name, birth year, id and email in columns.
type patientRow struct {
	widget.BaseWidget
	warn  *widget.Icon
	name  *widget.Label
	year  *widget.Label
	id    *widget.Label
	email *widget.Label
}

func newPatientRow() fyne.CanvasObject {
	r := &patientRow{
		warn:  widget.NewIcon(theme.WarningIcon()),
		name:  &widget.Label{TextStyle: fyne.TextStyle{Bold: true}},
		year:  &widget.Label{},
		id:    &widget.Label{},
		email: &widget.Label{},
	}
	r.ExtendBaseWidget(r)
	return r
}

func (r *patientRow) set(p *core.Patient) {
	fitText(r.name, p.FullName())
	if p.BirthYear != 0 {
		r.year.SetText(strconv.Itoa(p.BirthYear))
		r.year.Importance = widget.MediumImportance
		r.warn.Hide()
	} else {
		r.year.SetText("no year")
		r.year.Importance = widget.WarningImportance
		r.warn.Show()
	}
	r.year.Refresh()
	fitText(r.id, "id "+p.ID)
	fitText(r.email, p.Email)
}

// refit truncates again the columns whose width changed.
func (r *patientRow) refit() {
	for _, l := range []*widget.Label{r.name, r.id, r.email} {
		fitText(l, l.Text)
	}
}

// CreateRenderer lays the row out in columns.
func (r *patientRow) CreateRenderer() fyne.WidgetRenderer {
	cols := &columns{widths: []float32{-3, 80, -1.3, -2.6}}
	return &patientRowRenderer{
		WidgetRenderer: widget.NewSimpleRenderer(container.New(cols, r.warn, r.name, r.year, r.id, r.email)),
		row:            r,
	}
}

// patientRowRenderer lays the columns out, then truncates the texts that
// no longer fit (or no longer need to be truncated).
type patientRowRenderer struct {
	fyne.WidgetRenderer
	row *patientRow
}

// Layout places the columns and fits their texts to their new widths.
func (r *patientRowRenderer) Layout(size fyne.Size) {
	r.WidgetRenderer.Layout(size)
	r.row.refit()
}

// fitText shows text in l, ending in an ellipsis only when it is too wide.
// A truncating label shapes its text anew on every change, with a new
// shaper each time (most of what typing allocated), and the results change
// on every keystroke; a text's width, measured once, is kept by the
// toolkit, so the texts that fit (most of them) cost nothing more.
func fitText(l *widget.Label, text string) {
	trunc := fyne.TextTruncateOff
	if !fits(l, text) {
		trunc = fyne.TextTruncateEllipsis
	}
	if l.Text == text && l.Truncation == trunc {
		return
	}
	l.Text, l.Truncation = text, trunc
	l.Refresh()
}

// fits reports whether text fits in l at its current width (a label not
// laid out yet has none).
func fits(l *widget.Label, text string) bool {
	if text == "" {
		return true
	}
	th := l.Theme()
	room := l.Size().Width - 2*th.Size(theme.SizeNameInnerPadding)
	return fyne.MeasureText(text, th.Size(theme.SizeNameText), l.TextStyle).Width <= room
}

// columns lays a row out: a square icon as high as the row, then one
// column per width, where a positive width is fixed and a negative one is a
// share of the room left.
type columns struct {
	widths []float32
}

func (c *columns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	pad := theme.Padding()
	icon := size.Height * 0.6
	fixed, shares := icon+pad*float32(len(objs)-1), float32(0)
	for _, w := range c.widths {
		if w > 0 {
			fixed += w
		} else {
			shares -= w
		}
	}
	free := max(size.Width-fixed, 0)
	objs[0].Resize(fyne.NewSquareSize(icon))
	objs[0].Move(fyne.NewPos(0, (size.Height-icon)/2))
	x := icon + pad
	for i, o := range objs[1:] {
		if i >= len(c.widths) {
			break
		}
		w := c.widths[i]
		if w < 0 {
			w = free * -w / shares
		}
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + pad
	}
}

func (c *columns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(300, h)
}
