package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// This file is what a desk sharing the clinic's directory needs: the store
// and its "Test connection" in the settings, refreshing when other desks
// change the directory, and on which desks a practitioner's key is set up.

// followChanges refreshes the search results, the tray's recents, the
// Programs tabs and the Inbox when the directory changes (on a shared
// database, whenever any desk writes), until ctx ends.
func (a *App) followChanges(ctx context.Context) {
	for c := range a.desk.Changes(ctx) {
		fyne.Do(func() { a.onChange(c) })
	}
}

// onChange refreshes what a change concerns.
func (a *App) onChange(c core.Change) {
	switch c.Kind {
	case core.ChangePatient:
		a.refreshSearchKeepingSelection()
		a.refreshTray()
	case core.ChangeRecent:
		a.recentsChanged()
	case core.ChangeProgram:
		a.programsChanged(c.ID)
	case core.ChangeInbox:
		a.inboxChanged()
	case core.ChangePractitioner:
		a.practitionersChanged()
	default: // core.ChangeAll, and kinds this version does not know
		a.refreshSearchKeepingSelection()
		a.refreshTray()
		a.programsChanged("")
		a.inboxChanged()
	}
}

// refreshSearchKeepingSelection reruns the search and keeps the patient the
// user had selected, so that a change at another desk never moves the
// selection under the user's Enter.
func (a *App) refreshSearchKeepingSelection() {
	var keep string
	if p := a.search.selectedPatient(); p != nil {
		keep = p.ID
	}
	a.search.refresh()
	if keep == "" {
		return
	}
	if p := a.search.selectedPatient(); p != nil && p.ID == keep {
		return
	}
	for i, p := range a.search.results {
		if p.ID == keep {
			a.search.selectIndex(i)
			return
		}
	}
}

// storeSection is the settings' part about the directory's store: where it
// is, a "Test connection" for a clinic's PostgreSQL database, and the
// choice of the database PT Desk opens on this computer from its next
// start. It also shows whether this app receives program webhooks.
type storeSection struct {
	app      *App
	url      *widget.Entry
	result   *widget.Label
	listener *widget.Label
	test     *widget.Button
	// use saves the database last tested, enabled only while the URL
	// typed is the one that passed the test.
	use *widget.Button
	// local goes back to this computer's own directory (SQLite).
	local *widget.Button
	// next says which database PT Desk opens at its next start.
	next *widget.Label
	// tested is the URL that passed "Test connection" ("" when none did).
	tested string
}

// newStoreSection builds the store part of the settings.
func (a *App) newStoreSection() *storeSection {
	s := &storeSection{app: a}
	s.url = &widget.Entry{PlaceHolder: "postgres://user@server:5432/clinic"}
	s.url.Password = true // a connection string may carry a password
	s.url.OnSubmitted = func(string) { s.onTest() }
	s.url.OnChanged = s.onURLChanged
	s.result = newNote()
	s.listener = newNote()
	s.next = newNote()
	s.test = &widget.Button{Text: "Test connection", Icon: theme.ViewRefreshIcon(), OnTapped: s.onTest}
	s.use = &widget.Button{Text: "Use this database", Icon: theme.ConfirmIcon(), Importance: widget.HighImportance, OnTapped: s.onUse}
	s.use.Disable()
	s.local = &widget.Button{Text: "Use this computer's own directory", Icon: theme.ComputerIcon(), OnTapped: s.onLocal}
	return s
}

// storeDescription says which store the desk uses, never its password.
func storeDescription(d *desk.Desk) string {
	if _, shared := d.Store().(core.KeyPresenceStore); !shared {
		return "This computer's own directory (SQLite) in the data folder."
	}
	return "The clinic's shared database (PostgreSQL): every desk sees the same patients."
}

