// Package ui is PT Desk's desktop app: the search window a practitioner
// keeps in the tray all day, the patient form, the practitioners-and-keys
// screen admins use, the settings, and the tray menu. One file per screen;
// each screen is a small struct with a constructor and a buildUI method.
//
// The package talks only to core/desk (the use cases) and core types. It
// never touches SQL, HTTP or the keyring itself, so that the command line
// and the app can never disagree about a rule.
package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime/debug"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/assets"
	"ptdesk/core"
	"ptdesk/core/desk"
)

// Options connect the app to the computer it runs on. The zero value of
// each field is the real thing; tests replace them.
type Options struct {
	// Clock schedules clearing a copied key from the clipboard; nil means
	// the system timer.
	Clock Clock
	// OpenURL opens a web page (a practitioner's Physitrack server) or a
	// folder (the data directory); nil means the app's own OpenURL.
	OpenURL func(*url.URL) error
	// Tray installs the tray icon and menu when the driver has a tray.
	// cmd/ptdesk leaves it off on a desktop without a session bus, where
	// the tray library cannot work.
	Tray bool
	// TrayHost reports, when the window is closed, whether something shows
	// the tray icon, so that hiding leaves a way back. nil means yes
	// whenever the tray is installed.
	TrayHost func() bool
	// OnImport is called by the "Import…" buttons; nil hides them.
	OnImport func()
	// Autostart switches "Start PT Desk when I sign in"; nil hides the
	// option (for example where the platform has no mechanism).
	Autostart Autostart
	// Background runs desk work that must not hold up typing (the check
	// whether the selected patient can be opened); its results come back
	// through fyne.Do. nil means a goroutine. Tests run it in place;
	// benchmarks run it after timing a keystroke.
	Background func(func())
}

// Autostart starts PT Desk when the user signs in to the computer.
type Autostart interface {
	Enabled() (bool, error)
	SetEnabled(on bool) error
}

// App is PT Desk's desktop app: the windows, the tray, and who is at the
// desk (the current practitioner).
type App struct {
	fyne fyne.App
	desk *desk.Desk
	opts Options
	ctx  context.Context
	clip *secretClipboard

	win      fyne.Window
	search   *searchScreen
	admin    *practitionersScreen
	settings *settingsScreen
	form     *patientForm

	storeID       string
	practitioners []*core.Practitioner
	current       *core.Practitioner
	picker        *widget.Select
	pickerIDs     []string // practitioner ids in picker order
	status        *widget.Label
	trayMenu      *fyne.Menu
	hidden        bool

	trayInstalled bool

	live *live // programs, inbox, import, shared store (programs.go)
}

// prefPractitioner is the Preferences key of the current practitioner.
// It is scoped by the directory's store id so that a practitioner chosen
// in one data directory is never picked in another.
const prefPractitioner = "practitioner."

// New builds the app on a, backed by d. It shows nothing until Start.
func New(ctx context.Context, a fyne.App, d *desk.Desk, opts Options) (*App, error) {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.OpenURL == nil {
		opts.OpenURL = a.OpenURL
	}
	if opts.Background == nil {
		opts.Background = func(f func()) { go f() }
	}
	if opts.TrayHost == nil {
		opts.TrayHost = func() bool { return true }
	}
	settings, err := d.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	app := &App{
		fyne:    a,
		desk:    d,
		opts:    opts,
		ctx:     ctx,
		clip:    &secretClipboard{clipboard: a.Clipboard(), clock: opts.Clock},
		storeID: settings.StoreID,
	}
	a.SetIcon(assets.Icon)
	app.wireExtras() // Import… opens the import wizard (importer.go)
	app.buildUI()
	if err := app.reloadPractitioners(); err != nil {
		return nil, err
	}
	app.search.refresh()
	app.trayMenu = app.buildTrayMenu()
	return app, nil
}

// Start shows the search window (unless showWindow is false: started at
// sign-in, PT Desk waits in the tray) and installs the tray. Call it once,
// before the Fyne app runs: the tray library only starts with the app. The
// window comes first so that it does not wait for the tray, which opens a
// window of its own.
func (a *App) Start(showWindow bool) {
	if showWindow {
		a.ShowSearch()
	} else {
		a.hidden = true
	}
	a.refreshTray()
}

// Window is the main (search) window.
func (a *App) Window() fyne.Window { return a.win }

