package ui

import (
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
)

// settingsScreen holds the clinic's settings (the integration name, the
// phone region) and this computer's (the data folder, starting at sign-in).
// No key is ever shown or kept here.
type settingsScreen struct {
	app *App
	win fyne.Window

	pmsName     *keyEntry
	pmsNote     *widget.Label
	region      *keyEntry
	regionNote  *widget.Label
	autostart   *widget.Check
	autostartOK *widget.Label
}

func newSettingsScreen(a *App) *settingsScreen {
	s := &settingsScreen{app: a}
	s.win = a.fyne.NewWindow("Settings — PT Desk")
	s.win.SetIcon(a.win.Icon())
	s.win.SetContent(s.buildUI())
	s.win.Resize(fyne.NewSize(680, 640))
	s.win.SetCloseIntercept(s.win.Hide)
	return s
}

func (s *settingsScreen) buildUI() fyne.CanvasObject {
	a := s.app
	s.pmsName = newKeyEntry()
	s.pmsName.PlaceHolder = "as Physitrack gave it, e.g. umbrella_corporation"
	s.pmsName.Validator = core.ValidatePMSName
	s.pmsName.OnSubmitted = func(string) { s.onSavePMSName() }
	s.pmsName.onEscape = s.win.Hide
	s.pmsNote = newNote()
	s.region = newKeyEntry()
	s.region.PlaceHolder = "GB, US, AU…"
	s.region.OnSubmitted = func(string) { s.onSaveRegion() }
	s.region.onEscape = s.win.Hide
	s.regionNote = newNote()

	home := a.desk.Home()
	folder := &widget.Label{Text: home, Wrapping: fyne.TextWrapBreak, Selectable: true}
	openFolder := &widget.Button{Text: "Open folder", Icon: theme.FolderOpenIcon(), OnTapped: s.onOpenFolder}
	if home == "" {
		folder.SetText("The directory is a shared clinic database, not a folder on this computer.")
		openFolder.Hide()
	}

	bold := func(t string) *widget.Label { return &widget.Label{Text: t, TextStyle: fyne.TextStyle{Bold: true}} }
	grid := container.New(layout.NewFormLayout(),
		bold("Integration name"), container.NewVBox(
			container.NewBorder(nil, nil, nil, &widget.Button{Text: "Save", OnTapped: s.onSavePMSName}, s.pmsName), s.pmsNote),
		bold("Phone region"), container.NewVBox(
			container.NewBorder(nil, nil, nil, &widget.Button{Text: "Save", OnTapped: s.onSaveRegion}, s.region), s.regionNote),
		bold("Data folder"), container.NewVBox(folder, container.NewHBox(openFolder)),
		bold("Theme"), &widget.Label{Text: "PT Desk follows your system's light or dark theme.", Wrapping: fyne.TextWrapWord},
	)
	grid.Objects = append(grid.Objects, a.settingsStore()...) // store, Test connection, program listener: shared.go
	content := container.NewVBox(grid)
	if a.opts.Autostart != nil {
		s.autostart = &widget.Check{Text: "Start PT Desk when I sign in", OnChanged: s.onAutostart}
		s.autostartOK = newNote()
		content.Add(widget.NewSeparator())
		content.Add(s.autostart)
		content.Add(s.autostartOK)
	}
	done := &widget.Button{Text: "Close", OnTapped: s.win.Hide}
	return container.NewBorder(nil, container.NewPadded(container.NewHBox(layout.NewSpacer(), done)), nil, nil,
		container.NewVScroll(container.NewPadded(content)))
}

// show reads the settings afresh (ptdeskctl may have changed them) and
// brings the window forward.
func (s *settingsScreen) show() {
	a := s.app
	st, err := a.desk.Settings(a.ctx)
	if err != nil {
		a.showError(err, a.win)
		return
	}
	s.pmsName.SetText(st.PMSName)
	if st.PMSName == "" {
		setNote(s.pmsNote, "Physitrack gives each integration a name; opening patients needs it. Ask Physitrack support if you do not have it.", widget.WarningImportance)
	} else {
		setNote(s.pmsNote, "The name Physitrack gave this clinic's integration.", widget.MediumImportance)
	}
	s.region.SetText(st.PhoneRegion)
	setNote(s.regionNote, "Phone numbers typed without a country code are read as numbers of this country.", widget.MediumImportance)
	if s.autostart != nil {
		on, err := a.opts.Autostart.Enabled()
		s.autostart.OnChanged = nil // showing the state is not a change
		s.autostart.SetChecked(on)
		s.autostart.OnChanged = s.onAutostart
		if err != nil {
			setNote(s.autostartOK, core.ErrorMessage(err), widget.DangerImportance)
		} else {
			setNote(s.autostartOK, "", widget.MediumImportance)
		}
	}
	s.win.Show()
	s.win.RequestFocus()
	s.win.Canvas().Focus(s.pmsName)
}

func (s *settingsScreen) onSavePMSName() {
	a := s.app
	if err := a.desk.SetPMSName(a.ctx, s.pmsName.Text); err != nil {
		setNote(s.pmsNote, core.ErrorMessage(err), widget.DangerImportance)
		return
	}
	setNote(s.pmsNote, "Saved.", widget.SuccessImportance)
	a.search.refresh()
}

func (s *settingsScreen) onSaveRegion() {
	a := s.app
	if err := a.desk.SetPhoneRegion(a.ctx, s.region.Text); err != nil {
		setNote(s.regionNote, core.ErrorMessage(err), widget.DangerImportance)
		return
	}
	st, err := a.desk.Settings(a.ctx)
	if err == nil {
		s.region.SetText(st.PhoneRegion)
	}
	setNote(s.regionNote, "Saved.", widget.SuccessImportance)
}

func (s *settingsScreen) onOpenFolder() {
	u := &url.URL{Scheme: "file", Path: s.app.desk.Home()}
	if err := s.app.opts.OpenURL(u); err != nil {
		s.app.showError(core.Errorf(core.EINTERNAL, "home", "Could not open the folder %s (%v).", s.app.desk.Home(), err), s.win)
	}
}

func (s *settingsScreen) onAutostart(on bool) {
	if err := s.app.opts.Autostart.SetEnabled(on); err != nil {
		setNote(s.autostartOK, core.ErrorMessage(err), widget.DangerImportance)
		return
	}
	if on {
		setNote(s.autostartOK, "PT Desk starts in the tray when you sign in to this computer.", widget.SuccessImportance)
	} else {
		setNote(s.autostartOK, "PT Desk no longer starts by itself.", widget.MediumImportance)
	}
}