// buildUI lays the section out for the settings' form.
func (s *storeSection) buildUI() fyne.CanvasObject {
	what := &widget.Label{Text: storeDescription(s.app.desk), Wrapping: fyne.TextWrapWord}
	hint := newNote()
	setNote(hint, "To share one directory between desks, type the clinic's PostgreSQL URL, test the connection, then use the database: PT Desk switches to it at its next start. The password goes to this computer's keyring, never to a file.", widget.MediumImportance)
	s.refreshListener()
	s.refreshNext()
	return container.NewVBox(what, container.NewBorder(nil, nil, nil, s.test, s.url), s.result,
		container.NewHBox(s.use, s.local), s.next, hint, s.listener)
}

// refreshListener shows the program listener's status line.
func (s *storeSection) refreshListener() {
	setNote(s.listener, s.app.ListenerStatus(), widget.MediumImportance)
}

// refreshNext says which database PT Desk opens at its next start (the
// password masked), and offers the way back to this computer's own
// directory when another is saved.
func (s *storeSection) refreshNext() {
	next, err := s.app.desk.NextDatabase()
	if err != nil {
		setNote(s.next, "At its next start: "+core.ErrorMessage(err), widget.DangerImportance)
		s.local.Enable()
		return
	}
	if next.Source == desk.SourceSaved {
		s.local.Enable()
	} else {
		s.local.Disable()
	}
	where := "this computer's own directory (SQLite)"
	if next.Shared() {
		where = "the clinic database " + next.Masked()
	} else if next.Setting != "" {
		where = "the directory " + next.Masked()
	}
	text := "At its next start PT Desk opens " + where + "."
	switch next.Source {
	case desk.SourceSaved:
		text = "At its next start PT Desk opens " + where + ", as saved on this computer."
	case desk.SourceEnv:
		text = fmt.Sprintf("At its next start PT Desk opens %s, as %s on this computer says; it outranks a choice saved here.", where, desk.DatabaseEnv)
	}
	setNote(s.next, text, widget.MediumImportance)
}

// window is where the section's dialogs show: the settings window.
func (s *storeSection) window() fyne.Window {
	if s.app.settings != nil {
		return s.app.settings.win
	}
	return s.app.win
}

// onURLChanged withdraws "Use this database" once the URL is no longer
// the one that passed the test.
func (s *storeSection) onURLChanged(text string) {
	if s.tested != "" && strings.TrimSpace(text) != s.tested {
		s.tested = ""
		s.use.Disable()
	}
}

// urlField names the entry in the settings' messages.
const urlField = "Clinic database URL"

// onTest connects to the typed database off the UI thread. Only a
// database that passed can be used.
func (s *storeSection) onTest() {
	a := s.app
	setting := strings.TrimSpace(s.url.Text)
	s.tested = ""
	s.use.Disable()
	if !strings.HasPrefix(setting, "postgres://") && !strings.HasPrefix(setting, "postgresql://") {
		setNote(s.result, urlField+": type the clinic database's URL, starting with postgres://, such as postgres://ptdesk@server:5432/clinic.", widget.DangerImportance)
		return
	}
	setNote(s.result, "Connecting…", widget.MediumImportance)
	s.test.Disable()
	ctx, home := a.ctx, a.desk.Home()
	a.goBackground(func() {
		err := desk.TestDatabase(ctx, setting, home)
		fyne.Do(func() {
			s.test.Enable()
			if err != nil {
				msg := "Could not use this database: " + core.ErrorMessage(err)
				if core.ErrorField(err) == "db" && core.ErrorCode(err) == core.EINVALID {
					msg = urlField + ": " + core.ErrorMessage(err)
				}
				setNote(s.result, msg, widget.DangerImportance)
				return
			}
			if strings.TrimSpace(s.url.Text) != setting {
				return // typed on meanwhile: that URL is not tested
			}
			s.tested = setting
			s.use.Enable()
			setNote(s.result, "Connected: the clinic's directory is ready on this database. Use it to open it from PT Desk's next start.", widget.SuccessImportance)
		})
	})
}

// onUse saves the tested database as this computer's choice.
func (s *storeSection) onUse() {
	if s.tested == "" {
		return
	}
	s.save(s.tested, "PT Desk will open the clinic database from its next start.")
}