func (a *App) buildUI() {
	a.win = a.fyne.NewWindow("PT Desk")
	a.win.SetIcon(assets.Icon)
	a.status = &widget.Label{Truncation: fyne.TextTruncateEllipsis}
	a.picker = &widget.Select{PlaceHolder: "Choose who is at the desk", OnChanged: a.onPickerChanged}
	a.search = newSearchScreen(a)

	toolbar := container.NewHBox(
		widget.NewIcon(theme.AccountIcon()),
		a.picker,
		layout.NewSpacer(),
		&widget.Button{Text: "New patient", Icon: theme.ContentAddIcon(), OnTapped: a.newPatient},
		&widget.Button{Text: "Practitioners & keys", Icon: theme.LoginIcon(), OnTapped: a.showPractitioners},
		&widget.Button{Text: "Settings", Icon: theme.SettingsIcon(), OnTapped: a.showSettings},
	)
	toolbar.Add(a.inboxButton())    // inbox.go
	a.win.SetMainMenu(a.mainMenu()) // File: Import…, Export…, Inbox (importer.go)
	a.win.SetContent(container.NewBorder(toolbar, a.status, nil, nil, a.search.buildUI()))
	a.win.Resize(fyne.NewSize(980, 600))
	a.win.SetCloseIntercept(a.closeWindow)
	a.addShortcuts(a.win.Canvas())
	a.fyne.Lifecycle().SetOnEnteredForeground(a.onForeground)
}

// onForeground puts the cursor back in the search field when the window
// comes back (from the tray icon, the task bar, Alt+Tab) with nothing
// focused: it was taken away when the window was hidden.
func (a *App) onForeground() {
	a.hidden = false
	if a.win.Canvas().Focused() == nil {
		a.search.focus()
	}
}

// shortcut is one of the window's keyboard shortcuts.
type shortcut struct {
	key    fyne.KeyName
	action func()
}

// shortcuts are the main window's keyboard shortcuts. They are also
// answered by the search field, which receives them while it has focus.
func (a *App) shortcuts() []shortcut {
	return []shortcut{
		{fyne.KeyN, a.newPatient},
		{fyne.KeyE, a.search.editSelected},
		{fyne.KeyF, a.search.focus},
	}
}

func (a *App) addShortcuts(c fyne.Canvas) {
	for _, s := range a.shortcuts() {
		action := s.action
		c.AddShortcut(ctrl(s.key), func(fyne.Shortcut) { action() })
	}
}

// runShortcut runs the window shortcut sc stands for; false if none.
func (a *App) runShortcut(sc fyne.Shortcut) bool {
	for _, s := range a.shortcuts() {
		if isShortcut(sc, s.key) {
			s.action()
			return true
		}
	}
	return false
}

// ShowSearch brings the search window forward with the cursor in the
// search field: what the tray's "Search patients…" and a second start of
// PT Desk do.
func (a *App) ShowSearch() {
	a.hidden = false
	a.win.Show()
	a.win.RequestFocus()
	a.search.focus()
}

// hideToTray hides the window when a tray can bring it back. The search
// field loses focus first so that its cursor stops blinking (and redrawing)
// while nobody can see it.
func (a *App) hideToTray() bool {
	if !a.canHide() {
		return false
	}
	a.win.Canvas().Unfocus()
	a.win.Hide()
	a.hidden = true
	// PT Desk spends most of the day hidden: give the memory the searches
	// used back to the system now, once, rather than whenever the garbage
	// collector gets to it.
	debug.FreeOSMemory()
	return true
}

func (a *App) canHide() bool {
	if !a.opts.Tray {
		return false
	}
	if _, ok := a.fyne.(desktop.App); !ok {
		return false
	}
	return a.opts.TrayHost()
}

// closeWindow hides to the tray when there is one; without a tray, closing
// quits, because nothing could bring the window back.
func (a *App) closeWindow() {
	if !a.hideToTray() {
		a.fyne.Quit()
	}
}

// reloadPractitioners reads the practitioners and restores the current one
// from Preferences; with a single practitioner, that one is current.
func (a *App) reloadPractitioners() error {
	ps, err := a.desk.Practitioners(a.ctx)
	if err != nil {
		return err
	}
	a.practitioners = ps
	want := ""
	if a.current != nil {
		want = a.current.ID
	} else {
		want = a.fyne.Preferences().StringWithFallback(prefPractitioner+a.storeID, "")
	}
	a.current = nil
	for _, p := range ps {
		if p.ID == want {
			a.current = p
		}
	}
	if a.current == nil && len(ps) == 1 {
		a.current = ps[0]
	}
	a.syncPicker()
	return nil
}

