package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"ptdesk/assets"
	"ptdesk/core"
)

// recentInTray is how many recent patients the tray offers.
const recentInTray = 5

// buildTrayMenu is the tray menu for the current state: search, the current
// practitioner's recent patients (choosing one opens it in Physitrack right
// away), the practitioner switch, settings, quit.
func (a *App) buildTrayMenu() *fyne.Menu {
	search := fyne.NewMenuItem("Search patients…", a.ShowSearch)

	recent := fyne.NewMenuItem("Recent patients", nil)
	recent.ChildMenu = fyne.NewMenu("Recent patients", a.recentItems()...)

	who := "Practitioner"
	if a.current != nil {
		who = "Practitioner: " + a.current.Name
	}
	switchTo := fyne.NewMenuItem(who, nil)
	switchTo.ChildMenu = fyne.NewMenu(who, a.practitionerItems()...)

	settings := fyne.NewMenuItem("Settings…", a.showSettings)
	quit := fyne.NewMenuItem("Quit", a.fyne.Quit)
	quit.IsQuit = true
	return fyne.NewMenu("PT Desk", search, recent, switchTo, fyne.NewMenuItemSeparator(), settings, fyne.NewMenuItemSeparator(), quit)
}

func (a *App) recentItems() []*fyne.MenuItem {
	disabled := func(label string) []*fyne.MenuItem {
		it := fyne.NewMenuItem(label, nil)
		it.Disabled = true
		return []*fyne.MenuItem{it}
	}
	if a.current == nil {
		return disabled("Choose a practitioner first")
	}
	ps, err := a.desk.RecentPatients(a.ctx, a.current.ID, recentInTray)
	if err != nil {
		return disabled(core.ErrorMessage(err))
	}
	if len(ps) == 0 {
		return disabled("No recent patients")
	}
	items := make([]*fyne.MenuItem, len(ps))
	for i, p := range ps {
		items[i] = fyne.NewMenuItem(trayPatientLabel(p), func() { a.openPatient(p, true) })
	}
	return items
}

// trayPatientLabel tells patients with the same name apart.
func trayPatientLabel(p *core.Patient) string {
	if p.BirthYear != 0 {
		return fmt.Sprintf("%s (%d)", p.FullName(), p.BirthYear)
	}
	return fmt.Sprintf("%s (id %s)", p.FullName(), p.ID)
}

func (a *App) practitionerItems() []*fyne.MenuItem {
	if len(a.practitioners) == 0 {
		it := fyne.NewMenuItem("Add practitioners…", a.showPractitioners)
		return []*fyne.MenuItem{it}
	}
	items := make([]*fyne.MenuItem, len(a.practitioners))
	for i, p := range a.practitioners {
		id := p.ID
		it := fyne.NewMenuItem(a.practitionerLabel(p), func() { a.switchPractitioner(id, true) })
		it.Checked = a.current != nil && a.current.ID == id
		items[i] = it
	}
	return items
}

// refreshTray rebuilds the tray menu; it runs whenever recents or
// practitioners change, never on a timer.
func (a *App) refreshTray() {
	a.trayMenu = a.buildTrayMenu()
	if !a.opts.Tray {
		return
	}
	d, ok := a.fyne.(desktop.App)
	if !ok {
		return
	}
	d.SetSystemTrayMenu(a.trayMenu)
	if !a.trayInstalled {
		a.trayInstalled = true
		d.SetSystemTrayIcon(assets.Icon)
		// A click on the icon shows the window. Fyne then makes closing
		// hide the window; closeWindow decides that instead (no tray host:
		// quit).
		d.SetSystemTrayWindow(a.win)
		a.win.SetCloseIntercept(a.closeWindow)
	}
}