// onLocal goes back to this computer's own directory after confirmation.
func (s *storeSection) onLocal() {
	confirm(s.window(), "Use this computer's own directory?",
		"PT Desk will open this computer's own directory (SQLite) from its next start, instead of the clinic database. The clinic database keeps its patients; the other desks go on using it.",
		"Use this computer's directory", widget.WarningImportance, func() {
			s.save("sqlite", "PT Desk will open this computer's own directory from its next start.")
		})
}

// save saves setting as the database PT Desk opens from its next start,
// off the UI thread (the keyring may take a moment), then says that PT
// Desk must restart to switch.
func (s *storeSection) save(setting, done string) {
	a := s.app
	s.use.Disable()
	a.goBackground(func() {
		err := a.desk.UseDatabase(setting)
		fyne.Do(func() {
			s.refreshNext()
			if err != nil {
				if s.tested != "" {
					s.use.Enable()
				}
				setNote(s.result, "Not saved: "+core.ErrorMessage(err), widget.DangerImportance)
				return
			}
			s.tested = ""
			setNote(s.result, "Saved. "+done, widget.SuccessImportance)
			s.offerRestart(done)
		})
	})
}

// offerRestart says that switching databases takes a restart, and offers
// to quit now: the directory in use stays open until PT Desk quits.
func (s *storeSection) offerRestart(done string) {
	msg := &widget.Label{Wrapping: fyne.TextWrapWord,
		Text: done + " To switch now, quit PT Desk and start it again."}
	d := dialog.NewCustomConfirm("Restart PT Desk to switch", "Quit PT Desk now", "Later", msg, func(quit bool) {
		if quit {
			s.app.fyne.Quit()
		}
	}, s.window())
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
}

// listenerChanged shows the program listener's new state where it is
// shown.
func (a *App) listenerChanged() {
	if a.live != nil && a.live.store != nil {
		a.live.store.refreshListener()
	}
}

// settingsStore is the store section of the settings screen: the row's
// label and content for its form.
func (a *App) settingsStore() []fyne.CanvasObject {
	s := a.newStoreSection()
	a.extras().store = s
	return []fyne.CanvasObject{&widget.Label{Text: "Directory", TextStyle: fyne.TextStyle{Bold: true}}, s.buildUI()}
}

// keyDesksText says on which desks a practitioner's key is set up, so an
// admin knows where to set it up next.
func keyDesksText(ds []desk.KeyDesk, err error) string {
	if err != nil {
		return "Could not tell which desks hold this key: " + core.ErrorMessage(err)
	}
	if len(ds) == 0 {
		return "No desk has reported this practitioner's key yet."
	}
	var parts []string
	for _, d := range ds {
		s := d.Desk
		if d.ThisDesk {
			s += " (this desk)"
		}
		if !d.Current {
			s += " — an old or different key"
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("Key set up on %s: %s.", plural(len(ds), "desk", "desks"), strings.Join(parts, ", "))
}

// keyDesksLabel is a note under a practitioner's key status, filled off
// the UI thread, naming the desks that hold their key.
func (a *App) keyDesksLabel(l *widget.Label, practitionerID string) {
	if practitionerID == "" {
		setNote(l, "", widget.MediumImportance)
		return
	}
	d, ctx := a.desk, a.ctx
	a.goBackground(func() {
		ds, err := d.KeyDesks(ctx, practitionerID)
		fyne.Do(func() { setNote(l, keyDesksText(ds, err), widget.MediumImportance) })
	})
}

// keyDesksNote is the practitioners screen's line naming the desks that
// hold the selected practitioner's key.
func (a *App) keyDesksNote() *widget.Label {
	x := a.extras()
	if x.keyDesks == nil {
		x.keyDesks = newNote()
	}
	return x.keyDesks
}

// showKeyDesks fills keyDesksNote for the practitioner shown.
func (a *App) showKeyDesks(practitionerID string) {
	a.keyDesksLabel(a.keyDesksNote(), practitionerID)
}