// practitionerLabel is how a practitioner appears in pickers and menus;
// the id is added when two share a name, so that nobody picks the wrong one.
func (a *App) practitionerLabel(p *core.Practitioner) string {
	for _, o := range a.practitioners {
		if o.ID != p.ID && o.Name == p.Name {
			return fmt.Sprintf("%s (id %s)", p.Name, p.ID)
		}
	}
	return p.Name
}

// syncPicker shows the practitioners and the current one in the window.
func (a *App) syncPicker() {
	labels := make([]string, len(a.practitioners))
	a.pickerIDs = make([]string, len(a.practitioners))
	for i, p := range a.practitioners {
		labels[i] = a.practitionerLabel(p)
		a.pickerIDs[i] = p.ID
	}
	onChanged := a.picker.OnChanged
	a.picker.OnChanged = nil // programmatic change: not a switch by the user
	a.picker.SetOptions(labels)
	if a.current != nil {
		a.picker.SetSelectedIndex(slices.Index(a.pickerIDs, a.current.ID))
	} else {
		a.picker.ClearSelected()
	}
	a.picker.OnChanged = onChanged
	if len(labels) == 0 {
		a.picker.PlaceHolder = "No practitioners yet"
	} else {
		a.picker.PlaceHolder = "Choose who is at the desk"
	}
	a.picker.Refresh()
	a.updateTitle()
}

func (a *App) updateTitle() {
	if a.current == nil {
		a.win.SetTitle("PT Desk — choose a practitioner")
		return
	}
	a.win.SetTitle("PT Desk — " + a.current.Name)
}

func (a *App) onPickerChanged(string) {
	i := a.picker.SelectedIndex()
	if i < 0 || i >= len(a.pickerIDs) {
		return
	}
	a.switchPractitioner(a.pickerIDs[i], false)
}

// switchPractitioner makes the practitioner with id current, remembers the
// choice, and says what switching means in Physitrack. fromTray also sends
// a notification, because the window may be hidden.
func (a *App) switchPractitioner(id string, fromTray bool) {
	if a.current != nil && a.current.ID == id {
		return
	}
	var next *core.Practitioner
	for _, p := range a.practitioners {
		if p.ID == id {
			next = p
		}
	}
	if next == nil {
		return
	}
	a.current = next
	a.fyne.Preferences().SetString(prefPractitioner+a.storeID, id)
	a.syncPicker()
	msg := fmt.Sprintf("Now opening patients as %s. Physitrack signs out whoever was signed in in the browser when the next patient opens.", next.Name)
	a.announce(msg, fromTray)
	a.search.refresh()
	a.refreshTray()
}

// Current is the practitioner patients open for, nil when none is chosen.
func (a *App) Current() *core.Practitioner { return a.current }

// announce shows a non-blocking message in the status line; notify also
// sends a desktop notification, for actions taken from the tray while the
// window may be hidden.
func (a *App) announce(msg string, notify bool) {
	a.status.SetText(msg)
	if notify && a.hidden {
		a.fyne.SendNotification(fyne.NewNotification("PT Desk", msg))
	}
}

// openPatient signs the current practitioner in to Physitrack on the
// patient's page. Refusals (no key, a missing field) are shown with the
// button that fixes them, before any browser opens.
func (a *App) openPatient(p *core.Patient, fromTray bool) {
	if a.current == nil {
		a.showRefusal(core.Errorf(core.EINVALID, "practitioner", "Choose who is at the desk (the practitioner at the top of the window) before opening a patient."), p)
		return
	}
	who := a.current
	l, err := a.desk.Open(a.ctx, p.ID, who.ID, desk.OpenOptions{})
	if l == nil {
		if fromTray {
			a.ShowSearch()
		}
		a.showRefusal(err, p)
		return
	}
	msg := fmt.Sprintf("Opened %s for %s", l.Patient.FullName(), who.Name)
	if err != nil {
		// The browser opened, but the recents and audit entry were not
		// written: say so rather than pretend.
		msg += " (" + core.ErrorMessage(err) + ")"
	}
	a.announce(msg, fromTray)
	a.recentsChanged()
}

