package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
)

// ShowScreen opens screens by name, as a user's clicks would: for demos and
// for the screenshots in docs/. names is a comma-separated sequence of
// "as:PRACTITIONER" (switch to them), "search:QUERY", "patient" (the selected search result, in the form),
// "newpatient" (with a few mistakes typed, to show the checks),
// "practitioners", "key" (a rotation in progress), "refusal:QUERY" (opening
// for a practitioner without a key), "settings" and "tray" (the tray menu,
// shown in the window).
func (a *App) ShowScreen(names string) error {
	for _, name := range strings.Split(names, ",") {
		if err := a.showScreen(strings.TrimSpace(name)); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) showScreen(name string) error {
	screen, arg, _ := strings.Cut(name, ":")
	switch screen {
	case "as":
		for _, p := range a.practitioners {
			if p.Name == arg {
				a.switchPractitioner(p.ID, false)
				return nil
			}
		}
		return core.Errorf(core.ENOTFOUND, "practitioner", "No practitioner named %q.", arg)
	case "search":
		a.search.entry.SetText(arg)
		a.search.focus()
	case "patient":
		a.search.editSelected()
	case "newpatient":
		a.newPatient()
		for field, v := range map[string]string{fieldFirstName: "Ann", fieldEmail: "ann@", fieldPhone: "0791112", fieldBirthYear: "19"} {
			a.form.fields[field].entry.SetText(v)
		}
	case "practitioners":
		a.showPractitioners()
	case "key":
		a.showPractitioners()
		for i, p := range a.admin.items {
			if p.Key != nil {
				a.admin.list.Select(i)
				key, err := a.desk.GenerateKey()
				if err != nil {
					return err
				}
				newKeyView(a.admin, p, key, true).show()
				return nil
			}
		}
		return fmt.Errorf("no practitioner has a key to rotate")
	case "refusal":
		for _, p := range a.practitioners {
			if p.Key == nil {
				a.switchPractitioner(p.ID, false)
				a.search.entry.SetText(arg)
				a.search.openSelected()
				return nil
			}
		}
		return fmt.Errorf("every practitioner has a key")
	case "settings":
		a.showSettings()
	case "tray":
		c := a.win.Canvas()
		m := widget.NewPopUpMenu(a.trayMenu, c)
		m.ShowAtPosition(fyne.NewPos(c.Size().Width-m.MinSize().Width-8, 8))
	default:
		return a.showExtraScreen(screen, arg, name) // import, inbox, programs: importer.go
	}
	return nil
}
