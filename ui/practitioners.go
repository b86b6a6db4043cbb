package ui

import (
	"fmt"
	"net/url"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// practitionersScreen is the admin screen: the practitioners, their
// Physitrack server, and the state of their key on this computer; it adds,
// edits and removes practitioners and generates, rotates, pastes and
// removes keys.
type practitionersScreen struct {
	app *App
	win fyne.Window

	list     *widget.List
	items    []*core.Practitioner
	status   map[string]desk.KeyStatus
	selected int

	detail      *fyne.Container
	name        *widget.Label
	email       *widget.Label
	server      *widget.Label
	keyState    *widget.Label
	keyDetails  *widget.Label
	openServer  *widget.Button
	generateKey *widget.Button
	rotateKey   *widget.Button
	pasteKey    *widget.Button
	removeKey   *widget.Button
	empty       *fyne.Container

	// The key being handed over, while its dialog is open.
	keyView *keyView
	// The open add/edit, paste or setup dialog, for the keyboard and tests.
	editor *practitionerEditor
	paste  *pasteKeyForm
	setup  dialog.Dialog
}

func newPractitionersScreen(a *App) *practitionersScreen {
	s := &practitionersScreen{app: a, selected: -1}
	s.win = a.fyne.NewWindow("Practitioners & keys — PT Desk")
	s.win.SetIcon(a.win.Icon())
	s.win.SetContent(s.buildUI())
	s.win.Resize(fyne.NewSize(900, 560))
	s.win.SetCloseIntercept(s.win.Hide) // keep the screen for the next time
	s.win.Canvas().AddShortcut(ctrl(fyne.KeyN), func(fyne.Shortcut) { s.onAdd() })
	return s
}

func (s *practitionersScreen) buildUI() fyne.CanvasObject {
	s.list = &widget.List{
		Length:     func() int { return len(s.items) },
		CreateItem: newPractitionerRow,
		UpdateItem: s.updateRow,
		OnSelected: s.onSelected,
	}
	s.name = &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameSubHeadingText}
	s.email = &widget.Label{}
	s.server = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.keyState = &widget.Label{Wrapping: fyne.TextWrapWord, TextStyle: fyne.TextStyle{Bold: true}}
	s.keyDetails = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.openServer = &widget.Button{Text: "Open Physitrack", Icon: theme.ComputerIcon(), OnTapped: s.onOpenServer}
	s.generateKey = &widget.Button{Text: "Generate key…", Icon: theme.LoginIcon(), Importance: widget.HighImportance, OnTapped: s.onGenerate}
	s.rotateKey = &widget.Button{Text: "Rotate key…", Icon: theme.ViewRefreshIcon(), OnTapped: s.onRotate}
	s.pasteKey = &widget.Button{Text: "Paste existing key…", Icon: theme.ContentPasteIcon(), OnTapped: s.onPaste}
	s.removeKey = &widget.Button{Text: "Remove key…", Icon: theme.ContentRemoveIcon(), OnTapped: s.onRemoveKey}

	s.detail = container.NewVBox(
		container.NewHBox(s.name, layout.NewSpacer(),
			&widget.Button{Text: "Edit…", Icon: theme.DocumentCreateIcon(), OnTapped: s.onEdit},
			&widget.Button{Text: "Remove…", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: s.onRemove}),
		s.email,
		s.server,
		container.NewHBox(s.openServer),
		widget.NewSeparator(),
		&widget.Label{Text: "Physitrack key", TextStyle: fyne.TextStyle{Bold: true}},
		s.keyState,
		s.keyDetails,
		container.NewHBox(s.generateKey, s.rotateKey, s.pasteKey, s.removeKey),
	)
	s.detail.Add(s.app.keyDesksNote()) // which desks hold the key: shared.go
	s.detail.Hide()

	add := &widget.Button{Text: "Add practitioner (Ctrl+N)", Icon: theme.ContentAddIcon(), OnTapped: s.onAdd}
	left := container.NewBorder(nil, add, nil, nil, s.list)
	s.empty = container.NewVBox(layout.NewSpacer(),
		&widget.Label{Text: "No practitioners yet", TextStyle: fyne.TextStyle{Bold: true}, Alignment: fyne.TextAlignCenter},
		&widget.Label{Text: "Add each practitioner who opens patients from this desk, then generate their key and paste it into their Physitrack account.", Wrapping: fyne.TextWrapWord, Alignment: fyne.TextAlignCenter},
		layout.NewSpacer())
	split := container.NewHSplit(left, container.NewPadded(container.NewVScroll(container.NewStack(s.detail, s.empty))))
	split.Offset = 0.34
	return split
}