// recentsChanged updates what shows recent patients: the search list when
// the search is empty, and the tray.
func (a *App) recentsChanged() {
	a.search.recentsChanged()
	a.refreshTray()
}

// patientSaved is called by the patient form after a save or archive.
func (a *App) patientSaved(p *core.Patient) {
	a.search.showPatient(p)
	a.refreshTray()
}

// practitionersChanged is called by the admin screen after any change.
func (a *App) practitionersChanged() {
	if err := a.reloadPractitioners(); err != nil {
		a.showError(err, a.win)
	}
	a.search.refresh()
	a.refreshTray()
}

// showError shows err's sentence for people, never a Go error chain.
func (a *App) showError(err error, w fyne.Window) {
	dialog.ShowError(errors.New(core.ErrorMessage(err)), w)
}

// goBackground runs f off the UI thread; f reports to the UI with fyne.Do.
func (a *App) goBackground(f func()) { a.opts.Background(f) }

// fix is the action that removes the cause of a refusal.
type fix struct {
	label  string
	icon   fyne.Resource
	action func()
}

// fixFor chooses the button that fixes a refusal to open p: set up the
// practitioner's key, edit the patient, or open the settings.
func (a *App) fixFor(err error, p *core.Patient) *fix {
	switch core.ErrorField(err) {
	case "key":
		who := a.current
		if who == nil {
			return nil
		}
		return &fix{"Set up key", theme.LoginIcon(), func() { a.setUpKey(who.ID) }}
	case "pms-name":
		return &fix{"Open settings", theme.SettingsIcon(), a.showSettings}
	case "practitioner", "server":
		return &fix{"Practitioners & keys", theme.AccountIcon(), a.showPractitioners}
	case "archived", "":
		return nil
	}
	if p == nil {
		return nil
	}
	field := core.ErrorField(err)
	return &fix{"Edit patient", theme.DocumentCreateIcon(), func() { a.editPatient(p.ID, field) }}
}

// showRefusal explains why a patient was not opened, with the fixing
// button focused so that Enter (or Space) runs it.
func (a *App) showRefusal(err error, p *core.Patient) {
	msg := &widget.Label{Text: core.ErrorMessage(err), Wrapping: fyne.TextWrapWord}
	d := dialog.NewCustomWithoutButtons("Not opened in Physitrack", msg, a.win)
	closeBtn := &widget.Button{Text: "Close", OnTapped: d.Hide}
	buttons := []fyne.CanvasObject{closeBtn}
	focus := fyne.Focusable(closeBtn)
	if f := a.fixFor(err, p); f != nil {
		fixBtn := &widget.Button{Text: f.label, Icon: f.icon, Importance: widget.HighImportance,
			OnTapped: func() { d.Hide(); f.action() }}
		buttons = append(buttons, fixBtn)
		focus = fixBtn
	}
	d.SetButtons(buttons)
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
	a.win.Canvas().Focus(focus)
}

// newPatient opens an empty patient form.
func (a *App) newPatient() {
	a.showPatientForm(nil, "")
}

// editPatient opens the form for the stored patient id, with the cursor in
// field (a core field name) when given.
func (a *App) editPatient(id, field string) {
	p, err := a.desk.Patient(a.ctx, id)
	if err != nil {
		a.showError(err, a.win)
		return
	}
	a.showPatientForm(p, field)
}

func (a *App) showPatientForm(p *core.Patient, field string) {
	if a.form != nil {
		a.form.close()
	}
	a.form = newPatientForm(a, p)
	a.form.show(field)
}

// showPractitioners opens the practitioners-and-keys screen.
func (a *App) showPractitioners() {
	if a.admin == nil {
		a.admin = newPractitionersScreen(a)
	}
	a.admin.show("")
}

// setUpKey opens the practitioners screen on one practitioner and offers to
// generate or paste their key.
func (a *App) setUpKey(practitionerID string) {
	if a.admin == nil {
		a.admin = newPractitionersScreen(a)
	}
	a.admin.show(practitionerID)
	a.admin.offerKeySetup()
}

// showSettings opens the settings window.
func (a *App) showSettings() {
	if a.settings == nil {
		a.settings = newSettingsScreen(a)
	}
	a.settings.show()
}
