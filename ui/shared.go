package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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
// is, and a "Test connection" for a clinic's PostgreSQL database. It also
// shows whether this app receives program webhooks.
type storeSection struct {
	app      *App
	url      *widget.Entry
	result   *widget.Label
	listener *widget.Label
	test     *widget.Button
}

// newStoreSection builds the store part of the settings.
func (a *App) newStoreSection() *storeSection {
	s := &storeSection{app: a}
	s.url = &widget.Entry{PlaceHolder: "postgres://user@server:5432/clinic"}
	s.url.Password = true // a connection string may carry a password
	s.url.OnSubmitted = func(string) { s.onTest() }
	s.result = newNote()
	s.listener = newNote()
	s.test = &widget.Button{Text: "Test connection", Icon: theme.ViewRefreshIcon(), OnTapped: s.onTest}
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
	setNote(hint, "To share one directory between desks, test the clinic's PostgreSQL connection here, then start PT Desk with --db or PTDESK_DB set to it (see the README).", widget.MediumImportance)
	s.refreshListener()
	return container.NewVBox(what, container.NewBorder(nil, nil, nil, s.test, s.url), s.result, hint, s.listener)
}

// refreshListener shows the program listener's status line.
func (s *storeSection) refreshListener() {
	setNote(s.listener, s.app.ListenerStatus(), widget.MediumImportance)
}

// onTest connects to the typed database off the UI thread.
func (s *storeSection) onTest() {
	a := s.app
	setting := strings.TrimSpace(s.url.Text)
	if !strings.HasPrefix(setting, "postgres://") && !strings.HasPrefix(setting, "postgresql://") {
		setNote(s.result, "Type the clinic database's URL, starting with postgres://.", widget.DangerImportance)
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
				setNote(s.result, "Could not use this database: "+core.ErrorMessage(err), widget.DangerImportance)
				return
			}
			setNote(s.result, "Connected: the clinic's directory is ready on this database.", widget.SuccessImportance)
		})
	})
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