// show brings the screen forward on the practitioner with id (or keeps the
// selection when id is "").
func (s *practitionersScreen) show(id string) {
	s.reload(id)
	s.win.Show()
	s.win.RequestFocus()
}

// reload reads the practitioners and their key status on this computer.
func (s *practitionersScreen) reload(selectID string) {
	a := s.app
	if selectID == "" && s.selected >= 0 && s.selected < len(s.items) {
		selectID = s.items[s.selected].ID
	}
	ps, err := a.desk.Practitioners(a.ctx)
	if err != nil {
		a.showError(err, s.win)
		return
	}
	s.items = ps
	s.status = map[string]desk.KeyStatus{}
	for _, p := range ps {
		s.status[p.ID] = a.desk.KeyStatus(a.ctx, p)
	}
	s.list.Refresh()
	i := slices.IndexFunc(ps, func(p *core.Practitioner) bool { return p.ID == selectID })
	if i < 0 && len(ps) > 0 {
		i = 0
	}
	s.selected = -1
	s.list.UnselectAll()
	if i >= 0 {
		s.list.Select(i)
	} else {
		s.showDetail()
	}
}

func (s *practitionersScreen) onSelected(id widget.ListItemID) {
	s.selected = id
	s.showDetail()
}

// current is the practitioner shown in the detail panel.
func (s *practitionersScreen) current() *core.Practitioner {
	if s.selected < 0 || s.selected >= len(s.items) {
		return nil
	}
	return s.items[s.selected]
}

// keyStatusText says what a key status means for the practitioner.
func keyStatusText(st desk.KeyStatus) (string, widget.Importance) {
	switch st {
	case desk.KeyPresent:
		return "Key set on this computer.", widget.SuccessImportance
	case desk.KeyMissing:
		return "A key was set up on another computer but is not in this computer's keyring: paste the same key here, or rotate it.", widget.WarningImportance
	case desk.KeyMismatch:
		return "This computer's keyring holds a different key than the one recorded: paste the current key, or rotate it.", widget.WarningImportance
	}
	return "No key yet: generate one, then paste it into Physitrack.", widget.WarningImportance
}

func (s *practitionersScreen) showDetail() {
	p := s.current()
	if p == nil {
		s.detail.Hide()
		if len(s.items) == 0 {
			s.empty.Show()
		}
		return
	}
	s.empty.Hide()
	s.name.SetText(p.Name)
	if p.Email != "" {
		s.email.SetText(p.Email)
		s.email.Show()
	} else {
		s.email.Hide()
	}
	origin, err := p.Origin()
	if err != nil {
		origin = core.ErrorMessage(err)
	}
	if origin == p.Server {
		s.server.SetText("Physitrack server: " + origin)
	} else {
		s.server.SetText(fmt.Sprintf("Physitrack server: %s (%s)", p.Server, origin))
	}
	s.openServer.SetText("Open " + origin)
	s.app.showKeyDesks(p.ID) // shared.go
	st := s.status[p.ID]
	text, imp := keyStatusText(st)
	s.keyState.SetText(text)
	s.keyState.Importance = imp
	s.keyState.Refresh()
	if p.Key != nil {
		s.keyDetails.SetText(fmt.Sprintf("Fingerprint %s · set %s", p.Key.Fingerprint, p.Key.SetAt.Local().Format("2 Jan 2006 15:04")))
		s.keyDetails.Show()
		s.generateKey.Hide()
		s.rotateKey.Show()
		s.removeKey.Show()
	} else {
		s.keyDetails.Hide()
		s.generateKey.Show()
		s.rotateKey.Hide()
		s.removeKey.Hide()
	}
	s.detail.Show()
}

func (s *practitionersScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(s.items) {
		return
	}
	p := s.items[id]
	o.(*practitionerRow).set(p, s.status[p.ID])
}

// changed reloads this screen and tells the rest of the app.
func (s *practitionersScreen) changed(selectID string) {
	s.reload(selectID)
	s.app.practitionersChanged()
}

func (s *practitionersScreen) onOpenServer() {
	p := s.current()
	if p == nil {
		return
	}
	s.openOrigin(p)
}

// openOrigin opens the practitioner's Physitrack server in the browser.
func (s *practitionersScreen) openOrigin(p *core.Practitioner) {
	origin, err := p.Origin()
	if err != nil {
		s.app.showError(err, s.win)
		return
	}
	u, err := url.Parse(origin)
	if err == nil {
		err = s.app.opts.OpenURL(u)
	}
	if err != nil {
		s.app.showError(core.Errorf(core.EINTERNAL, "browser", "Could not open %s in the browser (%v).", origin, err), s.win)
	}
}

func (s *practitionersScreen) onAdd() {
	s.editor = newPractitionerEditor(s, nil)
	s.editor.show()
}

func (s *practitionersScreen) onEdit() {
	if p := s.current(); p != nil {
		s.editor = newPractitionerEditor(s, p)
		s.editor.show()
	}
}

// onRemove asks before removing: the practitioner's key leaves this
// computer's keyring; the audit log keeps their past opens.
func (s *practitionersScreen) onRemove() {
	p := s.current()
	if p == nil {
		return
	}
	msg := fmt.Sprintf("%s and their key are removed from this desk (the key also from this computer's keyring). The audit log keeps their past opens. Their Physitrack account is not touched.", p.Name)
	confirm(s.win, "Remove "+p.Name+"?", msg, "Remove", widget.DangerImportance, func() {
		if err := s.app.desk.RemovePractitioner(s.app.ctx, p.ID); err != nil {
			s.app.showError(err, s.win)
			return
		}
		s.changed("")
	})
}

// practitionerRow is one practitioner in the list: name, server, key state.
type practitionerRow struct {
	widget.BaseWidget
	icon   *widget.Icon
	name   *widget.Label
	detail *widget.Label
}

func newPractitionerRow() fyne.CanvasObject {
	r := &practitionerRow{
		icon:   widget.NewIcon(theme.ConfirmIcon()),
		name:   &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis},
		detail: &widget.Label{Truncation: fyne.TextTruncateEllipsis, SizeName: theme.SizeNameCaptionText},
	}
	r.ExtendBaseWidget(r)
	return r
}

func (r *practitionerRow) set(p *core.Practitioner, st desk.KeyStatus) {
	r.name.SetText(p.Name)
	key := "no key"
	switch st {
	case desk.KeyPresent:
		key = "key " + p.Key.Fingerprint
		r.icon.SetResource(theme.ConfirmIcon())
	case desk.KeyMissing, desk.KeyMismatch:
		key = "key not on this computer"
		r.icon.SetResource(theme.WarningIcon())
	default:
		r.icon.SetResource(theme.WarningIcon())
	}
	r.detail.SetText(p.Server + " · " + key)
}

// CreateRenderer stacks name over details, the key icon on the left.
func (r *practitionerRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, r.icon, nil,
		container.New(layout.NewCustomPaddedVBoxLayout(0), r.name, r.detail)))
}

// practitionerEditor adds or edits a practitioner in a dialog.
type practitionerEditor struct {
	screen *practitionersScreen
	orig   *core.Practitioner
	dialog *dialog.CustomDialog
	name   *keyEntry
	email  *keyEntry
	server *widget.SelectEntry
	notes  map[string]*widget.Label
}

func newPractitionerEditor(s *practitionersScreen, p *core.Practitioner) *practitionerEditor {
	e := &practitionerEditor{screen: s, orig: p, notes: map[string]*widget.Label{}}
	if p == nil {
		p = &core.Practitioner{Server: "us"}
	}
	e.name = newKeyEntry()
	e.name.SetText(p.Name)
	e.name.PlaceHolder = "as colleagues know them, e.g. Dr Lee"
	e.email = newKeyEntry()
	e.email.SetText(p.Email)
	e.email.PlaceHolder = "optional"
	e.server = widget.NewSelectEntry(append(slices.Clone(core.Regions), "http://127.0.0.1:7900"))
	e.server.SetText(p.Server)
	for _, k := range []string{"name", "email", "server"} {
		e.notes[k] = newNote()
	}
	setNote(e.notes["server"], "The region of the practitioner's Physitrack account (us, uk, ie, ca, au, nz, staging), a custom https:// address, or http://127.0.0.1:7900 for the sandbox on this computer.", widget.MediumImportance)
	for _, en := range []*keyEntry{e.name, e.email} {
		en.onEscape = e.cancel
		en.OnSubmitted = func(string) { e.save() }
		en.OnChanged = func(string) { e.check() }
	}
	e.server.OnChanged = func(string) { e.check() }

	form := container.New(layout.NewFormLayout(),
		&widget.Label{Text: "Name", TextStyle: fyne.TextStyle{Bold: true}}, container.NewVBox(e.name, e.notes["name"]),
		&widget.Label{Text: "Email", TextStyle: fyne.TextStyle{Bold: true}}, container.NewVBox(e.email, e.notes["email"]),
		&widget.Label{Text: "Physitrack server", TextStyle: fyne.TextStyle{Bold: true}}, container.NewVBox(e.server, e.notes["server"]),
	)
	title := "Add practitioner"
	confirm := "Add"
	if e.orig != nil {
		title = "Edit " + e.orig.Name
		confirm = "Save"
	}
	e.dialog = dialog.NewCustomWithoutButtons(title, form, s.win)
	e.dialog.SetButtons([]fyne.CanvasObject{
		&widget.Button{Text: "Cancel", OnTapped: e.cancel},
		&widget.Button{Text: confirm, Importance: widget.HighImportance, OnTapped: e.save},
	})
	e.dialog.Resize(fyne.NewSize(560, 0))
	e.check()
	return e
}

func (e *practitionerEditor) show() {
	e.dialog.Show()
	e.screen.win.Canvas().Focus(e.name)
}

func (e *practitionerEditor) cancel() { e.dialog.Hide() }

// practitioner is the dialog's content.
func (e *practitionerEditor) practitioner() core.Practitioner {
	var p core.Practitioner
	if e.orig != nil {
		p = *e.orig
	}
	p.Name, p.Email, p.Server = e.name.Text, e.email.Text, e.server.Text
	return p
}

// check shows, under each field, what core's rules say about it.
func (e *practitionerEditor) check() error {
	p := e.practitioner()
	err := p.Normalize()
	field := core.ErrorField(err)
	for k, n := range e.notes {
		switch {
		case k == field:
			setNote(n, core.ErrorMessage(err), widget.DangerImportance)
		case k == "server":
			origin, oerr := core.ServerOrigin(e.server.Text)
			if oerr == nil {
				setNote(n, "Signs in at "+origin, widget.MediumImportance)
			}
		default:
			setNote(n, "", widget.MediumImportance)
		}
	}
	return err
}

func (e *practitionerEditor) save() {
	if err := e.check(); err != nil {
		return
	}
	s := e.screen
	a := s.app
	p := e.practitioner()
	var saved *core.Practitioner
	var err error
	if e.orig == nil {
		saved, err = a.desk.AddPractitioner(a.ctx, p)
	} else {
		saved, err = a.desk.EditPractitioner(a.ctx, p)
	}
	if err != nil {
		if n := e.notes[core.ErrorField(err)]; n != nil {
			setNote(n, core.ErrorMessage(err), widget.DangerImportance)
			return
		}
		a.showError(err, s.win)
		return
	}
	e.dialog.Hide()
	s.editor = nil
	s.changed(saved.ID)
}
